"""`servicedesk export complaints`: every complaint as CSV or JSON lines on stdout."""

from __future__ import annotations

import argparse
import sys
from datetime import date, datetime, time

from bot.clock import system_clock
from bot.config import load_settings
from bot.export import settings_rows, write_csv, write_json_lines
from models.db import make_engine, session_factory, upgrade


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date like 2026-11-01") from None


def export_complaints(args: argparse.Namespace) -> int:
    settings = load_settings()
    upgrade(settings.database_url)
    since = datetime.combine(args.since, time.min, tzinfo=settings.zone) if args.since else None
    engine = make_engine(settings.database_url)
    try:
        with session_factory(engine)() as session:
            rows = settings_rows(session, settings, now=system_clock(), since=since)
            (write_csv if args.format == "csv" else write_json_lines)(rows, sys.stdout)
    finally:
        engine.dispose()
    return 0


def register_cli(subparsers) -> None:
    export = subparsers.add_parser("export", help="write data to stdout for spreadsheets and scripts")
    kinds = export.add_subparsers(dest="export_kind", required=True, metavar="WHAT")
    complaints = kinds.add_parser("complaints", help="every complaint with its timestamps, owner and status")
    complaints.add_argument("--since", type=_date, help="only complaints logged on or after this date (in TZ)")
    complaints.add_argument("--format", choices=("csv", "json"), default="csv",
                            help="csv (default) or json (one object per line)")
    complaints.set_defaults(run=export_complaints)
