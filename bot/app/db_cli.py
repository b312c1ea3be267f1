"""`servicedesk db upgrade` and `servicedesk db backup FILE`.

A backup is a consistent copy of a SQLite database taken while the bot runs, through
SQLite's online backup API: one read transaction copies every page, so the copy is the
database as it was at one moment, and in WAL mode the bot goes on writing meanwhile.
It is written beside FILE, checked with `PRAGMA integrity_check`, and only then moved
into place; it is readable by its owner only (it holds customers' data).
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import sys
import tempfile
from contextlib import closing
from pathlib import Path

from sqlalchemy.engine import make_url

from bot.app.server import upgrade_when_reachable
from bot.config import load_settings
from models.db import describe, normalise_url


def db_upgrade(args: argparse.Namespace) -> int:
    settings = load_settings()
    upgrade_when_reachable(settings)
    print(f"database is up to date: {describe(settings.database_url)}")
    return 0


class BackupRefused(Exception):
    """What the backup cannot be asked to do: one line, exit 2, nothing written."""


def db_backup(args: argparse.Namespace) -> int:
    settings = load_settings()
    target = Path(args.file)
    try:
        source = sqlite_file(settings.database_url)
        if target.exists() and not args.force:
            raise BackupRefused(f"{target} already exists; pass --force to replace it")
        if not target.parent.is_dir():
            raise BackupRefused(f"the folder {str(target.parent.absolute())!r} for the backup does not exist")
    except BackupRefused as refusal:
        print(f"servicedesk: {refusal}", file=sys.stderr)
        return 2
    problems, pages = backup_sqlite(source, target)
    if problems:
        print(f"servicedesk: the copy failed its integrity check, nothing was written: {problems[0]}", file=sys.stderr)
        return 1
    print(f"backed up {describe(settings.database_url)} to {target} ({pages} pages, {target.stat().st_size:,} bytes)")
    return 0


def sqlite_file(url: str) -> Path:
    """The file of a SQLite DATABASE_URL; BackupRefused for anything else."""
    parsed = make_url(normalise_url(url))
    if parsed.get_backend_name() != "sqlite":
        raise BackupRefused(
            f"db backup copies SQLite databases; for {parsed.get_backend_name()} use pg_dump "
            "(e.g. pg_dump --format=custom --file=servicedesk.dump \"$DATABASE_URL\")"
        )
    if parsed.database in (None, "", ":memory:") or parsed.query.get("uri"):
        raise BackupRefused("db backup needs DATABASE_URL to name a SQLite file, e.g. sqlite:///servicedesk.db")
    path = Path(parsed.database)
    if not path.is_file():
        raise BackupRefused(f"there is no SQLite database at {str(path.absolute())!r} (DATABASE_URL)")
    return path


def backup_sqlite(source: Path, target: Path) -> tuple[list[str], int]:
    """Copy `source` to `target` consistently: (what the integrity check found wrong with
    the copy, pages copied). A copy with problems is not kept."""
    descriptor, partial = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".partial", dir=target.parent)
    os.close(descriptor)
    try:
        # Read-only: a mistyped path must not create an empty database to back up.
        with closing(sqlite3.connect(f"{source.absolute().as_uri()}?mode=ro", uri=True)) as reading, \
                closing(sqlite3.connect(partial)) as copy:
            # All pages in one step, so in one read transaction: a step-by-step copy
            # would start over each time the bot writes, and might never finish.
            reading.backup(copy)
            pages = copy.execute("PRAGMA page_count").fetchone()[0]
            problems = [row[0] for row in copy.execute("PRAGMA integrity_check")]
        if problems == ["ok"]:
            os.replace(partial, target)
            return [], pages
        return problems, pages
    finally:
        if os.path.exists(partial):
            os.unlink(partial)


def register_cli(subparsers) -> None:
    db = subparsers.add_parser("db", help="database maintenance")
    db_commands = db.add_subparsers(dest="db_command", required=True, metavar="ACTION")
    db_commands.add_parser("upgrade", help="apply every pending migration").set_defaults(run=db_upgrade)
    backup = db_commands.add_parser(
        "backup", help="copy the SQLite database to FILE while the bot runs (PostgreSQL: use pg_dump)"
    )
    backup.add_argument("file", metavar="FILE", help="where to write the copy")
    backup.add_argument("--force", action="store_true", help="replace FILE if it exists")
    backup.set_defaults(run=db_backup)
