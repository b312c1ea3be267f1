"""One change to a complaint, however it was asked for (a button, a form or typed text),
named by a domain verb and applied by `apply_change`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlmodel import Session

from bot import complaint_merges, complaint_waiting, complaints
from bot.complaint_edits import Edit, edit_complaint
from bot.errors import InvalidInput
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
    EDIT = "edit"
    MERGE = "merge"
    WAIT = "wait"
    CUSTOMER_REPLIED = "customer_replied"
    RESUME = "resume"


# What only the complaint's owner or a manager may do, as a refusal names it.
MANAGED = {
    Verb.ASSIGN: "reassign", Verb.RESOLVE: "resolve", Verb.REOPEN: "reopen", Verb.EDIT: "edit",
    Verb.WAIT: "pause the clock on",
}


@dataclass(frozen=True)
class Change:
    """`text` is the note, the resolution or the rating's comment; `new_owner_id` is for
    assign; `score` (0-10) for rate, and optionally resolve; `edit` for edit;
    `into_id` the complaint kept by a merge."""

    verb: Verb
    complaint_id: int
    actor_id: str
    text: str = ""
    new_owner_id: str = ""
    score: int | None = None
    edit: Edit | None = None
    into_id: int | None = None


@dataclass(frozen=True)
class Applied:
    """The complaint after the change, who owned it before (to tell a new owner), and
    any other complaint the change touched (a merge's kept complaint)."""

    complaint: Complaint
    previous_owner_id: str
    also_changed: tuple[Complaint, ...] = ()
    verb: Verb | None = None


def check_allowed(*, verb: Verb, actor_id: str, complaint: Complaint, permissions: Permissions) -> None:
    """Refuse early (before a form opens) what `apply_change` would refuse on saving."""
    refuse_merged(complaint)
    if verb in MANAGED and not permissions.can_manage(actor_id, complaint):
        raise complaints.refusal(complaint, MANAGED[verb])


def refuse_merged(complaint: Complaint) -> None:
    """A duplicate is worked on through the complaint it was merged into."""
    if complaint.is_merged:
        raise InvalidInput(
            f"{complaint.reference} was merged into C-{complaint.merged_into_id}: "
            f"please work on C-{complaint.merged_into_id} instead."
        )


def apply_change(session: Session, *, change: Change, permissions: Permissions, now: datetime) -> Applied:
    complaint = complaints.get_complaint(session, change.complaint_id)
    refuse_merged(complaint)
    previous_owner_id = complaint.owner_id
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
        case Verb.EDIT:
            complaint = edit_complaint(session, edit=change.edit or Edit(), permissions=permissions, **common)
        case Verb.MERGE:
            complaint, kept = complaint_merges.merge(session, into_id=change.into_id, permissions=permissions, **common)
            return Applied(complaint, previous_owner_id, also_changed=(kept,), verb=change.verb)
        case Verb.WAIT:
            complaint = complaint_waiting.wait_on_customer(session, note=change.text, permissions=permissions, **common)
        case Verb.CUSTOMER_REPLIED:
            complaint = complaint_waiting.customer_replied(session, note=change.text, **common)
        case Verb.RESUME:
            complaint = complaint_waiting.resume(session, note=change.text, **common)
    return Applied(complaint, previous_owner_id, verb=change.verb)
