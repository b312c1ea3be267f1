"""`servicedesk report morale`: the morale report in the terminal (bot/app/report_cli.py).

`report morale [--json]` prints the morale report. With SLACK_BOT_TOKEN set it asks
Slack for STAFF_CHANNEL's members and the display names it shows (cached lookups of
`users.info`); without it, people are shown by ID and STAFF_CHANNEL is left out. When
Slack cannot be asked the report is printed all the same, with one line saying so on
stderr and exit code 1.
"""

from __future__ import annotations

import argparse
import sys
from datetime import timedelta

from bot.services import build_services, make_client
from bot.clock import system_clock
from bot.config import load_settings
from bot.morale import MoraleReport, named_report, report_end
from models.db import make_engine, upgrade


def terminal_lines(report: MoraleReport, names: dict[str, str]) -> list[str]:
    def name(user_id: str) -> str:
        return names.get(user_id, user_id)

    def percent(share: float | None) -> str:
        return "—" if share is None else f"{share:.0%}"

    week, last = report.this_week, report.last_week
    lines = [
        f"Morale, {report.week_start} to {report.end - timedelta(days=1)}",
        f"Kudos this week: {week.recognitions} (the week before: {last.recognitions})",
        f"People: {week.givers} gave, {week.receivers} received (the week before: {last.givers} and {last.receivers})",
        f"Coverage: {percent(report.coverage)} of active staff recognised in {report.window_days} days "
        f"({report.recognised_staff} of {report.active_staff})",
        f"Linked to resolved complaints: {percent(report.linked_share)} of {report.recognitions_30d} kudos",
        "Top values: " + (", ".join(f"#{value} ({count})" for value, count in report.top_values) or "none"),
        f"Active but not recognised ({len(report.unrecognised)}): "
        + (", ".join(name(user_id) for user_id in report.unrecognised) or "nobody"),
    ]
    lines += [
        f"Flag: {name(pair.first_id)} and {name(pair.second_id)} thanked each other {pair.exchanges} times in quick succession"
        for pair in report.reciprocal_pairs
    ]
    lines += [
        f"Flag: {name(hitter.giver_id)} gave the daily limit on each of {hitter.days_at_limit} days this week"
        for hitter in report.limit_hitters
    ]
    return lines


def report_morale(args: argparse.Namespace) -> int:
    from handlers.morale_views import people_shown, staff_note
    from handlers.users import UserDirectory

    settings = load_settings()
    upgrade(settings.database_url)
    if settings.staff_channel and not settings.slack_bot_token:
        print("servicedesk: SLACK_BOT_TOKEN is not set, so STAFF_CHANNEL's members are left out", file=sys.stderr)
    people = UserDirectory(make_client(settings)) if settings.slack_bot_token else None
    engine = make_engine(settings.database_url)
    try:
        services = build_services(settings, engine=engine, clock=system_clock)
        named = named_report(
            open_session=services.open_session, people=people, staff_channel=settings.staff_channel,
            end=report_end(services.clock(), settings.zone), zone=settings.zone,
            daily_limit=settings.kudos_daily_limit, shown=people_shown,
        )
    finally:
        engine.dispose()
    note = staff_note(named.staff)
    report, names = named.report, named.names
    print(report.to_json(names) if args.json else "\n".join(terminal_lines(report, names)))
    if note:
        # Printed all the same, but without what Slack would have said: 1, as for every
        # command whose Slack part failed.
        print(f"servicedesk: {note.removeprefix(':warning: ')}", file=sys.stderr)
        return 1
    return 0


def add_report(kinds) -> None:
    morale = kinds.add_parser("morale", help="kudos this week and last, recognition coverage, and suspicious patterns")
    morale.add_argument("--json", action="store_true", help="print every figure as JSON")
    morale.set_defaults(run=report_morale)
