"""Engine and session setup for SQLite (the embedded default) and PostgreSQL."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import ColumnElement, Float, cast, event, func, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError
from sqlalchemy.pool import NullPool
from sqlmodel import Session, create_engine

from models.sqlite_turns import TurnTakingConnection

SessionFactory = Callable[[], Session]
MIGRATIONS_DIR = Path(__file__).parent / "migrations"
BACKENDS = ("sqlite", "postgresql")
# Waiting for a database: the first pause, doubled after each failure up to the last.
FIRST_PAUSE_SECONDS, LONGEST_PAUSE_SECONDS = 0.5, 5.0


class DatabaseUnavailable(Exception):
    """The database could not be reached in the time allowed; the message says where and why."""


def normalise_url(url: str) -> str:
    """Accept the usual spellings of a PostgreSQL URL and use the psycopg 3 driver."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def check_url(url: str) -> None:
    """Raise ValueError saying what is wrong with a database URL, without echoing its password."""
    example = "use sqlite:///servicedesk.db or postgresql://user:password@host/database"
    try:
        parsed = make_url(normalise_url(url))
    except ArgumentError:
        raise ValueError(f"not a database URL; {example}") from None
    if parsed.get_backend_name() not in BACKENDS:
        raise ValueError(f"{parsed.get_backend_name()!r} databases are not supported; {example}")
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        folder = Path(parsed.database).parent
        if not parsed.query.get("uri") and not folder.is_dir():
            raise ValueError(f"the folder {str(folder.absolute())!r} for the SQLite file does not exist")


def describe(url: str) -> str:
    """The URL as it may be shown: the password hidden."""
    return make_url(normalise_url(url)).render_as_string(hide_password=True)


def wait_for_database(
    url: str, *, wait_seconds: float, on_retry: Callable[[str], None],
    sleep: Callable[[float], None] = time.sleep, monotonic: Callable[[], float] = time.monotonic,
) -> None:
    """Return once a connection to `url` opens; retry with growing pauses for `wait_seconds`,
    telling `on_retry` each time, then raise DatabaseUnavailable."""
    deadline = monotonic() + wait_seconds
    pause = FIRST_PAUSE_SECONDS
    is_sqlite = make_url(normalise_url(url)).get_backend_name() == "sqlite"
    # A host that drops packets would otherwise hold one attempt for minutes.
    probe = create_engine(normalise_url(url), poolclass=NullPool, connect_args={} if is_sqlite else {"connect_timeout": 5})
    try:
        while True:
            try:
                with probe.connect():
                    return
            except DBAPIError as exc:
                reason = (str(exc.orig).strip().splitlines() or [type(exc.orig).__name__])[0]
            left = deadline - monotonic()
            if left <= 0:
                raise DatabaseUnavailable(
                    f"could not reach the database at {describe(url)} within {wait_seconds:g} s: {reason}"
                )
            pause = min(pause, left)
            on_retry(f"the database at {describe(url)} is not reachable yet ({reason}); trying again in {pause:.1f} s")
            sleep(pause)
            pause = min(pause * 2, LONGEST_PAUSE_SECONDS)
    finally:
        probe.dispose()


def make_engine(url: str) -> Engine:
    url = normalise_url(url)
    if make_url(url).get_backend_name() != "sqlite":
        # No pre-ping: it would cost a round trip on every request. Writes go through
        # bot.request_dedup.run_once, which tries once more on a dropped connection.
        # No JIT compilation in this app's sessions: every query here runs in
        # milliseconds, and the digest's correlated subqueries have cost estimates high
        # enough to be compiled with full optimisation: 0.84 s of compiling for a count
        # that runs in 0.08 s (PostgreSQL 15's defaults, a million complaints).
        return create_engine(url, pool_size=10, max_overflow=20, connect_args={"options": "-c jit=off"})
    # SQLite has one writer at a time. One pooled connection per process makes the
    # threads of a process queue for it in the pool (woken at once, in order) rather
    # than in SQLite's busy handler, which sleeps in growing steps of up to 100 ms; the
    # processes take turns to write through a lock file (models/sqlite_turns.py).
    engine = create_engine(
        url, connect_args={"check_same_thread": False, "timeout": 30, "factory": TurnTakingConnection},
        pool_size=1, max_overflow=0, pool_timeout=30,
    )
    event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def make_report_engine(engine: Engine) -> Engine:
    """An engine for long reads beside `engine`: a SQLite file's own (its one connection
    per process would otherwise be held by the read while acknowledgements wait), else
    `engine` itself (PostgreSQL's pool has room; an in-memory SQLite database has no
    second connection to the same data)."""
    if engine.dialect.name != "sqlite" or engine.url.database in (None, "", ":memory:"):
        return engine
    return make_engine(engine.url.render_as_string(hide_password=False))


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    # WAL lets readers run beside one writer; busy_timeout makes concurrent writers
    # (threads or gunicorn workers) wait for the lock instead of failing at once.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA busy_timeout=30000")
    # WAL is kept in the file: switching asks for a lock that other connections may
    # hold ("database is locked" with eight threads connecting at once), so only a
    # file not yet in WAL is switched.
    if cursor.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
        cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def session_factory(engine: Engine) -> SessionFactory:
    def open_session() -> Session:
        return Session(engine, expire_on_commit=False)

    return open_session


def seconds_between(session: Session, start, end) -> ColumnElement[float]:
    """`end - start` in seconds, in the dialect's own date arithmetic."""
    if session.get_bind().dialect.name == "sqlite":
        return (func.julianday(end) - func.julianday(start)) * 86400.0
    return cast(func.extract("epoch", end - start), Float)


def sort_memory(session: Session, megabytes: int) -> None:
    """PostgreSQL: let this transaction's sorts and hashes use `megabytes` each (work_mem,
    4 MB by default) before they spill to disk; SQLite has no such limit."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text(f"SET LOCAL work_mem = '{int(megabytes)}MB'"))


@contextmanager
def unit_of_work(open_session: SessionFactory) -> Iterator[Session]:
    """One transaction: commit on success, roll back on any error."""
    with open_session() as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


def upgrade(url: str, revision: str = "heads") -> None:
    """Apply Alembic migrations up to `revision` (all heads by default)."""
    from alembic import command

    command.upgrade(alembic_config(url), revision)


def alembic_config(url: str):
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", normalise_url(url).replace("%", "%%"))
    return config
