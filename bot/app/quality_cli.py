"""`servicedesk report sqi [--days N] [--json]`: the daily service-quality index of the last
N days (today so far included), one line a day with its failures by kind, or JSON."""

from __future__ import annotations

import argparse
import json
from datetime import timedelta

from bot.clock import system_clock
from bot.config import load_settings
from bot.quality_index import daily_series
from models.db import make_engine, session_factory, upgrade

MAX_DAYS = 366


def _days(text: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= MAX_DAYS:
        raise argparse.ArgumentTypeError(f"give a number of days from 1 to {MAX_DAYS}, not {text[:20]!r}")
    return int(text)


def report_sqi(args: argparse.Namespace) -> int:
    settings = load_settings()
    upgrade(settings.database_url)
    engine = make_engine(settings.database_url)
    now = system_clock()
    today = now.astimezone(settings.zone).date()
    rules = settings.sqi_rules
    try:
        with session_factory(engine)() as session:
            series = daily_series(session, first_day=today - timedelta(days=args.days - 1), days=args.days,
                                  zone=settings.zone, now=now, rules=rules)
    finally:
        engine.dispose()
    if args.json:
        print(json.dumps({"weights": {kind.value: rules.weights[kind] for kind in rules.kinds},
                          "stale_days": rules.stale_days, "days": [day.as_json() for day in series]}, indent=2))
        return 0
    for day in series:
        kinds = ", ".join(
            f"{kind} {len(ids)} ({', '.join(f'C-{i}' for i in dict.fromkeys(ids[:10]))}{', …' if len(ids) > 10 else ''})"
            for kind, ids in day.failures.items() if ids
        )
        print(f"{day.day:%a %Y-%m-%d}  {day.points:>5} points{'' if day.complete else ' so far'}  {kinds or 'no failures'}")
    return 0


def add_report(kinds) -> None:
    sqi = kinds.add_parser("sqi", help="the daily service-quality index: weighted failures per day")
    sqi.add_argument("--days", type=_days, default=7, help="how many days, ending today (default 7)")
    sqi.add_argument("--json", action="store_true", help="print every day's figures and complaints as JSON")
    sqi.set_defaults(run=report_sqi)
