"""The daily service-quality index against figures worked out by hand (tests/three_weeks.py),
its weights and settings, and when it is due."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.config import SettingsError, load_settings
from bot.quality_index import IndexRules, daily_index, daily_series, due_post, parse_weights, points_per_day
from bot.sla import DEFAULT_SLA_TARGETS, parse_targets
from tests.three_weeks import COMPUTED_AT, load_three_weeks

UTC_ZONE = ZoneInfo("UTC")
RULES = IndexRules(parse_weights(""), parse_targets(DEFAULT_SLA_TARGETS), stale_days=2)

# Each day's failures, worked out from the table with the default weights and STALE_DAYS=2
# (a complaint is stale 2 days after its last event left it waiting on the team):
EXPECTED_DAYS = {
    # W46: C1 went quiet after its response on Tue 10 10:00; its 72 h target passed Fri 13 09:00.
    date(2026, 11, 12): (2, {"stale": [1]}),
    date(2026, 11, 13): (5, {"sla_breach": [1]}),
    # W47
    date(2026, 11, 16): (5, {"detractor": [2]}),  # C2's 6 at resolution
    date(2026, 11, 18): (2, {"stale": [4]}),  # responded Mon 16 09:00, then nothing
    # C4's target (08:00), C3's moved one (17:00), C7's late first response (17:00).
    date(2026, 11, 19): (11, {"sla_breach": [4, 3], "late_first_response": [7]}),
    date(2026, 11, 21): (4, {"stale": [3, 7]}),  # quiet since Thu 19 10:00 and 18:00
    date(2026, 11, 22): (5, {"sla_breach": [7]}),
    # W48 (C5 was waiting on the customer: its clock stood still until Tue 24 10:00)
    date(2026, 11, 23): (3, {"reopened": [2]}),
    date(2026, 11, 24): (11, {"late_first_response": [6], "detractor": [8], "sla_breach": [5]}),
    # Wed 25 so far (12:00): C6, C2 and C7 quiet since Mon 23 09:00, 10:00 and 11:00.
    date(2026, 11, 25): (6, {"stale": [6, 2, 7]}),
}


def test_each_day_matches_the_hand_worked_failures(open_session):
    load_three_weeks(open_session)
    with open_session() as session:
        series = daily_series(session, first_day=date(2026, 11, 9), days=17, zone=UTC_ZONE, now=COMPUTED_AT, rules=RULES)
    for index in series:
        points, failures = EXPECTED_DAYS.get(index.day, (0, {}))
        assert index.points == points, index.day
        assert {kind: ids for kind, ids in index.failures.items() if ids} == failures, index.day
    assert [index.complete for index in series[-2:]] == [True, False]  # Wed 25 is today: so far
    assert sum(index.points for index in series if date(2026, 11, 16) <= index.day <= date(2026, 11, 22)) == 27


@pytest.mark.parametrize("weights, stale_days", [("", 2), ("sla_breach=10,late_first_response=0", 3)])
def test_the_points_counted_in_sql_are_the_points_of_the_failures_listed(open_session, weights, stale_days):
    # The digest shows points only and counts them grouped by day (points_per_day); the
    # daily post lists the complaints behind them (daily_series): both must agree, today
    # (Wed 25, so far) and the days after it (nothing yet) included.
    load_three_weeks(open_session)
    rules = IndexRules(parse_weights(weights), RULES.targets, stale_days=stale_days)
    with open_session() as session:
        listed = daily_series(session, first_day=date(2026, 11, 9), days=21, zone=UTC_ZONE, now=COMPUTED_AT, rules=rules)
        counted = points_per_day(session, first_day=date(2026, 11, 9), days=21, zone=UTC_ZONE, now=COMPUTED_AT, rules=rules)
    assert [(d.day, d.points, d.complete) for d in counted] == [(d.day, d.points, d.complete) for d in listed]
    assert sum(d.points for d in counted) > 0


def test_a_past_day_is_the_same_whenever_it_is_computed(open_session):
    load_three_weeks(open_session)
    with open_session() as session:
        then = daily_index(session, day=date(2026, 11, 19), zone=UTC_ZONE, now=datetime(2026, 11, 20, 0, 0, tzinfo=UTC), rules=RULES)
        later = daily_index(session, day=date(2026, 11, 19), zone=UTC_ZONE, now=COMPUTED_AT + timedelta(days=30), rules=RULES)
    assert then == later and then.points == 11


def test_weights_and_kinds_are_configurable(open_session):
    load_three_weeks(open_session)
    rules = IndexRules(parse_weights("sla_breach=10,late_first_response=0"), RULES.targets, stale_days=2)
    with open_session() as session:
        index = daily_index(session, day=date(2026, 11, 19), zone=UTC_ZONE, now=COMPUTED_AT, rules=rules)
    assert index.points == 20 and "late_first_response" not in index.failures
    # A longer STALE_DAYS: C3 and C7 (quiet from Thu 19) are stale on Sun 22 instead of Sat 21.
    patient = IndexRules(RULES.weights, RULES.targets, stale_days=3)
    with open_session() as session:
        saturday, sunday = daily_series(session, first_day=date(2026, 11, 21), days=2, zone=UTC_ZONE, now=COMPUTED_AT,
                                        rules=patient)
    assert saturday.failures["stale"] == [] and sunday.failures["stale"] == [3, 7]


@pytest.mark.parametrize("text, problem", [
    ("breach=5", "not a failure kind"), ("stale=x", "whole-number weight"), ("stale", "whole-number weight"),
    ("stale=101", "whole-number weight"),
])
def test_bad_weights_are_refused_naming_the_setting(text, problem):
    with pytest.raises(SettingsError, match=f"SQI_WEIGHTS is invalid: .*{problem}"):
        load_settings(env_file=None, sqi_weights=text)


def test_bad_post_time_is_refused_and_empty_turns_posting_off():
    with pytest.raises(SettingsError, match="SQI_TIME is invalid"):
        load_settings(env_file=None, sqi_time="9am")
    assert load_settings(env_file=None, sqi_time="").sqi_post_time is None
    settings = load_settings(env_file=None, sqi_time="7:30", complaints_channel="CCOMPLAIN1")
    assert settings.sqi_post_time == time(7, 30) and settings.sqi_post_channel == "CCOMPLAIN1"


@pytest.mark.parametrize("now, expected", [
    # Monday 09:00 covers Friday to Sunday; Tuesday's covers Monday.
    (datetime(2026, 11, 23, 9, 0), (date(2026, 11, 23), [date(2026, 11, 20), date(2026, 11, 21), date(2026, 11, 22)])),
    (datetime(2026, 11, 24, 9, 0), (date(2026, 11, 24), [date(2026, 11, 23)])),
    # Before the time, and all weekend, Friday's post is the latest due.
    (datetime(2026, 11, 23, 8, 59), (date(2026, 11, 20), [date(2026, 11, 19)])),
    (datetime(2026, 11, 22, 23, 0), (date(2026, 11, 20), [date(2026, 11, 19)])),
])
def test_the_post_due_is_the_latest_working_days(now, expected):
    assert due_post(now.replace(tzinfo=UTC), at=time(9, 0), zone=UTC_ZONE) == expected
