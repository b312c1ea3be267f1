"""`servicedesk db backup FILE`: a consistent copy of the SQLite database while the bot writes."""

from __future__ import annotations

import os
import shutil
import sqlite3
import stat
import threading
from contextlib import closing

import pytest

from bot import complaints as service
from bot.app.cli import main
from bot.clock import system_clock
from bot.complaints import ComplaintDraft
from models.db import make_engine, session_factory, unit_of_work
from tests.harness import ALICE


@pytest.fixture
def sqlite_database(tmp_path, sqlite_template, monkeypatch):
    """A migrated SQLite database named by DATABASE_URL, in a clean working directory."""
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "servicedesk.db"
    shutil.copyfile(sqlite_template, path)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{path}")
    return path


def count(connection: sqlite3.Connection, sql: str) -> int:
    return connection.execute(sql).fetchone()[0]


class Writer(threading.Thread):
    """The bot logging complaints one after another, each in its own transaction."""

    def __init__(self, url: str) -> None:
        super().__init__(daemon=True)
        self.engine = make_engine(url)
        self.logged = 0
        self.more_than = threading.Event()
        self.stopped = threading.Event()

    def run(self) -> None:
        open_session = session_factory(self.engine)
        while not self.stopped.is_set():
            with unit_of_work(open_session) as session:
                service.log_complaint(session, draft=ComplaintDraft(f"charged twice, order {self.logged}"),
                                      reporter_id=ALICE, now=system_clock())
            self.logged += 1
            if self.logged >= 20:
                self.more_than.set()

    def stop(self) -> int:
        self.stopped.set()
        self.join(timeout=30)
        self.engine.dispose()
        return self.logged


def test_a_backup_taken_while_complaints_are_written_is_whole_and_consistent(sqlite_database, tmp_path, capsys):
    writer = Writer(f"sqlite:///{sqlite_database}")
    writer.start()
    try:
        assert writer.more_than.wait(timeout=30)
        copies = []
        for number in range(3):
            logged_before = writer.logged
            target = tmp_path / f"backup-{number}.db"
            assert main(["db", "backup", str(target)]) == 0
            copies.append((target, logged_before, writer.logged))
        assert writer.is_alive()
    finally:
        total = writer.stop()
    assert total > copies[-1][1]  # the bot kept writing throughout
    for target, logged_before, logged_after in copies:
        assert stat.S_IMODE(os.stat(target).st_mode) == 0o600  # customers' data: its owner only
        with closing(sqlite3.connect(target)) as copy:
            assert copy.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
            complaints = count(copy, "SELECT count(*) FROM complaint")
            assert logged_before <= complaints <= logged_after + 1
            # Whole transactions only: complaints 1..n, each with the event logged with it.
            assert count(copy, "SELECT max(id) FROM complaint") == complaints
            assert count(copy, "SELECT count(DISTINCT complaint_id) FROM complaint_event WHERE kind = 'logged'") == complaints
    out = capsys.readouterr().out
    assert out.count("backed up sqlite:///") == 3 and "backup-2.db" in out
    assert not [path for path in tmp_path.iterdir() if path.name.endswith(".partial")]


def test_an_existing_file_is_kept_unless_forced(sqlite_database, tmp_path, capsys):
    target = tmp_path / "backup.db"
    target.write_text("last week's backup")
    assert main(["db", "backup", str(target)]) == 2
    err = capsys.readouterr().err
    assert err == f"servicedesk: {target} already exists; pass --force to replace it\n"
    assert target.read_text() == "last week's backup"
    assert main(["db", "backup", "--force", str(target)]) == 0
    with closing(sqlite3.connect(target)) as copy:
        assert count(copy, "SELECT count(*) FROM alembic_version") == 1


@pytest.mark.parametrize("url, message", [
    ("postgresql://bot:secret@db.internal/servicedesk", "for postgresql use pg_dump"),
    ("sqlite://", "needs DATABASE_URL to name a SQLite file"),
    ("sqlite:///missing.db", "there is no SQLite database at"),
])
def test_what_cannot_be_backed_up_is_one_line_and_exit_2(url, message, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", url)
    assert main(["db", "backup", str(tmp_path / "backup.db")]) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.splitlines()) == 1 and "secret" not in err
    assert list(tmp_path.iterdir()) == []  # nothing written, not even an empty database
