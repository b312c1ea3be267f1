"""SQLite writers take turns in the kernel, not in SQLite's busy handler.

SQLite lets one connection write at a time. A connection that finds another one
writing waits in SQLite's busy handler, which polls: it sleeps 1, 2, 5, 10, … and then
100 ms at a time between tries. Against the steady stream of commits of another
process (each gunicorn worker has its own complaint writer) a writer can miss its turn
try after try: acknowledgements stalled together for 0.3–1.5 s every second or two
under a burst, p99 378 ms at 32 clients where it is 76 ms with this (docs/benchmarks.md,
issue 17). So each connection takes an exclusive `flock` on a file beside the database
just before its first write of a transaction, and lets it go when the transaction ends:
a writer waiting for it is woken the moment it is free.

Only the write that opens a transaction waits (pysqlite begins a transaction at the
first INSERT, UPDATE, DELETE or REPLACE; reads take no lock, as WAL lets them run beside
the writer). Statements go through cursors, as SQLAlchemy sends them (`Connection.execute`,
the sqlite3 shortcut, does not take the turn). Programs that do not take the turn (the sqlite3 shell, a backup) still meet
SQLite's own lock and busy timeout, as before. Without a file to lock (an in-memory
database, a folder the bot may not write in) nothing changes.
"""

from __future__ import annotations

import fcntl
import os
import sqlite3

# The statements before which pysqlite opens a transaction (Python's sqlite3 module).
OPENS_A_TRANSACTION = ("INSERT", "UPDATE", "DELETE", "REPLACE")


class TurnTakingConnection(sqlite3.Connection):
    """A sqlite3 connection (`sqlite3.connect(..., factory=TurnTakingConnection)`) whose
    writes take turns with every other such connection to the same file."""

    def __init__(self, database, *args, **kwargs) -> None:
        super().__init__(database, *args, **kwargs)
        self._turn = _turn_file(os.fspath(database), uri=kwargs.get("uri", False))
        self._holding = False

    def cursor(self, factory=None):  # noqa: ANN001 — sqlite3's signature
        return super().cursor(factory or _TurnTakingCursor)

    def take_turn(self, statement: str) -> None:
        if self._turn is not None and not self._holding and \
                statement.lstrip()[:7].upper().startswith(OPENS_A_TRANSACTION):
            fcntl.flock(self._turn, fcntl.LOCK_EX)
            self._holding = True

    def commit(self) -> None:
        try:
            super().commit()
        finally:
            self._end_turn()

    def rollback(self) -> None:
        try:
            super().rollback()
        finally:
            self._end_turn()

    def close(self) -> None:
        try:
            super().close()
        finally:
            if self._turn is not None:
                os.close(self._turn)  # which also lets the turn go
                self._turn = None

    def _end_turn(self) -> None:
        if self._holding:
            self._holding = False
            fcntl.flock(self._turn, fcntl.LOCK_UN)


class _TurnTakingCursor(sqlite3.Cursor):
    def execute(self, sql, parameters=(), /):  # noqa: ANN001 — sqlite3's signature
        self.connection.take_turn(sql)
        return super().execute(sql, parameters)

    def executemany(self, sql, parameters, /):  # noqa: ANN001
        self.connection.take_turn(sql)
        return super().executemany(sql, parameters)


def _turn_file(database: str, *, uri: bool) -> int | None:
    if not database or database == ":memory:" or uri or database.startswith("file:"):
        return None
    try:
        return os.open(f"{database}-turn", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    except OSError:
        return None  # e.g. a read-only folder: SQLite's busy handler alone, as without this
