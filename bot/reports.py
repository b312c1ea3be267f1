"""`servicedesk report WHICH`: reports for managers, printed in the terminal.

`report morale [--json]` prints the morale report. With SLACK_BOT_TOKEN set it asks
Slack for STAFF_CHANNEL's members and people's display names (cached lookups of
`users.info`); without it, or if Slack can't be reached, people are shown by ID.
"""

from __future__ import annotations

import argparse
import sys
from datetime import timedelta

from bot.clock import system_clock
from bot.config import Settings, load_settings
from bot.morale import MoraleReport, morale_report, report_end
from models.db import make_engine, session_factory, upgrade

# users.info allows about 100 calls a minute: name at most this many people in a report.
NAMES_LOOKED_UP = 200


def _slack_people(settings: Settings) -> tuple[list[str], object | None]:
    """STAFF_CHANNEL's people and a user directory, or nothing without a token."""
    if not settings.slack_bot_token:
        if settings.staff_channel:
            print("servicedesk: SLACK_BOT_TOKEN is not set, so STAFF_CHANNEL's members are left out", file=sys.stderr)
        return [], None
    from slack_sdk.errors import SlackApiError

    from bot.app import make_client
    from handlers.users import UserDirectory, channel_members

    client = make_client(settings)
    users = UserDirectory(client)
    if not settings.staff_channel:
        return [], users
    try:
        return users.people(channel_members(client, settings.staff_channel)), users
    except SlackApiError as exc:
        print(f"servicedesk: could not read STAFF_CHANNEL's members ({exc.response.get('error')}); left out",
              file=sys.stderr)
        return [], users


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
    settings = load_settings()
    upgrade(settings.database_url)
    staff, users = _slack_people(settings)
    engine = make_engine(settings.database_url)
    try:
        with session_factory(engine)() as session:
            report = morale_report(
                session, end=report_end(system_clock(), settings.zone), zone=settings.zone,
                daily_limit=settings.kudos_daily_limit, staff_ids=staff,
            )
    finally:
        engine.dispose()
    named = [*report.flagged_people(), *report.unrecognised][:NAMES_LOOKED_UP]
    names = {user_id: users.display_name(user_id) for user_id in named} if users else {}
    print(report.to_json(names) if args.json else "\n".join(terminal_lines(report, names)))
    return 0


def register_cli(subparsers) -> None:
    report = subparsers.add_parser("report", help="print a report for managers")
    kinds = report.add_subparsers(dest="report_kind", required=True, metavar="WHICH")
    morale = kinds.add_parser("morale", help="kudos this week and last, recognition coverage, and suspicious patterns")
    morale.add_argument("--json", action="store_true", help="print every figure as JSON")
    morale.set_defaults(run=report_morale)
