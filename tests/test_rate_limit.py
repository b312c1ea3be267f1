"""The rate limit shared by every process, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlmodel import func, select

from bot import rate_limit
from models.db import unit_of_work
from models.surveys import RateWindow

NOW = datetime(2026, 11, 23, 9, 0, 45, tzinfo=UTC)


def test_requests_are_counted_per_key_and_minute_and_old_minutes_forgotten(open_session):
    key = rate_limit.rate_key("web", "203.0.113.9")
    assert [rate_limit.allow(open_session, key=key, limit=2, now=NOW) for _ in range(3)] == [0, 0, 15]
    assert rate_limit.allow(open_session, key=rate_limit.rate_key("web", "203.0.113.10"), limit=2, now=NOW) == 0
    assert rate_limit.allow(open_session, key=key, limit=2, now=NOW + timedelta(seconds=15)) == 0
    assert "203.0.113" not in key
    with unit_of_work(open_session) as session:
        assert rate_limit.forget_old_windows(session, now=NOW + timedelta(minutes=30)) == 0
        assert rate_limit.forget_old_windows(session, now=NOW + timedelta(hours=2)) == 3
        assert session.exec(select(func.count()).select_from(RateWindow)).one() == 0
