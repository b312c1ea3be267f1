"""Block Kit for the complaint forms: logging one, editing it, and the small form each
change button opens. Pure functions from data to views."""

from __future__ import annotations

import json
from collections.abc import Sequence

from bot.satisfaction import score_text
from handlers.blocks import plain, section
from handlers.complaint_views import summary_text
from handlers.ids import Action, Block, View
from handlers.text import truncate
from models.complaints import Complaint, ContactChannel, Severity

SCORES = [str(score) for score in range(10, -1, -1)]

# What each change button asks for, if anything: (modal title, input label, required).
CHANGE_FORMS = {
    Action.NOTE: ("Add a note", "Note", True),
    Action.RESPONDED: ("Responded", "What did you tell the customer? (optional)", False),
    Action.RESOLVE: ("Resolve", "How was it resolved?", True),
    Action.FOLLOWED_UP: ("Followed up", "What did the customer say? (optional)", False),
    Action.REASSIGN: ("Reassign", "New owner", True),
    Action.WAITING: ("Waiting on customer", "What are you waiting for? (optional)", False),
    Action.CUSTOMER_REPLIED: ("Customer replied", "What did the customer say?", True),
}
# The longest description the edit form can hold (Slack's limit for a text input);
# a longer one is edited with `/complaint edit C-42 description …`.
FORM_DESCRIPTION_LIMIT = 3000


def _select(block_id: str, label: str, values: Sequence[str], initial: str) -> dict:
    element = {"type": "static_select", "action_id": Action.INPUT,
               "options": [{"text": plain(v, 75), "value": v} for v in values[:100]]}
    if initial in values:
        element["initial_option"] = {"text": plain(initial, 75), "value": initial}
    return {"type": "input", "block_id": block_id, "label": plain(label, 2000), "element": element}


def _text_input(block_id: str, label: str, *, optional: bool, multiline=False, initial="", max_length=200) -> dict:
    element = {"type": "plain_text_input", "action_id": Action.INPUT, "multiline": multiline, "max_length": max_length}
    if initial:
        element["initial_value"] = truncate(initial, max_length)
    return {"type": "input", "block_id": block_id, "optional": optional, "label": plain(label, 2000), "element": element}


def _customer_and_kind_inputs(
    categories: Sequence[str], *, name: str = "", contact: str = "", channel: str = ContactChannel.OTHER.value,
    category: str = "other", severity: str = Severity.NORMAL.value,
) -> list[dict]:
    """The log form's fields after the description, as the edit form shows them too."""
    return [
        _text_input(Block.CUSTOMER_NAME, "Customer name", optional=True, initial=name),
        _text_input(Block.CUSTOMER_CONTACT, "Customer contact (email or phone)", optional=True, initial=contact),
        _select(Block.CONTACT_CHANNEL, "How did they contact us?", [c.value for c in ContactChannel], channel),
        _select(Block.CATEGORY, "Category", list(categories), category),
        _select(Block.SEVERITY, "Severity", [s.value for s in Severity], severity),
    ]


def log_complaint_modal(
    *,
    categories: Sequence[str],
    reporter_id: str,
    description: str = "",
    metadata: dict | None = None,
) -> dict:
    return {
        "type": "modal",
        "callback_id": View.LOG_COMPLAINT,
        "title": plain("Log a complaint", 24),
        "submit": plain("Log it", 24),
        "close": plain("Cancel", 24),
        "private_metadata": json.dumps(metadata or {})[:3000],
        "blocks": [
            _text_input(Block.DESCRIPTION, "What went wrong?", optional=False, multiline=True, initial=description,
                        max_length=FORM_DESCRIPTION_LIMIT),
            *_customer_and_kind_inputs(categories),
            {
                "type": "input",
                "block_id": Block.OWNER,
                "label": plain("Owner", 2000),
                "element": {"type": "users_select", "action_id": Action.INPUT, "initial_user": reporter_id},
            },
        ],
    }


def edit_complaint_modal(complaint: Complaint, *, categories: Sequence[str]) -> dict:
    """The log form's fields, filled in as the complaint is now (the owner changes by Reassign)."""
    if len(complaint.description) <= FORM_DESCRIPTION_LIMIT:
        description = _text_input(Block.DESCRIPTION, "What went wrong?", optional=False, multiline=True,
                                  initial=complaint.description, max_length=FORM_DESCRIPTION_LIMIT)
    else:
        description = section(
            f"The description is too long for this form; change it with "
            f"`/complaint edit {complaint.reference} description <new text>`."
        )
    return {
        "type": "modal",
        "callback_id": View.EDIT_COMPLAINT,
        "title": plain(f"Edit {complaint.reference}", 24),
        "submit": plain("Save", 24),
        "close": plain("Cancel", 24),
        "private_metadata": json.dumps({"id": complaint.id}),
        "blocks": [
            description,
            *_customer_and_kind_inputs(
                categories, name=complaint.customer_name, contact=complaint.customer_contact,
                channel=complaint.contact_channel, category=complaint.category, severity=complaint.severity,
            ),
        ],
    }


def change_modal(action: Action, complaint: Complaint) -> dict:
    """One small form for note, responded, resolve and reassign."""
    title, label, required = CHANGE_FORMS[action]
    if action is Action.REASSIGN:
        # Named for what it holds: the console shows it as `owner`, as the log form's owner.
        block_id, element = Block.OWNER, {"type": "users_select", "action_id": Action.INPUT}
    else:
        block_id = Block.NOTE
        element = {"type": "plain_text_input", "action_id": Action.INPUT, "multiline": True, "max_length": 3000}
    blocks = [
        section(summary_text(complaint)),
        {"type": "input", "block_id": block_id, "optional": not required, "label": plain(label, 2000), "element": element},
    ]
    if action is Action.RESOLVE:
        blocks.append(score_input())
    return {
        "type": "modal",
        "callback_id": View.COMPLAINT_CHANGE,
        "title": plain(title, 24),
        "submit": plain("Save", 24),
        "close": plain("Cancel", 24),
        "private_metadata": json.dumps({"action": action.value, "id": complaint.id}),
        "blocks": blocks,
    }


def score_input() -> dict:
    """The customer's 0-10 answer, optional: not every customer is asked when it is resolved."""
    return {
        "type": "input",
        "block_id": Block.SCORE,
        "optional": True,
        "label": plain("How likely is the customer to recommend us? (0-10, if asked)", 2000),
        "element": {
            "type": "static_select",
            "action_id": Action.INPUT,
            "placeholder": plain("Their answer", 150),
            # The words every score is shown with: `9/10 — very happy`.
            "options": [{"text": plain(score_text(int(score)), 75), "value": score} for score in SCORES],
        },
    }
