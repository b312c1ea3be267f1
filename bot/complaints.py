"""Complaint service: log, own, respond to, resolve and reopen complaints.

Plain Python over a SQLModel session; no Slack payloads here. Every change writes a
`ComplaintEvent` with who and when, and keeps exactly one owner at all times.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection, bindparam, exists, func, insert, update
from sqlmodel import Session, col, select

from bot.errors import InvalidInput, NotAllowed, NotFound
from bot.permissions import Permissions
from bot.satisfaction import rated_note
from bot.sla import describe
from models.complaints import (
    OPEN_STATUSES,
    Complaint,
    ComplaintEvent,
    ComplaintFollower,
    ContactChannel,
    EventKind,
    PendingThreadReply,
    Severity,
    Status,
    saved_complaint,
)
from models.customers import customer_key

MAX_DESCRIPTION = 10_000
MAX_NOTE = 3_000
REFERENCE = re.compile(r"^\s*(?:[cC]-?)?(\d{1,9})\s*$")
SCORE = re.compile(r"^\s*(\d{1,2})(?:\s*/\s*10)?\s*$")
# What of the history the team also reads in the thread of the complaint's message:
# what someone wrote down about the customer (bot/thread_replies.py posts it).
SHARED_IN_THREAD = frozenset({EventKind.NOTED, EventKind.RESPONDED, EventKind.CUSTOMER_REPLIED, EventKind.RESOLVED})


@dataclass(frozen=True)
class ComplaintDraft:
    """What a person filled in to log a complaint."""

    description: str
    severity: Severity = Severity.NORMAL
    category: str = "other"
    owner_id: str | None = None
    customer_name: str = ""
    customer_contact: str = ""
    contact_channel: ContactChannel = ContactChannel.OTHER
    source_permalink: str = ""
    # Where it came from outside Slack (the intake API's `source`); "" for Slack.
    source: str = ""


def parse_reference(text: str) -> int:
    """`C-42`, `c42` or `42` -> 42."""
    match = REFERENCE.match(text or "")
    if not match:
        raise InvalidInput(f"“{text[:40]}” is not a complaint reference; they look like C-42.")
    return int(match.group(1))


def parse_score(text: str) -> int:
    """`9` or `9/10` -> 9; the customer's answer on the 0-10 recommend scale."""
    match = SCORE.match(text or "")
    if not match or int(match.group(1)) > 10:
        raise InvalidInput(
            f"“{(text or '')[:20]}” is not a score. Give the customer's answer from 0 to 10 "
            "to “how likely are you to recommend us?”, e.g. `/complaint rate C-42 9 happy now`."
        )
    return int(match.group(1))


def clean_text(text: str, *, what: str, limit: int, required: bool) -> str:
    """`what` is a noun for the text ("description", "note"), read after "the" and "a"."""
    text = (text or "").strip()
    if required and not text:
        raise InvalidInput(f"Please add a {what}.")
    if len(text) > limit:
        raise InvalidInput(
            f"The {what} is {len(text):,} characters long; the limit is {limit:,}. "
            "Shorten it, and add the rest as a note."
        )
    return text


def log_complaint(
    session: Session, *, draft: ComplaintDraft, reporter_id: str, now: datetime, reporter_follows: bool = True
) -> Complaint:
    """Save a new complaint, its `logged` event and its reporter as a follower in the
    session's transaction; the complaint returned is not in the session.
    `reporter_follows=False` for a reporter nobody can message (an API token)."""
    row = new_complaint_row(draft=draft, reporter_id=reporter_id, now=now)
    return save_new_complaints(session.connection(), [row], reporter_follows=reporter_follows)[0]


