"""The daily kudos limit holds when the same person gives kudos twice at the same moment."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from bot import kudos
from bot.kudos import KudosDraft, KudosRefused, KudosRules
from models.db import make_engine, session_factory
from models.kudos import KudosSource

RULES = KudosRules(values=("ownership",), daily_limit=1, zone=ZoneInfo("UTC"))
NOW = datetime(2026, 11, 24, 10, tzinfo=UTC)


def test_kudos_given_at_once_never_exceed_the_daily_limit(database_url):
    # Two connections, as two bot processes have; each giver's last allowed kudos is
    # asked for twice at once, to two different colleagues.
    engines = [make_engine(database_url) for _ in range(2)]
    sessions = [session_factory(engine) for engine in engines]
    try:
        for round_ in range(6):
            giver, start = f"UGIVER{round_:04d}", threading.Barrier(2)

            def attempt(side: int) -> str:
                start.wait()
                try:
                    kudos.give(
                        sessions[side], giver_id=giver, draft=KudosDraft((f"UTAKER{side:04d}",), "stayed late to help"),
                        source=KudosSource.COMMAND, dedup_key=f"race:{round_}:{side}", rules=RULES, now=NOW,
                    )
                    return "given"
                except KudosRefused:
                    return "refused"

            with ThreadPoolExecutor(max_workers=2) as pool:
                assert sorted(pool.map(attempt, range(2))) == ["given", "refused"], f"round {round_}"
    finally:
        for engine in engines:
            engine.dispose()
