"""The conversation on the card: notes, responses and resolutions posted as replies in
the thread of the complaint's team message.

Each reply is queued in the transaction that records its event (bot/complaints.py
`record_event`), so saving never waits on Slack and a reply is never lost to a failure.
It is posted once the team message exists: straight after the change when it does,
else as soon as the message is posted. One that fails is tried again at the team
message's own pace (bot/team_copies.py): every RETRY_EVERY, for RETRY_FOR after the
event; after that it is dropped with a log line (the history keeps it, `show` lists it).
Each try is claimed by one process, by a conditional UPDATE of its row.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, delete, or_, update
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from bot.team_copies import RETRY_EVERY, RETRY_FOR
from models.complaints import Complaint, ComplaintEvent, EventKind, PendingThreadReply
from models.db import SessionFactory, unit_of_work


@dataclass(frozen=True)
class ThreadReply:
    """One reply to post: what happened, and where the team message is."""

    event_id: int
    reference: str
    kind: EventKind
    actor_id: str
    note: str
    channel: str
    thread_ts: str


def claim_for_complaint(open_session: SessionFactory, *, complaint_id: int, now: datetime) -> list[ThreadReply]:
    """The complaint's replies due now, claimed for this process, oldest first; none
    while its team message is not posted."""
    return _claim(open_session, _FOR_COMPLAINT, {"complaint_id": complaint_id}, now=now)


def claim_due(open_session: SessionFactory, *, now: datetime, limit: int = 50) -> list[ThreadReply]:
    """Replies due another try (their team message posted late, or an earlier try failed)."""
    return _claim(open_session, _replies_where(_PENDING.created_at > bindparam("created_after")).limit(limit),
                  {"created_after": now - RETRY_FOR}, now=now)


def posted(open_session: SessionFactory, *, event_id: int, ts: str) -> None:
    """The reply is in the thread: no longer pending, and its ts kept with its event, so
    redacting the note can redact the reply too (`posted_reply`)."""
    with unit_of_work(open_session) as session:
        session.exec(delete(PendingThreadReply).where(col(PendingThreadReply.event_id) == event_id))
        session.exec(update(ComplaintEvent).where(col(ComplaintEvent.id) == event_id).values(reply_ts=ts))


def posted_reply(session: Session, *, event_id: int) -> tuple[ThreadReply, str] | None:
    """The reply posted for this history entry, with its own ts; None if none was posted
    (a privacy redaction shows it again redacted)."""
    row = session.exec(
        select(ComplaintEvent, Complaint).join(Complaint, col(Complaint.id) == ComplaintEvent.complaint_id)
        .where(ComplaintEvent.id == event_id, ComplaintEvent.reply_ts != "")
    ).first()
    if row is None:
        return None
    event, complaint = row
    return _reply(event, complaint), event.reply_ts


def failed(open_session: SessionFactory, *, event_id: int, error: str) -> None:
    """Keep the reply for a later try, with Slack's answer."""
    with unit_of_work(open_session) as session:
        session.exec(update(PendingThreadReply).where(col(PendingThreadReply.event_id) == event_id)
                     .values(error=error[:255]))


def drop_expired(open_session: SessionFactory, *, now: datetime) -> int:
    """Forget replies older than RETRY_FOR (their team message never came, or Slack kept
    refusing them); returns how many."""
    with unit_of_work(open_session) as session:
        return session.exec(
            delete(PendingThreadReply).where(col(PendingThreadReply.created_at) <= now - RETRY_FOR)
        ).rowcount


def _due(tried_before):
    """Not tried yet, or last tried before `tried_before`, RETRY_EVERY ago (it failed, or its process died)."""
    return or_(_PENDING.tried_at.is_(None), _PENDING.tried_at <= tried_before)


def _claim(open_session: SessionFactory, statement, values: dict, *, now: datetime) -> list[ThreadReply]:
    # Read, then claim in a transaction that starts with its first write (a SQLite
    # transaction that read first could not take the write lock after another process wrote).
    # The read is Core, columns only, its statement built once: it runs for every team
    # copy posted, mostly to find nothing, and the ORM's loading cost several times the query.
    with open_session() as session:
        rows = session.connection().execute(statement, {**values, "tried_before": now - RETRY_EVERY}).all()
    if not rows:
        return []
    with unit_of_work(open_session) as session:
        return [ThreadReply(event_id=row.event_id, reference=f"C-{row.complaint_id}", kind=EventKind(row.kind),
                            actor_id=row.actor_id, note=row.note, channel=row.slack_channel, thread_ts=row.slack_ts)
                for row in rows if _take(session, row.event_id, now)]


_EVENT, _COMPLAINT, _PENDING = ComplaintEvent.__table__.c, Complaint.__table__.c, PendingThreadReply.__table__.c
_REPLIES = (PendingThreadReply.__table__.join(ComplaintEvent.__table__, _PENDING.event_id == _EVENT.id)
            .join(Complaint.__table__, _COMPLAINT.id == _PENDING.complaint_id))


def _replies_where(condition):
    """The replies meeting `condition` that are due (`tried_before` is bound per call) and
    whose team message is posted, oldest first."""
    return (
        sa_select(_EVENT.id.label("event_id"), _EVENT.kind, _EVENT.actor_id, _EVENT.note,
                  _COMPLAINT.id.label("complaint_id"), _COMPLAINT.slack_channel, _COMPLAINT.slack_ts)
        .select_from(_REPLIES)
        .where(condition, _due(bindparam("tried_before")), _COMPLAINT.slack_ts != "")
        .order_by(_PENDING.event_id)
    )


_FOR_COMPLAINT = _replies_where(_PENDING.complaint_id == bindparam("complaint_id")).limit(50)


def _take(session: Session, event_id: int, now: datetime) -> bool:
    """Claim one reply; False if another process took it first."""
    return bool(session.exec(
        update(PendingThreadReply).where(col(PendingThreadReply.event_id) == event_id, _due(now - RETRY_EVERY))
        .values(tried_at=now, tries=PendingThreadReply.tries + 1)
    ).rowcount)


def _reply(event: ComplaintEvent, complaint: Complaint) -> ThreadReply:
    return ThreadReply(
        event_id=event.id, reference=complaint.reference, kind=EventKind(event.kind), actor_id=event.actor_id,
        note=event.note, channel=complaint.slack_channel, thread_ts=complaint.slack_ts,
    )
