"""One change to a complaint, however it was asked for (a button, a form or typed text),
named by a domain verb and applied by `apply_change`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlmodel import Session

from bot import complaints
from bot.permissions import Permissions
from models.complaints import Complaint


class Verb(StrEnum):
    TAKE = "take"
    ASSIGN = "assign"
    RESPONDED = "responded"
    NOTE = "note"
    RESOLVE = "resolve"
    RATE = "rate"
    FOLLOWED_UP = "followed_up"
    REOPEN = "reopen"


# What only the complaint's owner or a manager may do, as a refusal names it.
MANAGED = {Verb.ASSIGN: "reassign", Verb.RESOLVE: "resolve", Verb.REOPEN: "reopen"}


@dataclass(frozen=True)
class Change:
    """`text` is the note, the resolution or the rating's comment; `new_owner_id` is for
    assign; `score` (0-10) for rate, and optionally resolve."""

    verb: Verb
    complaint_id: int
    actor_id: str
    text: str = ""
    new_owner_id: str = ""
    score: int | None = None


@dataclass(frozen=True)
class Applied:
    """The complaint after the change, and who owned it before (to tell a new owner)."""

    complaint: Complaint
    previous_owner_id: str


def check_allowed(*, verb: Verb, actor_id: str, complaint: Complaint, permissions: Permissions) -> None:
    """Refuse early (before a form opens) what `apply_change` would refuse on saving."""
    if verb in MANAGED and not permissions.can_manage(actor_id, complaint):
        raise complaints.refusal(complaint, MANAGED[verb])


def apply_change(session: Session, *, change: Change, permissions: Permissions, now: datetime) -> Applied:
    previous_owner_id = complaints.get_complaint(session, change.complaint_id).owner_id
    common = {"complaint_id": change.complaint_id, "actor_id": change.actor_id, "now": now}
    match change.verb:
        case Verb.TAKE:
            complaint = complaints.take(session, **common)
        case Verb.ASSIGN:
            complaint = complaints.assign(session, new_owner_id=change.new_owner_id, permissions=permissions, **common)
        case Verb.RESPONDED:
            complaint = complaints.record_response(session, note=change.text, **common)
        case Verb.NOTE:
            complaint = complaints.add_note(session, note=change.text, **common)
        case Verb.RESOLVE:
            complaint = complaints.resolve(
                session, resolution=change.text, permissions=permissions, score=change.score, **common
            )
        case Verb.RATE:
            complaint = complaints.rate(session, score=change.score, comment=change.text, **common)
        case Verb.FOLLOWED_UP:
            complaint = complaints.record_follow_up(session, note=change.text, **common)
        case Verb.REOPEN:
            complaint = complaints.reopen(session, permissions=permissions, **common)
    return Applied(complaint, previous_owner_id)
