"""The `servicedesk` command line.

Each feature adds its own sub-commands through a `register_cli(subparsers)` function
listed in `FEATURE_CLIS`, so this module stays a table of contents.
"""

from __future__ import annotations

import argparse
import sys
from importlib.metadata import PackageNotFoundError, version

from sqlalchemy.exc import DBAPIError

from bot.config import SettingsError
from models.db import DatabaseUnavailable

FEATURE_CLIS: list[str] = [
    "bot.app.server",
    "bot.app.db_cli",
    "bot.app.export_cli",
    "bot.app.report_cli",
    "bot.app.digest_cli",
    "bot.app.console.cli",
    "bot.app.knowledge_cli",
    "bot.app.privacy_cli",
]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="servicedesk",
        description="Slack bot for customer-service teams: complaints, knowledge base, kudos, digests.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {installed_version()}")
    # Without a command the help is printed (exit 0): asking the bare tool is asking what it does.
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    import importlib

    for module_name in FEATURE_CLIS:
        importlib.import_module(module_name).register_cli(subparsers)
    return parser


def installed_version() -> str:
    try:
        return version("servicedesk")
    except PackageNotFoundError:  # run from a checkout that was never installed
        return "unknown (not installed)"


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    try:
        return args.run(args) or 0
    except SettingsError as exc:
        print(f"servicedesk: {exc}", file=sys.stderr)
        return 2
    except DatabaseUnavailable as exc:
        print(f"servicedesk: {exc}", file=sys.stderr)
        return 1
    except DBAPIError as exc:
        # The database went away or refused the work (disk full, permissions, not a
        # database file): what it said is the useful part, SQLAlchemy's frames are not.
        print(f"servicedesk: the database failed: {str(exc.orig).strip().splitlines()[0]}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
