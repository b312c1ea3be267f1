"""The customers' own figures in the weekly digest, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.complaints import ComplaintDraft, log_complaint, rate, resolve
from bot.digest import compute_digest
from bot.permissions import Permissions
from bot.surveys import AnswerDraft, record_call_back, save_answer
from bot.weeks import IsoWeek
from handlers import digest_views
from models.db import unit_of_work
from tests.web import WEB_SETTINGS

MONDAY = datetime(2026, 11, 16, 10, tzinfo=UTC)  # ISO week 2026-W47
ANYONE = Permissions(frozenset({"UM"}), frozenset())


def resolved(open_session, at: datetime) -> int:
    with unit_of_work(open_session) as session:
        complaint = log_complaint(session, draft=ComplaintDraft("late"), reporter_id="UA", now=at)
        resolve(session, complaint_id=complaint.id, actor_id="UA", resolution="done", permissions=ANYONE, now=at)
        return complaint.id


def answer(open_session, complaint_id: int, score: int, at: datetime, **ratings: int) -> None:
    save_answer(open_session, complaint_id=complaint_id, draft=AnswerDraft(score, ratings, ""), now=at,
                call_back_within=timedelta(hours=48))


def test_response_rate_customer_and_staff_nps_value_averages_and_call_backs(open_session, database_url, tmp_path):
    from bot.config import load_settings

    settings = load_settings(env_file=None, database_url=database_url, knowledge_dir=tmp_path, **WEB_SETTINGS)
    week_before = MONDAY - timedelta(days=7)
    earlier = resolved(open_session, week_before)
    answer(open_session, earlier, 10, week_before, speed=2)
    ids = [resolved(open_session, MONDAY + timedelta(hours=n)) for n in range(4)]
    answer(open_session, ids[0], 10, MONDAY + timedelta(days=1), speed=4, care=5)
    answer(open_session, ids[1], 3, MONDAY + timedelta(days=1), speed=3)
    answer(open_session, ids[2], 8, MONDAY + timedelta(days=2))
    with unit_of_work(open_session) as session:
        # A score staff recorded counts apart from the customers' own.
        rate(session, complaint_id=ids[3], actor_id="UA", score=2, comment="", now=MONDAY + timedelta(days=1))
    digest = compute_digest(open_session=open_session, settings=settings, people=None, week=IsoWeek(2026, 47),
                            now=MONDAY + timedelta(days=8), articles=[], shown=lambda report: [])
    survey = digest.survey
    assert (survey.surveyed, survey.answered, survey.response_rate) == (4, 3, 75.0)
    assert (survey.customer_nps.answers, survey.customer_nps.score) == (3, 0.0)
    assert (survey.staff_nps.answers, survey.staff_nps.score) == (1, -100.0)
    speed = next(v for v in survey.values if v.value == "speed")
    assert (speed.average, speed.previous, speed.change, speed.ratings) == (3.5, 2.0, 1.5, 2)
    assert [v.value for v in survey.values] == ["speed", "care", "knowledge", "fairness", "keeping promises"]
    assert (survey.open_call_backs, survey.overdue_call_backs) == (1, 1)
    with unit_of_work(open_session) as session:
        record_call_back(session, complaint_id=ids[1], actor_id="UM", now=MONDAY + timedelta(days=2))
    data = digest_views.digest_json(digest)
    part = next(section for section in data["sections"] if section["key"] == "survey")
    assert part["figures"]["response_rate"] == 75.0 and part["figures"]["customer_nps"]["score"] == 0.0
    assert "*Survey response rate*: 75% (3 of 4 resolved this week answered)" in part["lines"]
    assert any("speed 3.5/5 (▲1.5 vs the week before)" in line for line in part["lines"])
    blocks = str(digest_views.digest_blocks(digest))
    assert "NPS from customers" in blocks and "from scores staff recorded" in blocks and "Open call-backs" in blocks
