"""Telling a new owner that a complaint is now theirs: at most once, and later if Slack
was down when it happened.

The intent is the ownership event itself (`logged` or `assigned` to someone other than
the person who did it), saved in the same transaction as the change, before anyone is
told anything. Its key in the notification ledger (models/service_levels.py) is claimed
before the DM is sent and marked sent or failed after. A DM that surely did not go out
(Slack answered an error, or refused the connection) is tried again on later ticks, less
and less often, for a day. A claim left `sending` (the process died mid-send, or Slack
never answered) is not tried again: the DM may have gone out, and the bot cannot read
its DMs back to check, so at most once wins over at least once.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from models.complaints import Complaint, ComplaintEvent, EventKind
from models.db import SessionFactory, unit_of_work
from models.service_levels import Delivery, Notification

KIND = "owner notice"
# The first try is made right after the acknowledgement; the retry job leaves it that long.
RETRY_AFTER = timedelta(seconds=30)
RETRY_FOR = timedelta(days=1)
MAX_ATTEMPTS = 30
# Retries wait RETRY_AFTER, then twice as long each time, up to this many doublings.
MAX_DOUBLINGS = 6
GIVING_EVENTS = (EventKind.LOGGED.value, EventKind.ASSIGNED.value)


@dataclass(frozen=True)
class OwnerNotice:
    event_id: int
    complaint_id: int
    owner_id: str
    actor_id: str

    @property
    def key(self) -> str:
        return f"owner-notice:{self.event_id}"


def _notices(rows: Iterable) -> list[OwnerNotice]:
    return [OwnerNotice(event_id, complaint_id, owner_id, actor_id) for event_id, complaint_id, owner_id, actor_id in rows]


def _giving_events():
    return (
        select(ComplaintEvent.id, ComplaintEvent.complaint_id, ComplaintEvent.owner_id, ComplaintEvent.actor_id)
        .where(col(ComplaintEvent.kind).in_(GIVING_EVENTS), ComplaintEvent.owner_id != "",
               ComplaintEvent.owner_id != ComplaintEvent.actor_id)
    )


def latest_notice(session: Session, *, complaint_id: int, owner_id: str) -> OwnerNotice | None:
    """The notice owed for the newest time `owner_id` was given this complaint by someone else."""
    statement = (
        _giving_events()
        .where(ComplaintEvent.complaint_id == complaint_id, ComplaintEvent.owner_id == owner_id)
        .order_by(col(ComplaintEvent.id).desc()).limit(1)
    )
    found = _notices(session.exec(statement))
    return found[0] if found else None


def claim_first(open_session: SessionFactory, *, notice: OwnerNotice, now: datetime) -> bool:
    """Claim the first try in its own transaction; False if it was claimed already."""
    try:
        with unit_of_work(open_session) as session:
            session.add(Notification(key=notice.key, kind=KIND, claimed_at=now))
    except IntegrityError:
        return False
    return True


def claim_due(open_session: SessionFactory, *, now: datetime) -> list[OwnerNotice]:
    """Claim every notice due another try (or never tried: the process died first) whose
    owner still owns the complaint; each claimed by one process only."""
    with open_session() as session:
        pending = _notices(session.exec(
            _giving_events()
            .join(Complaint, col(Complaint.id) == ComplaintEvent.complaint_id)
            .where(Complaint.owner_id == ComplaintEvent.owner_id,
                   col(ComplaintEvent.at) > now - RETRY_FOR, col(ComplaintEvent.at) <= now - RETRY_AFTER)
            .order_by(col(ComplaintEvent.id))
        ))
        rows = _ledger_rows(session, [notice.key for notice in pending])
    claimed = []
    for notice in pending:
        row = rows.get(notice.key)
        if row is None:
            mine = claim_first(open_session, notice=notice, now=now)
        elif row.status == Delivery.FAILED and row.attempts < MAX_ATTEMPTS and row.claimed_at <= now - _gap(row.attempts):
            mine = _claim_again(open_session, key=notice.key, attempts=row.attempts, now=now)
        else:
            mine = False  # sent, being sent, out of tries, or not yet due
        if mine:
            claimed.append(notice)
    return claimed


def finish(open_session: SessionFactory, *, notice: OwnerNotice, now: datetime, error: str = "",
           channel: str = "", ts: str = "") -> None:
    """Sent (to `channel` at `ts`, kept so a redaction can update it), or surely not sent
    (with Slack's error): tried again later."""
    values = {"status": Delivery.FAILED.value, "error": error[:255]} if error else {"status": Delivery.SENT.value, "sent_at": now}
    with unit_of_work(open_session) as session:
        session.exec(update(Notification).where(Notification.key == notice.key).values(**values))
        if ts:
            session.exec(update(ComplaintEvent).where(ComplaintEvent.id == notice.event_id)
                         .values(notice_channel=channel, notice_ts=ts))


def _gap(attempts: int) -> timedelta:
    return RETRY_AFTER * 2 ** min(attempts - 1, MAX_DOUBLINGS)


def _ledger_rows(session: Session, keys: list[str]) -> dict[str, Notification]:
    found = {}
    for start in range(0, len(keys), 500):
        chunk = keys[start:start + 500]
        found.update((row.key, row) for row in session.exec(select(Notification).where(col(Notification.key).in_(chunk))))
    return found


def _claim_again(open_session: SessionFactory, *, key: str, attempts: int, now: datetime) -> bool:
    """Take back a failed notice; the attempt count in the WHERE clause lets one process win."""
    with unit_of_work(open_session) as session:
        return bool(session.exec(
            update(Notification)
            .where(Notification.key == key, Notification.status == Delivery.FAILED.value, Notification.attempts == attempts)
            .values(status=Delivery.SENDING.value, attempts=attempts + 1, claimed_at=now, error="")
        ).rowcount)