def new_complaint_row(*, draft: ComplaintDraft, reporter_id: str, now: datetime) -> dict:
    """The complaint's columns, or InvalidInput saying what is wrong with the draft."""
    description = clean_text(draft.description, what="description", limit=MAX_DESCRIPTION, required=True)
    return {
        "description": description,
        "customer_name": draft.customer_name.strip()[:200],
        "customer_contact": draft.customer_contact.strip()[:200],
        "customer_key": customer_key(contact=draft.customer_contact, name=draft.customer_name),
        "contact_channel": ContactChannel(draft.contact_channel).value,
        "category": draft.category,
        "severity": Severity(draft.severity).value,
        "owner_id": draft.owner_id or reporter_id,
        "reporter_id": reporter_id,
        "source_permalink": draft.source_permalink[:1000],
        "source": draft.source[:40],
        "created_at": now,
        "updated_at": now,
    }


def save_new_complaints(connection: Connection, rows: list[dict], *, reporter_follows: bool = True) -> list[Complaint]:
    """Insert complaints (rows from `new_complaint_row`), each with its `logged` event and
    its reporter following it (`/complaint unfollow` stops that), in the connection's
    transaction.

    The hot path of every complaint logged: three Core statements whatever the number
    of rows (an ORM flush spends about twenty times the SQL's own time in Python).
    """
    ids = connection.execute(_INSERT_COMPLAINTS, rows).scalars().all()
    connection.execute(_INSERT_EVENT, [
        {"complaint_id": id_, "kind": EventKind.LOGGED.value, "actor_id": row["reporter_id"], "at": row["created_at"],
         "owner_id": row["owner_id"], "note": ""} for id_, row in zip(ids, rows)])
    if reporter_follows:
        connection.execute(_INSERT_FOLLOWER, [
            {"complaint_id": id_, "user_id": row["reporter_id"], "since": row["created_at"]} for id_, row in zip(ids, rows)])
    return [saved_complaint({**row, "id": id_}) for id_, row in zip(ids, rows)]


# In the rows' order, so that each id goes with its row when many are inserted at once.
_INSERT_COMPLAINTS = insert(Complaint.__table__).returning(Complaint.__table__.c.id, sort_by_parameter_order=True)
_INSERT_EVENT = insert(ComplaintEvent.__table__)
_INSERT_FOLLOWER = insert(ComplaintFollower.__table__)


def get_complaint(session: Session, complaint_id: int) -> Complaint:
    complaint = session.get(Complaint, complaint_id)
    if complaint is None:
        raise NotFound(f"There is no complaint C-{complaint_id}.")
    return complaint


def history(session: Session, complaint_id: int) -> list[ComplaintEvent]:
    statement = (
        select(ComplaintEvent)
        .where(ComplaintEvent.complaint_id == complaint_id)
        .order_by(col(ComplaintEvent.at), col(ComplaintEvent.id))
    )
    return list(session.exec(statement))


def list_complaints(
    session: Session, *, owner_id: str | None = None, open_only: bool = True, limit: int = 20
) -> tuple[list[Complaint], int]:
    """Return up to `limit` complaints, oldest first, and how many matched in all."""
    conditions = []
    if owner_id is not None:
        conditions.append(Complaint.owner_id == owner_id)
    if open_only:
        conditions.append(col(Complaint.status).in_(OPEN_STATUSES))
    total = session.exec(select(func.count()).select_from(Complaint).where(*conditions)).one()
    rows = session.exec(
        select(Complaint).where(*conditions).order_by(col(Complaint.created_at)).limit(limit)
    )
    return list(rows), total


def take(session: Session, *, complaint_id: int, actor_id: str, now: datetime) -> Complaint:
    """Anyone may step up and own a complaint; the change is recorded."""
    complaint = get_complaint(session, complaint_id)
    if complaint.owner_id == actor_id:
        raise InvalidInput(f"You already own {complaint.reference}.")
    return _change_owner(session, complaint, actor_id, actor_id, now)


def assign(
    session: Session,
    *,
    complaint_id: int,
    actor_id: str,
    new_owner_id: str,
    permissions: Permissions,
    now: datetime,
) -> Complaint:
    complaint = get_complaint(session, complaint_id)
    require_manage(permissions, actor_id, complaint, "reassign")
    if complaint.owner_id == new_owner_id:
        raise InvalidInput(f"<@{new_owner_id}> already owns {complaint.reference}.")
    return _change_owner(session, complaint, new_owner_id, actor_id, now)


