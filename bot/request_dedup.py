"""Run a piece of work at most once per Slack request key, across processes.

Slack retries requests it thinks failed, and events can be delivered twice. The key
(a trigger ID, view ID or event ID) is inserted in the same transaction as the work,
so a second delivery fails on the primary key and nothing is written twice.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import TypeVar

from sqlalchemy import Connection, insert
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlmodel import Session

from bot.errors import DuplicateRequest, UserFacingError
from models.requests import ProcessedRequest
from models.db import SessionFactory, unit_of_work

T = TypeVar("T")
logger = logging.getLogger(__name__)
_INSERT_KEY = insert(ProcessedRequest.__table__)


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
    is written after the work, in the same transaction: a repeat fails on the key's
    primary key and rolls back, or, if the first run's
    changes already make the work refuse (a second "resolve"), is recognised by
    its key before the refusal is shown.
    """
    try:
        return _in_one_transaction(open_session, key=key, now=now, work=work, summary=summary)
    except (IntegrityError, UserFacingError):
        repeat = repeat_of(open_session, key)
        if repeat is None:
            raise
        raise repeat from None


def repeat_of(open_session: SessionFactory, key: str | None) -> DuplicateRequest | None:
    """What to raise when the request `key` turns out to have been processed already."""
    if key is None:
        return None
    with open_session() as session:
        entry = session.get(ProcessedRequest, key[:255])
    return None if entry is None else DuplicateRequest(key, entry.result)


def record_keys(connection: Connection, keys: list[tuple[str, datetime, str]]) -> None:
    """Mark requests processed, in the connection's transaction: `(key, when, summary of
    the result)` each, the summary being what a repeat is told."""
    connection.execute(_INSERT_KEY, [{"key": key[:255], "at": at, "result": result[:255]} for key, at, result in keys])


def _in_one_transaction(open_session: SessionFactory, *, key: str | None, now: datetime,
                        work: Callable[[Session], T], summary: Callable[[T], str]) -> T:
    """The work and its key in one transaction, tried again once on a dropped connection.

    The pool does not ping a connection before lending it (a round trip on every
    request), so one closed by the server since (PostgreSQL restarted, an idle timeout)
    fails the first statement; SQLAlchemy then discards the pool's connections and the
    second try opens a fresh one. Nothing was committed, unless the drop came during
    COMMIT itself: then the retry meets its own key and the caller hears DuplicateRequest.
    """
    try:
        return _work_and_key(open_session, key=key, now=now, work=work, summary=summary)
    except DBAPIError as exc:
        if not exc.connection_invalidated:
            raise
        logger.warning("the database connection was dropped (%s); trying once more", exc.orig)
    return _work_and_key(open_session, key=key, now=now, work=work, summary=summary)


def _work_and_key(open_session: SessionFactory, *, key: str | None, now: datetime,
                  work: Callable[[Session], T], summary: Callable[[T], str]) -> T:
    with unit_of_work(open_session) as session:
        result = work(session)
        if key is not None:
            # Core, after the work's own rows (flushed first if it used the ORM).
            session.flush()
            record_keys(session.connection(), [(key, now, summary(result))])
        return result
