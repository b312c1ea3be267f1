"""Merging a duplicate into the complaint that is kept.

The duplicate is closed with status `merged` and `merged_into_id`; its description
and notes are copied into the kept complaint's history, each saying where it came
from, and its followers follow the kept complaint. Merged complaints are left out of
every figure (bot/digest.py `COUNTED`, lists, reminders, the App Home: they are no
longer open). One level only: a merged complaint cannot be merged into, and one that
others were merged into cannot itself be merged, so every duplicate points straight
at a live complaint.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, select

from bot.complaint_followers import carry_over
from bot.complaints import get_complaint, history, record_event, require_manage, stop_waiting
from bot.errors import InvalidInput
from bot.permissions import Permissions
from models.complaints import Complaint, EventKind, Status

# What of the duplicate's history is copied: whatever someone wrote down.
COPIED_KINDS = {
    EventKind.NOTED.value: "",
    EventKind.RESPONDED.value: " (responded to the customer)",
    EventKind.CUSTOMER_REPLIED.value: " (the customer replied)",
    EventKind.COPIED_NOTE.value: "",
}


def merge(
    session: Session, *, complaint_id: int, into_id: int, actor_id: str, permissions: Permissions, now: datetime
) -> tuple[Complaint, Complaint]:
    """Close `complaint_id` as a duplicate of `into_id`; returns (duplicate, kept)."""
    if complaint_id == into_id:
        raise InvalidInput(f"C-{complaint_id} can't be merged into itself.")
    duplicate, kept = get_complaint(session, complaint_id), get_complaint(session, into_id)
    if duplicate.is_merged:
        raise InvalidInput(f"{duplicate.reference} was already merged into C-{duplicate.merged_into_id}.")
    if kept.is_merged:
        raise InvalidInput(
            f"{kept.reference} was itself merged into C-{kept.merged_into_id}: "
            f"merge {duplicate.reference} into C-{kept.merged_into_id} instead."
        )
    merged_into_duplicate = session.exec(select(Complaint.id).where(Complaint.merged_into_id == duplicate.id)).first()
    if merged_into_duplicate is not None:
        raise InvalidInput(
            f"C-{merged_into_duplicate} was merged into {duplicate.reference}, so {duplicate.reference} is kept; "
            f"merge {kept.reference} into {duplicate.reference} instead."
        )
    for complaint in (duplicate, kept):
        require_manage(permissions, actor_id, complaint, "merge")

    for event in history(session, duplicate.id):
        if event.kind in COPIED_KINDS and event.note:
            record_event(session, kept, EventKind.COPIED_NOTE, event.actor_id, now,
                         note=f"From {duplicate.reference}{COPIED_KINDS[event.kind]}: {event.note}")
    record_event(session, kept, EventKind.MERGED_IN, actor_id, now,
                 note=f"{duplicate.reference}: {duplicate.description}")

    stop_waiting(duplicate, now)
    duplicate.status = Status.MERGED.value
    duplicate.merged_into_id = kept.id
    duplicate.resolved_at = duplicate.resolved_at or now
    duplicate.resolution = duplicate.resolution or f"Duplicate of {kept.reference}."
    record_event(session, duplicate, EventKind.MERGED, actor_id, now, note=f"into {kept.reference}")
    carry_over(session, duplicate_id=duplicate.id, kept_id=kept.id, now=now)
    return duplicate, kept
