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

from bot.errors import DuplicateRequest, UserFacingError
from models.requests import ProcessedRequest
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

    Raises DuplicateRequest carrying the first run's `summary` for a repeat. The key
    is written after the work, in the same flush as the work's last rows: a repeat
    fails on the key's primary key at commit and rolls back, or, if the first run's
    changes already make the work refuse (a second "resolve"), is recognised by
    its key before the refusal is shown.
    """
    try:
        with unit_of_work(open_session) as session:
            result = work(session)
            if key is not None:
                session.add(ProcessedRequest(key=key[:255], at=now, result=summary(result)[:255]))
            return result
    except (IntegrityError, UserFacingError):
        if key is None:
            raise
        with open_session() as session:
            entry = session.get(ProcessedRequest, key[:255])
        if entry is None:
            raise
        raise DuplicateRequest(key, entry.result) from None
