"""The digest's figures against a data set worked out by hand (tests/digest_data.py)."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import pytest

from bot.digest import DigestSection, IsoWeek, Period, weekly_digest
from bot.errors import InvalidInput
from bot.sla import DEFAULT_SLA_TARGETS, parse_targets
from tests.digest_data import EXPECTED_W47, at, load_known_history

UTC_ZONE = ZoneInfo("UTC")


def digest_for(open_session, week="2026-W47", now=at(23, 9, 0), **kwargs):
    with open_session() as session:
        return weekly_digest(session, week=IsoWeek.parse(week), zone=UTC_ZONE, now=now,
                             targets=parse_targets(DEFAULT_SLA_TARGETS), **kwargs)


def test_every_figure_matches_the_hand_computed_answer(open_session):
    load_known_history(open_session)
    digest = digest_for(open_session)
    for name in ("logged", "resolved", "open"):
        figure = getattr(digest, name)
        assert (figure.value, figure.previous) == EXPECTED_W47[name], name
    for name in ("first_response", "resolution"):
        durations = getattr(digest, name)
        count, median, p90 = EXPECTED_W47[name]
        assert durations.count == count
        assert durations.median_seconds == pytest.approx(median, abs=0.5)
        assert durations.p90_seconds == pytest.approx(p90, abs=0.5)
    assert digest.breaches == EXPECTED_W47["breaches"]
    assert digest.by_category == EXPECTED_W47["by_category"]
    assert digest.by_channel == EXPECTED_W47["by_channel"]
    assert [c.reference for c in digest.oldest_open] == EXPECTED_W47["oldest_open"]
    nps = digest.nps
    assert (nps.answers, nps.promoters, nps.passives, nps.detractors, nps.score) == EXPECTED_W47["nps"]


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


def test_optional_sections_come_from_providers_and_none_means_left_out(open_session):
    seen = []

    def morale(session, period: Period):
        seen.append((str(period.week), period.start.isoformat()))
        return DigestSection("morale", "Morale", ["• 12 kudos"], {"kudos": 12})

    digest = digest_for(open_session, sections=[morale, lambda session, period: None])
    assert [s.key for s in digest.sections] == ["morale"]
    assert seen == [("2026-W47", "2026-11-16T00:00:00+00:00")]
    assert digest.as_json()["sections"][0]["figures"] == {"kudos": 12}


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
