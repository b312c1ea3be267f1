"""`servicedesk digest`: the weekly digest in the terminal, or sent now.

    servicedesk digest --preview [--week 2026-W47] [--json]
    servicedesk digest --send

`--preview` prints the digest as the managers would read it (the coming week's by
default); `--json` prints every figure instead. `--send` does what one scheduler
tick does for the digest (for deployments that run it from cron with
SCHEDULER_ENABLED=false): it sends the latest scheduled digest unless it was sent.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import replace

from bot.services import build_services, make_client
from bot.clock import system_clock
from bot.config import load_settings
from bot.errors import UserFacingError
from models.db import make_engine, upgrade


def _week(text: str):
    from bot.weeks import IsoWeek

    try:
        return IsoWeek.parse(text)
    except UserFacingError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def run_digest(args: argparse.Namespace) -> int:
    from bot.app.console.render import render_blocks
    from bot.digest import compute_digest
    from bot.weeks import next_scheduled_week
    from handlers import digest as digest_handlers
    from handlers.digest_views import digest_blocks, digest_json
    from handlers.morale_views import people_shown
    from handlers.users import UserDirectory

    settings = load_settings()
    upgrade(settings.database_url)
    engine = make_engine(settings.database_url)
    try:
        services = build_services(settings, engine=engine, clock=system_clock)
        if args.send:
            client = make_client(settings)
            digest_handlers.DigestJob(replace(services, people=UserDirectory(client)), client)()
            return 0
        now = services.clock()
        week = args.week or next_scheduled_week(now, schedule=settings.digest_schedule, zone=settings.zone)
        # The preview asks Slack nothing: people are shown by ID, STAFF_CHANNEL left out.
        digest = compute_digest(
            open_session=services.open_session, settings=settings, people=None, week=week, now=now,
            articles=services.knowledge.articles, shown=people_shown,
        )
        if args.json:
            json.dump(digest_json(digest), sys.stdout, indent=2, ensure_ascii=False)
            sys.stdout.write("\n")
        else:
            for line in render_blocks(digest_blocks(digest), lambda *_: 0):
                print(line)
    finally:
        engine.dispose()
    return 0


def register_cli(subparsers) -> None:
    parser = subparsers.add_parser("digest", help="the managers' weekly digest: preview it, or send it now")
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--preview", action="store_true", help="print the digest here; nothing is sent")
    mode.add_argument("--send", action="store_true", help="send the latest scheduled digest now, unless it was sent")
    parser.add_argument("--week", type=_week, help="the ISO week to preview, e.g. 2026-W47 (default: the coming digest's)")
    parser.add_argument("--json", action="store_true", help="with --preview: every figure as JSON")
    parser.set_defaults(run=run_digest)
