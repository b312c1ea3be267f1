"""Group commit: one writer per process saves every complaint queued since its last
commit, in one transaction, and only then tells each request that its complaint is saved.

Logging a complaint is the hot path of the bot: each request's thread checks the draft,
queues the row and waits. The writer takes whatever is queued (one complaint when
the bot is quiet, dozens under a burst), inserts it all in three Core statements plus
the request keys (on PostgreSQL one statement, models/complaint_inserts.py), and
commits once; one commit's cost (SQLite's lock and WAL write, a
PostgreSQL round trip and fsync) is shared by every complaint in it. A request waits
for the commit that holds its row, so nobody is told "logged" for a complaint that is
not saved: a process killed before the commit answers nobody.

A batch that fails fails only its own requests: a row the database refuses (a
request key seen before, a retry from Slack) is found by writing the batch's rows one
transaction each, so the others still commit; a database that is unreachable or
locked fails each request of that batch with its error (the person is asked to try
again), and the writer carries on with the next batch.
"""

from __future__ import annotations

import logging
import queue
import threading
from concurrent.futures import Future
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError, IntegrityError

from bot.complaints import save_new_complaints
from bot.request_dedup import record_keys, repeat_of
from models.complaint_inserts import insert_complaints
from models.complaints import Complaint, saved_complaint
from models.db import SessionFactory

logger = logging.getLogger(__name__)
# Enough for any burst one process can take in; keeps one transaction's statements short.
MOST_PER_COMMIT = 128
# What a retry of the request is told, before the complaint's reference.
LOGGED_AS = "logged as "


@dataclass
class _Queued:
    row: dict  # from bot.complaints.new_complaint_row
    key: str | None  # the Slack request's, which makes its retries harmless
    at: datetime
    saved: Future = field(default_factory=Future)


class ComplaintWriter:
    """The process's one writer of new complaints; its thread starts with the first one
    (after gunicorn's fork, in each worker)."""

    def __init__(self, engine: Engine, open_session: SessionFactory) -> None:
        self._engine = engine
        self._one_statement = engine.dialect.name == "postgresql"
        self._open_session = open_session
        self._queue: queue.SimpleQueue[_Queued] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._starting = threading.Lock()

    def log(self, row: dict, *, key: str | None, now: datetime) -> Complaint:
        """Save a complaint and return it once committed; DuplicateRequest when `key` was
        processed before, or the database's error when it could not be saved."""
        queued = _Queued(row, key, now)
        self._start_once()
        self._queue.put(queued)
        try:
            return queued.saved.result()
        except IntegrityError:
            repeat = repeat_of(self._open_session, key)
            if repeat is None:
                raise
            raise repeat from None

    def _start_once(self) -> None:
        if self._thread is not None:
            return
        with self._starting:
            if self._thread is None:
                self._thread = threading.Thread(target=self._write_forever, name="complaint-writer", daemon=True)
                self._thread.start()

    def _write_forever(self) -> None:
        while True:
            batch = [self._queue.get()]
            while len(batch) < MOST_PER_COMMIT:
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            self._write(batch)

    def _write(self, batch: list[_Queued]) -> None:
        try:
            saved = self._commit(batch)
        except IntegrityError as exc:
            if len(batch) == 1:
                batch[0].saved.set_exception(exc)
                return
            # One row refused: each its own transaction, so only that one fails.
            for queued in batch:
                self._write([queued])
            return
        except Exception as exc:  # noqa: BLE001 — every request of the batch hears of it
            logger.warning("could not save %d complaint(s): %s", len(batch), exc)
            for queued in batch:
                queued.saved.set_exception(exc)
            return
        for queued, complaint in zip(batch, saved):
            queued.saved.set_result(complaint)

    def _commit(self, batch: list[_Queued]) -> list[Complaint]:
        """The batch in one transaction, tried once more on a connection found dropped
        (the pool does not ping first; see bot.request_dedup)."""
        try:
            return self._insert_and_commit(batch)
        except DBAPIError as exc:
            if not exc.connection_invalidated:
                raise
            logger.warning("the database connection was dropped (%s); trying once more", exc.orig)
        return self._insert_and_commit(batch)

    def _insert_and_commit(self, batch: list[_Queued]) -> list[Complaint]:
        rows = [queued.row for queued in batch]
        if self._one_statement:
            keys = [(position, queued.key, queued.at, LOGGED_AS)
                    for position, queued in enumerate(batch) if queued.key is not None]
            with self._engine.begin() as connection:
                ids = connection.execute(*insert_complaints(rows, keys)).scalars().all()
            return [saved_complaint({**row, "id": id_}) for id_, row in zip(ids, rows)]
        with self._engine.begin() as connection:
            saved = save_new_complaints(connection, rows)
            keys = [(queued.key, queued.at, LOGGED_AS + complaint.reference)
                    for queued, complaint in zip(batch, saved) if queued.key is not None]
            if keys:
                record_keys(connection, keys)
        return saved
