"""Every action_id, callback_id and block_id the bot uses, in one place."""

from enum import StrEnum


class Command(StrEnum):
    COMPLAINT = "/complaint"
    KUDOS = "/kudos"
    DESK = "/desk"
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
    # On a resolved complaint's message: kudos to its owner.
    RECOGNISE = "kudos_recognise"
    FOLLOWED_UP = "complaint_followed_up"
    # Under search results: the next page; the value carries the query and the page.
    SEARCH_MORE = "complaint_search_more"
    EDIT = "complaint_edit"
    WAITING = "complaint_waiting"
    CUSTOMER_REPLIED = "complaint_customer_replied"
    RESUME = "complaint_resume"
    # App Home
    HOME_LOG = "home_log_complaint"
    HOME_SEARCH_KB = "home_search_kb"
    HOME_SEARCH_COMPLAINTS = "home_search_complaints"
    # Under complaint search results on the Home tab: the next page, published on the tab.
    HOME_SEARCH_MORE = "home_search_more"
    KB_SHOW = "kb_show"
    KB_SHARE = "kb_share"
    KB_HELPFUL = "kb_helpful"
    KB_NOT_HELPFUL = "kb_not_helpful"
    # Inputs inside modals
    INPUT = "value"


class View(StrEnum):
    LOG_COMPLAINT = "complaint_log"
    COMPLAINT_CHANGE = "complaint_change"
    EDIT_COMPLAINT = "complaint_edit_form"
    GIVE_KUDOS = "kudos_give"
    HOME = "home"
    KB_SEARCH = "home_kb_search"
    COMPLAINT_SEARCH = "home_complaint_search"
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
    SCORE = "score"
    ACTIONS = "complaint_actions"
    KUDOS_RECIPIENTS = "kudos_recipients"
    KUDOS_VALUE = "kudos_value"
    KUDOS_REASON = "kudos_reason"
    KUDOS_COMPLAINT = "kudos_complaint"
    HOME_ACTIONS = "home_actions"
    QUERY = "query"
    KB_RESULT = "kb_result"  # numbered: kb_result_1, kb_result_2, …
    KB_SUGGESTIONS = "kb_suggestions"
    SEARCH_MORE = "complaint_search_more"


class Event(StrEnum):
    """Events API event types the app subscribes to (see manifest.yml)."""

    REACTION_ADDED = "reaction_added"
    REACTION_REMOVED = "reaction_removed"
    APP_HOME_OPENED = "app_home_opened"
