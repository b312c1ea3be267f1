"""Waiting on the customer: a complaint put on hold stops its resolution clock until
the team responds, the customer replies, or someone resumes it (`end_wait` in
bot/complaints.py adds the wait to `paused_seconds`; bot/sla.py moves the target)."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from bot.complaints import MAX_NOTE, clean_text, end_wait, get_complaint, record_event, require_manage
from bot.errors import InvalidInput
from bot.permissions import Permissions
from bot.sla import describe
from models.complaints import Complaint, EventKind, Status


def wait_on_customer(
    session: Session, *, complaint_id: int, actor_id: str, note: str, permissions: Permissions, now: datetime
) -> Complaint:
    """Pausing the clock is the owner's or a manager's call: it moves a deadline."""
    complaint = get_complaint(session, complaint_id)
    require_manage(permissions, actor_id, complaint, "pause the clock on")
    if complaint.is_waiting:
        raise InvalidInput(
            f"{complaint.reference} has been waiting on the customer for {describe(now - complaint.waiting_since)}. "
            f"When they answer: `/complaint customer-replied {complaint.reference} <what they said>`."
        )
    if not complaint.is_open:
        raise InvalidInput(f"{complaint.reference} is {complaint.status}: only open complaints wait on the customer.")
    note = clean_text(note, what="note", limit=MAX_NOTE, required=False)
    complaint.status = Status.WAITING.value
    complaint.waiting_since = now
    return record_event(session, complaint, EventKind.WAITING, actor_id, now, note=note)


def customer_replied(session: Session, *, complaint_id: int, actor_id: str, note: str, now: datetime) -> Complaint:
    """What the customer said, kept as their note; a wait on them ends here."""
    complaint = get_complaint(session, complaint_id)
    note = clean_text(note, what="note of what the customer said", limit=MAX_NOTE, required=True)
    record_event(session, complaint, EventKind.CUSTOMER_REPLIED, actor_id, now, note=note)
    return end_wait(session, complaint, actor_id, now)


def resume(session: Session, *, complaint_id: int, actor_id: str, note: str, now: datetime) -> Complaint:
    """Start the clock again without a reply (anyone may: it only ever shortens a deadline)."""
    complaint = get_complaint(session, complaint_id)
    if not complaint.is_waiting:
        raise InvalidInput(f"{complaint.reference} is not waiting on the customer, so its clock is running.")
    note = clean_text(note, what="note", limit=MAX_NOTE, required=False)
    if note:
        record_event(session, complaint, EventKind.NOTED, actor_id, now, note=note)
    return end_wait(session, complaint, actor_id, now)
