"""When to try again to post the team's copy of a complaint whose first post failed
(Slack down, the bot not yet in the channel): once the first attempt is surely over,
every few minutes, for a week; each try made by one process only."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

from sqlalchemy import func
from sqlmodel import col, select

from bot import complaints
from bot.errors import DuplicateRequest
from bot.request_dedup import run_once
from models.complaints import Complaint
from models.db import SessionFactory

RETRY_AFTER = timedelta(seconds=30)
RETRY_EVERY = timedelta(minutes=10)
RETRY_FOR = timedelta(days=7)


def claim_retries(open_session: SessionFactory, *, now: datetime) -> Iterator[Complaint]:
    """Yield each complaint due another try that this process claimed for this attempt.

    Each is claimed only when the caller asks for the next one, so a second process
    running the same job takes the rest while this one posts; no session stays open
    between the complaints yielded.
    """
    with open_session() as session:
        waiting = complaints.unposted(session, logged_after=now - RETRY_FOR, logged_before=now - RETRY_AFTER)
    attempt = int(now.timestamp() // RETRY_EVERY.total_seconds())
    for complaint in waiting:
        try:
            run_once(open_session, key=f"team-copy:{complaint.id}:{attempt}", now=now, work=lambda _: None)
        except DuplicateRequest:
            continue  # another process has this one
        yield complaint


def waiting_count(open_session: SessionFactory, *, now: datetime) -> int:
    """How many complaints logged in the last RETRY_FOR have no team copy yet (through the
    index on `created_at`, so it costs a week of complaints at most)."""
    with open_session() as session:
        return session.exec(
            select(func.count()).select_from(Complaint)
            .where(Complaint.slack_ts == "", col(Complaint.created_at) > now - RETRY_FOR)
        ).one()
