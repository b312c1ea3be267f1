"""`servicedesk console`: the command-line entry that starts a desk, an emulated Slack
and a console session, and plays a script or prompts for commands."""

from __future__ import annotations

import argparse
import logging
import secrets
import sys
from collections.abc import Iterable
from pathlib import Path

from sqlalchemy.engine import make_url

from bot.app.console.loopback import LoopbackDesk
from bot.app.console.session import Console, ConsoleError
from bot.app.console.slack_emulator import SlackEmulator
from bot.app.console.workspace import COMPLAINTS, GENERAL, KUDOS, PEOPLE
from bot.clock import system_clock
from bot.config import load_settings
from models.db import upgrade

DEFAULT_DB = "sqlite:///servicedesk-console.db"


def open_script(name: str | None) -> Iterable[str] | None:
    """The lines of a scenario (a file, or `-` for stdin); None means ask at a prompt."""
    if name == "-" or (name is None and not sys.stdin.isatty()):
        return sys.stdin
    if name:
        path = Path(name)
        if not path.is_file():
            raise ConsoleError(f"no such scenario file: {name}")
        return path.read_text(encoding="utf-8").splitlines()
    return None


def run_console(args: argparse.Namespace) -> int:
    if args.fresh:
        url = make_url(args.db)
        if url.get_backend_name() != "sqlite" or not url.database:
            print("servicedesk console: --fresh only works with a SQLite file database", file=sys.stderr)
            return 2
        for suffix in ("", "-wal", "-shm"):
            Path(url.database + suffix).unlink(missing_ok=True)
    try:
        script = open_script(args.script)
    except ConsoleError as exc:
        print(f"servicedesk console: {exc}", file=sys.stderr)
        return 2
    upgrade(args.db)
    # The console answers unknown commands itself; Bolt's advice on them is noise here.
    logging.getLogger("servicedesk").setLevel(logging.ERROR)
    slack = SlackEmulator().start()
    for person in PEOPLE.values():
        slack.add_user(person.user_id, person.name.title())
    settings = load_settings(
        slack_bot_token="xoxb-console",
        slack_signing_secret=secrets.token_hex(16),
        slack_app_token="",
        slack_api_url=slack.api_url,
        database_url=args.db,
        complaints_channel=COMPLAINTS,
        kudos_channel=KUDOS,
        manager_ids=(PEOPLE["mona"].user_id,),
        admin_ids=(PEOPLE["adam"].user_id,),
    )
    desk = LoopbackDesk(settings, clock=system_clock, response_url=slack.response_url(), channel=GENERAL)
    console = Console(desk, slack, sys.stdout)
    try:
        if script is None:
            console.write(f"servicedesk console: complaints are kept in {args.db}. Type help for commands.")
            console.run(console.prompt_lines(), echo=False)
        else:
            console.run(script, echo=True)
    finally:
        desk.stop()
        slack.stop()
    return 0


def register_cli(subparsers) -> None:
    parser = subparsers.add_parser(
        "console", help="try the bot in the terminal, no Slack workspace needed",
        description="Type slash commands as a chosen person and read the bot's answers as text. "
        "With SCRIPT (a file, or - for stdin) the commands are read from it.",
    )
    parser.add_argument("script", nargs="?", metavar="SCRIPT", help="a scenario file to play, or - for stdin")
    parser.add_argument("--db", default=DEFAULT_DB, help=f"database URL (default {DEFAULT_DB})")
    parser.add_argument("--fresh", action="store_true", help="start from an empty database (SQLite files only)")
    parser.set_defaults(run=run_console)
