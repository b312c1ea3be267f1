"""Requests counted per key and minute in the database, so every process shares the limit.

One INSERT … ON CONFLICT DO UPDATE … RETURNING per request: it counts and reads in one
statement, so two processes never both see the last free slot. Keys are fingerprints
(of an address or a token), never the address itself.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col

from models.db import SessionFactory, unit_of_work
from models.surveys import RateWindow

WINDOW = timedelta(minutes=1)
# Windows are kept a while for looking into abuse, then forgotten.
KEPT = timedelta(hours=1)


def rate_key(kind: str, who: str) -> str:
    return hashlib.sha256(f"{kind}:{who}".encode()).hexdigest()


def window_of(now: datetime) -> datetime:
    return now.replace(second=0, microsecond=0)


def allow(open_session: SessionFactory, *, key: str, limit: int, now: datetime) -> int:
    """0 if this request is within `limit` per minute, else the seconds until the next minute."""
    start = window_of(now)
    with unit_of_work(open_session) as session:
        insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
        statement = insert(RateWindow).values(key=key, window_start=start, hits=1)
        statement = statement.on_conflict_do_update(
            index_elements=["key", "window_start"], set_={"hits": RateWindow.hits + 1},
        ).returning(RateWindow.hits)
        hits = session.execute(statement).scalar_one()
    if hits <= limit:
        return 0
    return max(1, int((start + WINDOW - now).total_seconds() + 0.999))


def forget_old_windows(session: Session, *, now: datetime) -> int:
    return session.exec(delete(RateWindow).where(col(RateWindow.window_start) < now - KEPT)).rowcount