def record_response(
    session: Session, *, complaint_id: int, actor_id: str, note: str, now: datetime
) -> Complaint:
    complaint = get_complaint(session, complaint_id)
    note = clean_text(note, what="note", limit=MAX_NOTE, required=False)
    if complaint.first_responded_at is None:
        complaint.first_responded_at = now
    record_event(session, complaint, EventKind.RESPONDED, actor_id, now, note=note)
    # Getting back to the customer is what a wait on them ends with.
    return end_wait(session, complaint, actor_id, now)


def add_note(
    session: Session, *, complaint_id: int, actor_id: str, note: str, now: datetime
) -> Complaint:
    complaint = get_complaint(session, complaint_id)
    note = clean_text(note, what="note", limit=MAX_NOTE, required=True)
    return record_event(session, complaint, EventKind.NOTED, actor_id, now, note=note)


def resolve(
    session: Session,
    *,
    complaint_id: int,
    actor_id: str,
    resolution: str,
    permissions: Permissions,
    now: datetime,
    score: int | None = None,
) -> Complaint:
    """Close a complaint; `score` is the customer's answer if they gave one then."""
    complaint = get_complaint(session, complaint_id)
    require_manage(permissions, actor_id, complaint, "resolve")
    if not complaint.is_open:
        raise InvalidInput(f"{complaint.reference} is already resolved.")
    resolution = clean_text(
        resolution, what="resolution", limit=MAX_NOTE, required=True
    )
    end_wait(session, complaint, actor_id, now)
    complaint.status = Status.RESOLVED.value
    complaint.resolution = resolution
    complaint.resolved_at = now
    record_event(session, complaint, EventKind.RESOLVED, actor_id, now, note=resolution)
    if score is not None:
        rate(session, complaint_id=complaint_id, actor_id=actor_id, score=score, comment="", now=now)
    return complaint


def rate(
    session: Session, *, complaint_id: int, actor_id: str, score: int, comment: str, now: datetime
) -> Complaint:
    """Record the customer's 0-10 answer; the latest one counts, each is kept in the history."""
    complaint = get_complaint(session, complaint_id)
    if not 0 <= score <= 10:
        raise InvalidInput("Scores go from 0 to 10.")
    comment = clean_text(comment, what="comment", limit=MAX_NOTE, required=False)
    complaint.satisfaction_score = score
    complaint.satisfaction_comment = comment
    complaint.satisfaction_at = now
    return record_event(session, complaint, EventKind.RATED, actor_id, now, note=rated_note(score, comment))


def record_follow_up(
    session: Session, *, complaint_id: int, actor_id: str, note: str, now: datetime
) -> Complaint:
    """The owner checked back with the customer after resolving the complaint."""
    complaint = get_complaint(session, complaint_id)
    if complaint.is_open:
        raise InvalidInput(
            f"{complaint.reference} is still open: follow-ups are for after it is resolved. "
            f"Use `/complaint responded {complaint.reference}` to record contact now."
        )
    note = clean_text(note, what="note", limit=MAX_NOTE, required=False)
    complaint.followed_up_at = now
    return record_event(session, complaint, EventKind.FOLLOWED_UP, actor_id, now, note=note)


def reopen(
    session: Session,
    *,
    complaint_id: int,
    actor_id: str,
    permissions: Permissions,
    now: datetime,
) -> Complaint:
    complaint = get_complaint(session, complaint_id)
    require_manage(permissions, actor_id, complaint, "reopen")
    if complaint.is_open:
        raise InvalidInput(f"{complaint.reference} is already open.")
    complaint.status = Status.OPEN.value
    complaint.resolved_at = None
    # A new resolution will need its own follow-up.
    complaint.followed_up_at = None
    return record_event(session, complaint, EventKind.REOPENED, actor_id, now)


def end_wait(session: Session, complaint: Complaint, actor_id: str, now: datetime) -> Complaint:
    """If the complaint waits on the customer, start its resolution clock again.

    The wait's length joins `paused_seconds`, by which the resolution target moves.
    """
    waited = stop_waiting(complaint, now)
    if waited is None:
        return complaint
    complaint.status = Status.OPEN.value
    return record_event(session, complaint, EventKind.RESUMED, actor_id, now, note=f"waited {describe(waited)}")


