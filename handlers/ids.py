"""Every action_id, callback_id and block_id the bot uses, in one place."""

from enum import StrEnum


class Command(StrEnum):
    COMPLAINT = "/complaint"
    KB = "/kb"


class Shortcut(StrEnum):
    LOG_FROM_MESSAGE = "log_complaint_from_message"


class Action(StrEnum):
    TAKE = "complaint_take"
    RESPONDED = "complaint_responded"
    NOTE = "complaint_note"
    REASSIGN = "complaint_reassign"
    RESOLVE = "complaint_resolve"
    REOPEN = "complaint_reopen"
    KB_SHOW = "kb_show"
    KB_SHARE = "kb_share"
    KB_HELPFUL = "kb_helpful"
    KB_NOT_HELPFUL = "kb_not_helpful"
    # Inputs inside modals
    INPUT = "value"


class View(StrEnum):
    LOG_COMPLAINT = "complaint_log"
    COMPLAINT_CHANGE = "complaint_change"
    KB_ARTICLE = "kb_article"


class Block(StrEnum):
    CUSTOMER_NAME = "customer_name"
    CUSTOMER_CONTACT = "customer_contact"
    CONTACT_CHANNEL = "contact_channel"
    CATEGORY = "category"
    SEVERITY = "severity"
    DESCRIPTION = "description"
    OWNER = "owner"
    NOTE = "note"
    ACTIONS = "complaint_actions"
    KB_RESULT = "kb_result"  # numbered: kb_result_1, kb_result_2, …
    KB_SUGGESTIONS = "kb_suggestions"


class Event(StrEnum):
    """Events API event types the app subscribes to (see manifest.yml)."""
