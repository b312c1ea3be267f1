"""The database ledger that makes scheduled sends happen once across processes and restarts.

Sending is three steps: *claim* the notification's key (insert its row, or take back
a failed one) and commit; call Slack; mark it sent or failed. Two processes deciding
the same thing at the same moment both try to insert the same primary key, and only
one transaction commits. A failed send is retried on later ticks, up to
`MAX_ATTEMPTS`; a claim left `sending` by a process that died mid-send is taken back
after `STALE_CLAIM`.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from sqlalchemy import and_, or_, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from models.db import SessionFactory, unit_of_work
from models.service_levels import Delivery, Notification, OwnerReminder

MAX_ATTEMPTS = 3
STALE_CLAIM = timedelta(minutes=15)
EPOCH = datetime(2000, 1, 1, tzinfo=UTC)


def _retryable(now: datetime):
    """Rows that may be claimed again: failed (with tries left) or abandoned mid-send."""
    return or_(
        and_(Notification.status == Delivery.FAILED.value, Notification.attempts < MAX_ATTEMPTS),
        and_(Notification.status == Delivery.SENDING.value, Notification.claimed_at < now - STALE_CLAIM),
    )


def settled_keys(session: Session, keys: Iterable[str], *, now: datetime) -> set[str]:
    """Those of `keys` that are sent, being sent, or out of tries: not to be claimed."""
    keys = list(dict.fromkeys(keys))
    found = set()
    for start in range(0, len(keys), 500):
        chunk = keys[start:start + 500]
        rows = session.exec(select(Notification.key).where(col(Notification.key).in_(chunk), ~_retryable(now)))
        found.update(rows)
    return found


def deliveries(session: Session, keys: Iterable[str], *, settled_by: datetime) -> dict[str, Notification]:
    """The rows of those of `keys` that are settled at `settled_by` (see `settled_keys`), by key."""
    settled = settled_keys(session, keys, now=settled_by)
    rows = session.exec(select(Notification).where(col(Notification.key).in_(list(settled)))) if settled else []
    return {row.key: row for row in rows}


def claim(session: Session, *, keys: Iterable[str], kind: str, now: datetime) -> None:
    """Claim every key in this transaction; IntegrityError (at flush) if another process won.

    Callers commit, then send; `unit_of_work` rolls back a lost claim.
    """
    for key in keys:
        retaken = session.exec(
            update(Notification)
            .where(Notification.key == key, _retryable(now))
            .values(status=Delivery.SENDING.value, attempts=Notification.attempts + 1, claimed_at=now, error="")
        ).rowcount
        if not retaken:
            session.add(Notification(key=key, kind=kind, claimed_at=now))
    session.flush()


def claim_once(open_session: SessionFactory, *, key: str, kind: str, now: datetime) -> bool:
    """Claim one key in its own transaction; False if it is someone else's."""
    try:
        with unit_of_work(open_session) as session:
            claim(session, keys=[key], kind=kind, now=now)
    except IntegrityError:
        return False
    return True


def finish(open_session: SessionFactory, *, keys: Iterable[str], now: datetime, error: str = "") -> None:
    """Record the outcome of a send: sent, or failed with Slack's error (retried later)."""
    values = {"status": Delivery.FAILED.value, "error": error[:255]} if error else {"status": Delivery.SENT.value, "sent_at": now}
    with unit_of_work(open_session) as session:
        session.exec(update(Notification).where(col(Notification.key).in_(list(keys))).values(**values))


def ensure_owner_row(open_session: SessionFactory, owner_id: str) -> None:
    """Make the owner's throttle row exist, so taking a slot is a single conditional UPDATE."""
    try:
        with unit_of_work(open_session) as session:
            if session.get(OwnerReminder, owner_id) is None:
                session.add(OwnerReminder(owner_id=owner_id, last_sent_at=EPOCH))
    except IntegrityError:
        pass  # another process created it first


def take_dm_slot(session: Session, *, owner_id: str, now: datetime, gap: timedelta) -> bool:
    """True (and the slot is taken) unless the owner was reminded less than `gap` ago.

    One UPDATE with the condition in its WHERE clause: of two processes racing,
    PostgreSQL re-checks the condition after the first commits, and SQLite runs one
    writer at a time, so only one of them sees a row updated.
    """
    return bool(
        session.exec(
            update(OwnerReminder)
            .where(OwnerReminder.owner_id == owner_id, OwnerReminder.last_sent_at <= now - gap)
            .values(last_sent_at=now)
        ).rowcount
    )
