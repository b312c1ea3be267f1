"""SQLite writers take turns through a lock file (models/sqlite_turns.py): the turn is
taken at a transaction's first write and given back when it commits or rolls back, reads
never take it, and a database without a file to lock works as before."""

from __future__ import annotations

import fcntl
import multiprocessing
import os
import sqlite3

import pytest
from sqlalchemy import text

from models.db import make_engine
from models.sqlite_turns import TurnTakingConnection


def someone_else_can_write(database) -> bool:
    """Whether another connection (another process, as far as flock is concerned) would
    get the turn right now."""
    descriptor = os.open(f"{database}-turn", os.O_RDWR | os.O_CREAT)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    finally:
        os.close(descriptor)
    return True


@pytest.fixture
def database(tmp_path):
    path = tmp_path / "desk.db"
    with sqlite3.connect(path) as setup:
        setup.execute("CREATE TABLE t (n INTEGER)")
    return path


def test_the_turn_is_held_from_the_first_write_to_the_commit(database):
    connection = sqlite3.connect(database, factory=TurnTakingConnection)
    connection.execute("SELECT count(*) FROM t").fetchall()
    assert someone_else_can_write(database)  # a read takes no turn
    cursor = connection.cursor()
    cursor.execute("INSERT INTO t VALUES (1)")
    assert not someone_else_can_write(database)
    cursor.executemany("INSERT INTO t VALUES (?)", [(2,), (3,)])
    connection.commit()
    assert someone_else_can_write(database)
    cursor.execute("  update t SET n = n + 1")
    assert not someone_else_can_write(database)
    connection.rollback()
    assert someone_else_can_write(database)
    assert [n for (n,) in cursor.execute("SELECT n FROM t ORDER BY n")] == [1, 2, 3]
    cursor.execute("DELETE FROM t")
    connection.close()  # closing mid-transaction gives the turn back too
    assert someone_else_can_write(database)


def write_rows(url: str, first: int, count: int) -> None:
    engine = make_engine(url)
    for n in range(first, first + count):
        with engine.begin() as connection:
            connection.execute(text("INSERT INTO t VALUES (:n)"), {"n": n})
    engine.dispose()


def test_the_bots_engine_takes_turns_and_writers_in_several_processes_all_land(database):
    url = f"sqlite:///{database}"
    engine = make_engine(url)
    with engine.connect() as connection:
        assert isinstance(connection.connection.dbapi_connection, TurnTakingConnection)
        connection.execute(text("INSERT INTO t VALUES (0)"))
        assert not someone_else_can_write(database)
        connection.commit()
        assert someone_else_can_write(database)
    context = multiprocessing.get_context("spawn")
    writers = [context.Process(target=write_rows, args=(url, 1 + 100 * k, 100)) for k in range(3)]
    for writer in writers:
        writer.start()
    for writer in writers:
        writer.join(60)
    assert [writer.exitcode for writer in writers] == [0, 0, 0]
    with engine.connect() as connection:
        assert connection.execute(text("SELECT count(DISTINCT n) FROM t")).scalar() == 301
    engine.dispose()


def test_without_a_file_to_lock_writes_work_as_before(tmp_path):
    memory = sqlite3.connect(":memory:", factory=TurnTakingConnection)
    memory.execute("CREATE TABLE t (n INTEGER)")
    memory.cursor().execute("INSERT INTO t VALUES (1)")
    memory.commit()
    assert memory.execute("SELECT n FROM t").fetchall() == [(1,)]
    memory.close()

    # A lock file that cannot be opened (here a folder stands where it would be, which
    # even root cannot open for writing): SQLite's busy handler alone, as without this.
    path = tmp_path / "desk.db"
    with sqlite3.connect(path) as setup:
        setup.execute("CREATE TABLE t (n INTEGER)")
    (tmp_path / "desk.db-turn").mkdir()
    connection = sqlite3.connect(path, factory=TurnTakingConnection)
    connection.cursor().execute("INSERT INTO t VALUES (1)")
    connection.commit()
    assert connection.execute("SELECT n FROM t").fetchall() == [(1,)]
    connection.close()