def stop_waiting(complaint: Complaint, now: datetime) -> timedelta | None:
    """Add the current wait, if any, to `paused_seconds`; returns how long it was."""
    if complaint.waiting_since is None:
        return None
    waited = max(now - complaint.waiting_since, timedelta(0))
    complaint.paused_seconds = (complaint.paused_seconds or 0) + int(waited.total_seconds())
    complaint.waiting_since = None
    return waited


def set_message_location(
    connection: Connection, *, complaint_id: int, channel: str, ts: str
) -> tuple[Complaint, bool]:
    """Remember where the team's copy was posted; returns the complaint as it is now
    (in no session), and whether replies are waiting for its thread.

    One Core UPDATE … RETURNING in the connection's transaction (no ORM session, flush
    or identity map: this runs once per complaint logged): its row lock orders this
    against a concurrent change, so either the change sees where the message is, or
    this returns the changed row, built as the ORM builds a row it reads (no validation
    of what the database holds). The same statement says whether any thread reply is
    pending, which it mostly is not: the caller then need not look for them.
    """
    row = connection.execute(
        _SET_LOCATION, {"complaint_id": complaint_id, "slack_channel": channel, "slack_ts": ts}
    ).one_or_none()
    if row is None:
        raise NotFound(f"There is no complaint C-{complaint_id}.")
    columns = dict(row._mapping)
    replies_waiting = bool(columns.pop(_REPLIES_WAITING))
    return saved_complaint(columns), replies_waiting


_REPLIES_WAITING = "replies_waiting"
_SET_LOCATION = (
    update(Complaint.__table__).where(Complaint.__table__.c.id == bindparam("complaint_id"))
    .values(slack_channel=bindparam("slack_channel"), slack_ts=bindparam("slack_ts"))
    .returning(*Complaint.__table__.c, exists().where(
        PendingThreadReply.__table__.c.complaint_id == Complaint.__table__.c.id).label(_REPLIES_WAITING))
)


def message_location(session: Session, complaint_id: int) -> tuple[str, str]:
    """(channel, ts) of the team's copy of a complaint; empty strings before it is posted."""
    complaint = get_complaint(session, complaint_id)
    return complaint.slack_channel, complaint.slack_ts


def set_source_permalink(session: Session, *, complaint_id: int, permalink: str) -> None:
    get_complaint(session, complaint_id).source_permalink = permalink[:1000]


def require_manage(
    permissions: Permissions, actor_id: str, complaint: Complaint, verb: str
) -> None:
    if not permissions.can_manage(actor_id, complaint):
        raise refusal(complaint, verb)


def refusal(complaint: Complaint, verb: str) -> NotAllowed:
    return NotAllowed(
        f"Sorry, only the owner of {complaint.reference} (<@{complaint.owner_id}>) "
        f"or a manager can {verb} it. You can ask them, or add a note instead."
    )


def _change_owner(
    session: Session, complaint: Complaint, new_owner_id: str, actor_id: str, now: datetime
) -> Complaint:
    complaint.owner_id = new_owner_id
    return record_event(session, complaint, EventKind.ASSIGNED, actor_id, now, owner_id=new_owner_id)


def record_event(
    session: Session,
    complaint: Complaint,
    kind: EventKind,
    actor_id: str,
    now: datetime,
    *,
    owner_id: str = "",
    note: str = "",
) -> Complaint:
    complaint.updated_at = now
    session.add(complaint)
    event = ComplaintEvent(complaint_id=complaint.id, kind=kind.value, actor_id=actor_id, at=now,
                           owner_id=owner_id, note=note)
    session.add(event)
    if kind in SHARED_IN_THREAD:
        # Queued in the same transaction as the event, so no reply is lost to a crash.
        session.flush()
        session.add(PendingThreadReply(event_id=event.id, complaint_id=complaint.id, created_at=now))
    return complaint

