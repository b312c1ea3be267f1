"""The complaint writer (bot/complaint_writer.py): complaints logged at the same time are
committed together, each request returns only once its own row is committed, and a row
the database refuses fails that request alone."""

from __future__ import annotations

import sqlite3
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import UTC, datetime

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError
from sqlmodel import func, select

from bot.complaint_writer import ComplaintWriter
from bot.complaints import ComplaintDraft, new_complaint_row
from bot.errors import DuplicateRequest
from models.complaints import Complaint, ComplaintEvent, ComplaintFollower
from models.requests import ProcessedRequest

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
ALICE = "UALICE0001"


def row(text_: str) -> dict:
    return new_complaint_row(draft=ComplaintDraft(text_), reporter_id=ALICE, now=NOW)


@contextmanager
def writes_held(database_url: str):
    """Another process's write transaction: every write waits until it ends."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        holder = sqlite3.connect(url.database, isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")
        try:
            yield
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        return
    engine = create_engine(database_url)
    with engine.connect() as connection:
        connection.execute(text("LOCK TABLE complaint IN EXCLUSIVE MODE"))
        yield
        connection.rollback()
    engine.dispose()


def count(open_session, model) -> int:
    with open_session() as session:
        return session.exec(select(func.count()).select_from(model)).one()


def test_complaints_logged_together_are_all_saved_once_each_with_its_event_follower_and_key(engine, open_session):
    writer = ComplaintWriter(engine, open_session)
    with ThreadPoolExecutor(max_workers=16) as pool:
        saved = list(pool.map(lambda n: writer.log(row(f"charged twice, order {n}"), key=f"command:{n}", now=NOW),
                              range(64)))
    assert sorted(complaint.id for complaint in saved) == list(range(1, 65))
    with open_session() as session:
        stored = {c.id: c.description for c in session.exec(select(Complaint))}
        assert stored == {complaint.id: complaint.description for complaint in saved}
        keys = {entry.key: entry.result for entry in session.exec(select(ProcessedRequest))}
    assert keys == {f"command:{n}": f"logged as {complaint.reference}" for n, complaint in enumerate(saved)}
    assert count(open_session, ComplaintEvent) == count(open_session, ComplaintFollower) == 64


def test_a_request_returns_only_once_its_complaint_is_committed(engine, open_session, database_url):
    writer = ComplaintWriter(engine, open_session)
    writer.log(row("the first"), key="command:first", now=NOW)  # the bot is up and has its connection
    with ThreadPoolExecutor(max_workers=4) as pool, writes_held(database_url):
        pending = [pool.submit(writer.log, row(f"parcel never came {n}"), key=f"command:{n}", now=NOW)
                   for n in range(4)]
        time.sleep(0.5)  # long enough for each to reach the writer, queued behind the lock
        assert not any(future.done() for future in pending)
        # Read from outside: the bot's one SQLite connection is the writer's, waiting.
        outside = create_engine(database_url)
        with outside.connect() as connection:
            assert connection.execute(text("SELECT count(*) FROM complaint")).scalar_one() == 1
        outside.dispose()
    saved = [future.result(timeout=30) for future in pending]
    assert count(open_session, Complaint) == 5 and {c.description for c in saved} == {
        f"parcel never came {n}" for n in range(4)}


def test_a_refused_row_fails_its_own_request_and_the_rest_of_its_batch_is_saved(engine, open_session, database_url):
    writer = ComplaintWriter(engine, open_session)
    broken = {**row("no reporter"), "reporter_id": None}  # NOT NULL: the database refuses it
    first = writer.log(row("late van 0"), key="command:0", now=NOW)
    with ThreadPoolExecutor(max_workers=8) as pool:
        with writes_held(database_url):
            # Queued behind the lock, so that they reach the writer together.
            good = [pool.submit(writer.log, row(f"late van {n}"), key=f"command:{n}", now=NOW) for n in range(1, 6)]
            bad = pool.submit(writer.log, broken, key="command:broken", now=NOW)
            repeat = pool.submit(writer.log, row("late van 0, Slack's retry"), key="command:0", now=NOW)
            time.sleep(0.5)
        with pytest.raises(IntegrityError):
            bad.result(timeout=30)
        saved = [future.result(timeout=30) for future in good]
        with pytest.raises(DuplicateRequest) as told:
            repeat.result(timeout=30)
    assert told.value.result == f"logged as {first.reference}" and len(saved) == 5
    with open_session() as session:
        assert sorted(session.exec(select(Complaint.description))) == [f"late van {n}" for n in range(6)]
        assert session.get(ProcessedRequest, "command:broken") is None
    assert count(open_session, ComplaintEvent) == 6


def test_the_writer_carries_on_after_a_failed_batch(engine, open_session):
    writer = ComplaintWriter(engine, open_session)
    with pytest.raises(IntegrityError):
        writer.log({**row("no reporter"), "reporter_id": None}, key="command:1", now=NOW)
    assert writer.log(row("charged twice"), key="command:2", now=NOW).description == "charged twice"
    assert count(open_session, Complaint) == 1


def test_in_a_batch_where_some_requests_carry_no_key_each_key_names_its_own_complaint(engine, open_session,
                                                                                      database_url):
    writer = ComplaintWriter(engine, open_session)
    writer.log(row("the first"), key=None, now=NOW)
    keyed = {n: n % 3 != 0 for n in range(9)}
    with ThreadPoolExecutor(max_workers=9) as pool:
        with writes_held(database_url):
            # Queued behind the lock, so that they reach the writer as one batch.
            pending = {n: pool.submit(writer.log, row(f"wrong size {n}"), key=f"command:{n}" if keyed[n] else None,
                                      now=NOW) for n in keyed}
            time.sleep(0.5)
        saved = {n: future.result(timeout=30) for n, future in pending.items()}
    with open_session() as session:
        keys = {entry.key: entry.result for entry in session.exec(select(ProcessedRequest))}
        stored = {c.id: c for c in session.exec(select(Complaint))}
        for complaint in saved.values():
            # What the writer returned is what the database holds, defaults included.
            assert stored[complaint.id].model_dump() == complaint.model_dump()
        assert {c.status for c in stored.values()} == {"open"} and {c.paused_seconds for c in stored.values()} == {0}
    assert keys == {f"command:{n}": f"logged as {saved[n].reference}" for n in keyed if keyed[n]}
    assert {c.description for c in saved.values()} == {f"wrong size {n}" for n in keyed}
    assert count(open_session, ComplaintEvent) == count(open_session, ComplaintFollower) == 10


def test_a_long_report_read_does_not_hold_up_a_complaint(engine, open_session):
    """Monday's digest reads for a second or more over a million complaints: it reads on
    connections of its own, so acknowledgements in the same process do not wait for it."""
    from models.db import make_report_engine

    report_engine = make_report_engine(engine)
    writer = ComplaintWriter(engine, open_session)
    with report_engine.connect() as reading, ThreadPoolExecutor(1) as pool:
        rows = reading.execute(text("SELECT id FROM complaint"))  # a read under way, its connection held
        logged = pool.submit(writer.log, row("slow checkout"), key="command:T1", now=NOW)
        # With the read on the writer's pool (one connection on SQLite), the complaint
        # would wait until the read ends, which here it never would: a deadlock guard.
        complaint = logged.result(timeout=30)
        assert rows.scalars().all() == []  # the read kept its snapshot
    assert complaint.id is not None and count(open_session, Complaint) == 1
    if report_engine is not engine:
        report_engine.dispose()
