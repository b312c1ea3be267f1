"""PostgreSQL searches the newest complaint ids first and the older ones only if needed
(PostgresIndex in bot/complaint_search_index.py): whatever the window, a search finds
exactly the complaints it should, newest first, each once. Checked against what was
logged, on both databases, with windows from one complaint to wider than them all."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import bindparam, text

from bot import complaints as service
from bot.complaint_search import parse_search, search_complaints
from bot.complaint_search_index import CREATED_AT, PostgresIndex
from bot.complaints import ComplaintDraft, Permissions
from models.db import unit_of_work
from tests.harness import ALICE, FakeClock

CATEGORIES = ("billing", "other")
TOKYO = ZoneInfo("Asia/Tokyo")


@pytest.fixture
def logged(open_session):
    """40 complaints five hours apart (eight days); every third about a PIN, the rest a
    card; two of the oldest ask for a refund; every fourth is resolved. Then one more,
    dated back into the middle: ids need not follow the dates."""
    clock = FakeClock()
    made = []
    with unit_of_work(open_session) as session:
        for n in range(40):
            words = ("pin reset" if n % 3 == 0 else "card lost") + (" refund" if n in (2, 5) else "")
            complaint = service.log_complaint(
                session, draft=ComplaintDraft(f"{words} number {n}", category="other", owner_id=ALICE),
                reporter_id=ALICE, now=clock.advance(hours=5),
            )
            if n % 4 == 0:
                service.resolve(session, complaint_id=complaint.id, actor_id=ALICE, resolution="sorted",
                                permissions=Permissions(), now=clock())
            made.append((complaint.id, words, complaint.created_at, n % 4 == 0))
        # Imported late with the day it really happened: the newest id, logged mid-way.
        imported = service.log_complaint(
            session, draft=ComplaintDraft("card lost, imported", category="other", owner_id=ALICE),
            reporter_id=ALICE, now=clock.advance(hours=5),
        )
        backdated = datetime(2026, 11, 26, 12, tzinfo=UTC)
        backdate = text("UPDATE complaint SET created_at = :at WHERE id = :id").bindparams(bindparam("at", type_=CREATED_AT))
        session.execute(backdate, {"at": backdated, "id": imported.id})
        made.append((imported.id, "card lost", backdated, False))
    return open_session, clock, made


def pages(open_session, clock, typed: str, page_size: int) -> tuple[list[int], int]:
    query = parse_search(typed, categories=CATEGORIES, zone=TOKYO)
    seen, page, total = [], 1, None
    while True:
        with open_session() as session:
            results = search_complaints(session, query=query, page=page, page_size=page_size, now=clock())
        seen += [match.id for match in results.matches]
        total = results.total
        if not results.has_more:
            return seen, total
        page += 1


def within(moment: datetime, since: str, until: str) -> bool:
    start = datetime.fromisoformat(since).replace(tzinfo=TOKYO)
    end = datetime.fromisoformat(until).replace(tzinfo=TOKYO) + timedelta(days=1)
    return start <= moment.astimezone(UTC) < end


@pytest.mark.parametrize("first_window", [1, 4, 20_000])
@pytest.mark.parametrize("typed, wanted", [
    ("card", lambda words, at, resolved: "card" in words),
    ("refund", lambda words, at, resolved: "refund" in words),
    ("status:open", lambda words, at, resolved: not resolved),
    # Tokyo's days start at 15:00 UTC: the first and last days are checked on the complaints' own times.
    ("card since:2026-11-25 until:2026-11-28",
     lambda words, at, resolved: "card" in words and within(at, "2026-11-25", "2026-11-28")),
    ("status:open since:2026-11-24 until:2026-11-30",
     lambda words, at, resolved: not resolved and within(at, "2026-11-24", "2026-11-30")),
    ("since:2026-11-26 status:resolved", lambda words, at, resolved: resolved and within(at, "2026-11-26", "2026-12-31")),
])
def test_every_window_finds_the_same_complaints(logged, monkeypatch, first_window, typed, wanted):
    open_session, clock, made = logged
    monkeypatch.setattr(PostgresIndex, "first_window", first_window)
    expected = [cid for cid, words, at, resolved in made if wanted(words, at, resolved)]
    assert expected, "the case must match something"
    for page_size in (2, 50):
        seen, total = pages(open_session, clock, typed, page_size)
        assert sorted(seen) == sorted(expected) and len(seen) == len(set(seen))
        assert total == len(expected)
        if ":" in typed.split()[0]:
            assert seen == sorted(expected, reverse=True)  # filters alone: newest first


def test_dates_with_nothing_logged_find_nothing(logged):
    open_session, clock, _ = logged
    seen, total = pages(open_session, clock, "card since:2026-01-01 until:2026-01-31", 10)
    assert seen == [] and total == 0
