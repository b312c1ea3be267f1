"""Correcting a complaint: its severity, category, description, customer and how they
contacted us.

Each edit is one `edited` event whose note lists every field it changed, old → new, so
the history keeps what the complaint said before. SLA targets are derived from the
severity whenever they are shown or checked (bot/sla.py), so a new severity moves
them with nothing more to do here; a new name or contact recomputes the customer key.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, fields
from datetime import datetime

from sqlmodel import Session

from bot.complaints import MAX_DESCRIPTION, clean_text, get_complaint, record_event, require_manage
from bot.errors import InvalidInput
from bot.permissions import Permissions
from models.complaints import Complaint, ContactChannel, EventKind, Severity
from models.customers import customer_key

MAX_CUSTOMER_FIELD = 200
# How each field is named in the history, and in a refusal.
LABELS = {
    "severity": "severity",
    "category": "category",
    "description": "description",
    "customer_name": "customer",
    "customer_contact": "contact",
    "contact_channel": "contacted by",
}


# An edit note's earlier customer name or contact: `customer: “Jane Roe” → …`.
EARLIER_CUSTOMER = re.compile(f"(?:{LABELS['customer_name']}|{LABELS['customer_contact']}): “([^”]*)” →")


@dataclass(frozen=True)
class Edit:
    """What to change; None leaves a field as it is ("" clears a customer field)."""

    severity: Severity | None = None
    category: str | None = None
    description: str | None = None
    customer_name: str | None = None
    customer_contact: str | None = None
    contact_channel: ContactChannel | None = None

    @property
    def is_empty(self) -> bool:
        return all(getattr(self, field.name) is None for field in fields(self))


def edit_complaint(
    session: Session, *, complaint_id: int, actor_id: str, edit: Edit, permissions: Permissions, now: datetime
) -> Complaint:
    complaint = get_complaint(session, complaint_id)
    require_manage(permissions, actor_id, complaint, "edit")
    if edit.is_empty:
        raise InvalidInput(
            f"Say what to change, e.g. `/complaint edit {complaint.reference} !urgent #billing`, "
            "or press *Edit* on the team's message."
        )
    changes = [
        (name, old, new)
        for name, new in _cleaned(edit).items()
        if new is not None and new != (old := getattr(complaint, name))
    ]
    if not changes:
        raise InvalidInput(f"Nothing to change: {complaint.reference} already says that.")
    for name, _, new in changes:
        setattr(complaint, name, new)
    if {"customer_name", "customer_contact"} & {name for name, _, _ in changes}:
        complaint.customer_key = customer_key(contact=complaint.customer_contact, name=complaint.customer_name)
    note = "; ".join(f"{LABELS[name]}: {_shown(old)} → {_shown(new)}" for name, old, new in changes)
    return record_event(session, complaint, EventKind.EDITED, actor_id, now, note=note)


def _cleaned(edit: Edit) -> dict[str, str | None]:
    """The edit's values as they are stored, refusing what would not fit."""
    values = {
        "severity": edit.severity and Severity(edit.severity).value,
        "category": edit.category and edit.category.strip().lower()[:40],
        "description": None if edit.description is None else clean_text(
            edit.description, what="new description", limit=MAX_DESCRIPTION, required=True
        ),
        "contact_channel": edit.contact_channel and ContactChannel(edit.contact_channel).value,
    }
    for name in ("customer_name", "customer_contact"):
        value = getattr(edit, name)
        values[name] = None if value is None else clean_text(
            value, what=f"{LABELS[name]} field", limit=MAX_CUSTOMER_FIELD, required=False
        )
    return {name: values[name] for name in LABELS}  # in the order the history lists them


def earlier_customer_details(note: str) -> list[str]:
    """The names and contacts an `edited` event's note says the customer had before,
    so that redacting the customer also finds them (bot/privacy.py)."""
    return EARLIER_CUSTOMER.findall(note)


def _shown(value: str) -> str:
    return f"“{value}”" if value else "(none)"
