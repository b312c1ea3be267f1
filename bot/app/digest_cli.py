"""`servicedesk digest`: the weekly digest in the terminal, or sent now.

    servicedesk digest --preview [--week 2026-W47] [--json] [--chart FILE]
    servicedesk digest --send

`--preview` prints the digest as the managers would read it (the coming week's by
default); `--json` prints every figure instead; `--chart FILE` also writes its chart
as a PNG. `--send` does what one scheduler tick does for the digest (for deployments
that run it from cron with SCHEDULER_ENABLED=false): it sends the latest scheduled
digest unless it was sent.

Exit codes, for cron: 0 sent or already sent (the line printed says which), 1 the
send failed or Slack could not be reached (one line on stderr; the next run retries),
2 a configuration problem such as no recipients or no SLACK_BOT_TOKEN.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from dataclasses import replace
from pathlib import Path

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
    from bot.digest import compute_digest, recipients
    from bot.weeks import next_scheduled_week
    from handlers import digest as digest_handlers
    from handlers.digest_views import digest_blocks, digest_json
    from handlers.morale_views import people_shown
    from handlers.users import UserDirectory

    if args.send and (args.week or args.json or args.chart):
        print("servicedesk: --week, --json and --chart go with --preview; --send sends the latest scheduled digest",
              file=sys.stderr)
        return 2
    settings = load_settings()
    if args.send:
        settings.require("slack_bot_token")
        if not recipients(settings=settings):
            print("servicedesk: the digest has no recipients: set MANAGER_CHANNEL or MANAGER_IDS", file=sys.stderr)
            return 2
    upgrade(settings.database_url)
    engine = make_engine(settings.database_url)
    try:
        services = build_services(settings, engine=engine, clock=system_clock)
        if args.send:
            # The job logs each failure as a warning; for cron the one line below says it instead.
            logging.disable(logging.WARNING)
            client = make_client(settings)
            return _report_send(digest_handlers.DigestJob(replace(services, people=UserDirectory(client)), client).send())
        now = services.clock()
        week = args.week or next_scheduled_week(now, schedule=settings.digest_schedule, zone=settings.zone)
        # The preview asks Slack nothing: people are shown by ID, STAFF_CHANNEL left out.
        digest = compute_digest(
            open_session=services.open_session, settings=settings, people=None, week=week, now=now,
            articles=services.knowledge.articles, shown=people_shown,
        )
    finally:
        engine.dispose()
    if args.json:
        json.dump(digest_json(digest), sys.stdout, indent=2, ensure_ascii=False)
        sys.stdout.write("\n")
    else:
        for line in render_blocks(digest_blocks(digest), lambda *_: 0):
            print(line)
    return _write_chart(digest, args.chart) if args.chart else 0


def _report_send(outcome) -> int:
    """One line saying what happened; 1 if any recipient did not get the digest."""
    week = outcome.week
    if outcome.failed:
        reasons = "; ".join(f"{recipient}: {error}" for recipient, error in outcome.failed.items())
        sent = f" (sent to {', '.join(outcome.sent)})" if outcome.sent else ""
        print(f"servicedesk: the digest for {week} could not be sent to {reasons}{sent}; the next run retries",
              file=sys.stderr)
        return 1
    parts = []
    if outcome.sent:
        parts.append(f"sent to {', '.join(outcome.sent)}")
    if outcome.already:
        parts.append(f"already sent to {', '.join(outcome.already)}")
    if outcome.busy:
        parts.append(f"being sent to {', '.join(outcome.busy)} by another process")
    print(f"servicedesk: the digest for {week} was {' and '.join(parts)}")
    return 0


def _write_chart(digest, path: Path) -> int:
    from bot.digest_chart import trend_chart

    try:
        path.write_bytes(trend_chart(digest))
    except OSError as exc:
        print(f"servicedesk: the chart could not be written to {path}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    print(f"servicedesk: chart written to {path}", file=sys.stderr)
    return 0


def register_cli(subparsers) -> None:
    parser = subparsers.add_parser("digest", help="the managers' weekly digest: preview it, or send it now")
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--preview", action="store_true", help="print the digest here; nothing is sent")
    mode.add_argument("--send", action="store_true", help="send the latest scheduled digest now, unless it was sent")
    parser.add_argument("--week", type=_week, help="the ISO week to preview, e.g. 2026-W47 (default: the coming digest's)")
    parser.add_argument("--json", action="store_true", help="with --preview: every figure as JSON")
    parser.add_argument("--chart", type=Path, metavar="FILE", help="with --preview: also write the chart as a PNG to FILE")
    parser.set_defaults(run=run_digest)
