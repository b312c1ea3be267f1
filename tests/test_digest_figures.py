"""The digest's figures against a data set worked out by hand (tests/digest_data.py)."""

from __future__ import annotations

from dataclasses import replace
from zoneinfo import ZoneInfo

import pytest
from slack_sdk import WebClient

from bot.config import load_settings
from bot.digest import compute_digest, weekly_digest
from bot.errors import InvalidInput
from bot.knowledge.articles import Article
from bot.knowledge.documents import Hit, SearchOutcome
from bot.knowledge.usage import record_feedback, record_search
from bot.morale import StaffChannel
from bot.sla import DEFAULT_SLA_TARGETS, parse_targets
from bot.weeks import IsoWeek
from handlers.users import UserDirectory
from models.db import unit_of_work
from tests.digest_data import EXPECTED_W47, OWNER, assert_figures_match, at, load_known_history
from tests.harness import BOB, BOT_USER, CAROL

UTC_ZONE = ZoneInfo("UTC")


def digest_for(open_session, week="2026-W47", now=at(23, 9, 0), **kwargs):
    with open_session() as session:
        return weekly_digest(session, week=IsoWeek.parse(week), zone=UTC_ZONE, now=now,
                             targets=parse_targets(DEFAULT_SLA_TARGETS), **kwargs)


def test_every_figure_matches_the_hand_computed_answer(open_session):
    load_known_history(open_session)
    assert_figures_match(digest_for(open_session), EXPECTED_W47)


def test_the_trend_covers_eight_weeks_ending_with_the_digest_week(open_session):
    load_known_history(open_session)
    trend = digest_for(open_session).trend
    assert [p.week for p in trend] == [f"2026-W{n}" for n in range(40, 48)]
    assert [(p.logged, p.resolved) for p in trend[-3:]] == [(1, 0), (2, 1), (6, 5)]
    assert [p.median_first_response_seconds for p in trend[-3:]] == [None, pytest.approx(3600, abs=0.5), pytest.approx(7200, abs=0.5)]


def test_an_empty_week_has_zeros_and_no_averages(open_session):
    digest = digest_for(open_session, week="2026-W10")
    assert (digest.logged.value, digest.resolved.value, digest.open.value) == (0, 0, 0)
    assert digest.first_response.median_seconds is None and digest.nps.score is None
    assert digest.breaches == {"first_response": 0, "resolution": 0}


def test_a_week_in_progress_only_counts_breaches_that_have_fallen_due(open_session):
    load_known_history(open_session)
    # Sunday 20:30: C5 (urgent, logged 20:00) is not yet due its first response.
    digest = digest_for(open_session, now=at(22, 20, 30))
    assert digest.breaches["first_response"] == 2


def test_the_digest_carries_the_morale_report_and_the_knowledge_gaps_as_figures(open_session, slack):
    load_known_history(open_session)  # every complaint logged and owned by OWNER; no kudos
    refunds = Article(path="returns/refunds.md", title="Refunds", body="Refunds take five days.")
    with unit_of_work(open_session) as session:
        shown = SearchOutcome("moon shipping", [Hit(0, refunds.path, 1.0, 0.9)], answered=True)
        search_id = record_search(session, outcome=shown, asker_id=CAROL, channel_id="", now=at(20, 9, 0)).id
        record_feedback(session, search_id=search_id, article_path=refunds.path, user_id=CAROL, helpful=False,
                        now=at(20, 9, 1))
    slack.members["CSTAFF0001"] = [BOB, BOT_USER]
    settings = load_settings(env_file=None, tz="UTC", staff_channel="CSTAFF0001", kudos_daily_limit=3)
    digest = compute_digest(
        open_session=open_session, settings=settings, week=IsoWeek.parse("2026-W47"), now=at(23, 9, 0),
        people=UserDirectory(WebClient(token="xoxb-test", base_url=slack.api_url)), articles=[refunds],
        shown=lambda report: report.unrecognised,
    )
    # The service figures are weekly_digest's; the other parts are data, not text.
    assert replace(digest, morale=None, knowledge_gaps=None) == digest_for(open_session)
    assert [key for key, _ in digest.sections()] == ["morale", "knowledge_gaps"]
    morale = digest.morale
    assert morale.staff == StaffChannel("CSTAFF0001", (BOB,))  # the bot is not staff
    assert morale.report.end.isoformat() == "2026-11-23" and morale.report.unrecognised == (OWNER, BOB)
    assert morale.names == {OWNER: "Alice", BOB: "Bob"}
    [gap] = digest.knowledge_gaps.gaps
    assert (gap.question, gap.unhelpful, gap.askers) == ("moon shipping", 1, [CAROL])
    assert digest.knowledge_gaps.titles == {refunds.path: "Refunds"}
    assert digest.as_json()["sections"] == [
        {"key": "morale", "figures": morale.report.as_dict(morale.names)},
        {"key": "knowledge_gaps", "figures": {"gaps": [{
            "question": "moon shipping", "times": 1, "unanswered": 0, "unhelpful": 1, "askers": [CAROL],
            "shown": [refunds.path],
        }]}},
    ]


def test_the_service_figures_alone_have_no_other_parts(open_session):
    digest = digest_for(open_session)
    assert digest.sections() == [] and digest.as_json()["sections"] == []


def test_json_carries_every_figure(open_session):
    load_known_history(open_session)
    data = digest_for(open_session).as_json()
    assert data["week"] == "2026-W47" and data["starts_at"] == "2026-11-16T00:00:00+00:00"
    assert data["logged"] == {"value": 6, "previous": 2, "change": 4}
    assert data["nps"]["score"] == 25.0
    assert data["by_category"] == {"billing": 3, "delivery": 2, "product": 1}
    assert data["oldest_open"][0]["reference"] == "C-8"
    assert len(data["trend"]) == 8


def test_weeks_follow_the_time_zone(open_session):
    load_known_history(open_session)
    with open_session() as session:
        # In Auckland (UTC+13) C5, logged Sunday 20:00 UTC, falls on Monday of W48.
        digest = weekly_digest(session, week=IsoWeek.parse("2026-W47"), zone=ZoneInfo("Pacific/Auckland"),
                               now=at(23, 9, 0), targets=parse_targets(DEFAULT_SLA_TARGETS))
    assert digest.logged.value == 5


@pytest.mark.parametrize("text", ["", "2026-W54", "W47", "2026-47x", "<!channel>"])
def test_bad_weeks_are_refused_clearly(text):
    with pytest.raises(InvalidInput, match="ISO week"):
        IsoWeek.parse(text)
