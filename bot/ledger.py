"""Run a piece of work at most once per Slack request key, across processes.

Slack retries requests it thinks failed, and events can be delivered twice. The key
(a trigger ID, view ID or event ID) is inserted in the same transaction as the work,
so a second delivery fails on the primary key and nothing is written twice.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TypeVar

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from bot.errors import DuplicateRequest
from models.complaints import ProcessedRequest
from models.db import SessionFactory, unit_of_work

T = TypeVar("T")


def run_once(
    open_session: SessionFactory,
    *,
    key: str | None,
    now: datetime,
    work: Callable[[Session], T],
    summary: Callable[[T], str] = lambda _: "",
) -> T:
    """Run `work` in one transaction unless `key` was already processed.

    Raises DuplicateRequest carrying the first run's `summary` for a repeat.
    """
    try:
        with unit_of_work(open_session) as session:
            if key is None:
                return work(session)
            entry = ProcessedRequest(key=key[:255], at=now)
            session.add(entry)
            session.flush()
            result = work(session)
            entry.result = summary(result)[:255]
            return result
    except IntegrityError:
        if key is None:
            raise
        with open_session() as session:
            entry = session.get(ProcessedRequest, key[:255])
        if entry is None:
            raise
        raise DuplicateRequest(key, entry.result) from None
