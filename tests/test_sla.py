"""SLA targets, states, quiet hours and the digest schedule: pure functions of the clock."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.config import SettingsError, load_settings
from bot.weeks import IsoWeek, next_scheduled_week, scheduled_week
from bot.sla import SlaState, in_quiet_hours, parse_quiet_hours, parse_targets, sla_status
from models.complaints import Complaint

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
LONDON = ZoneInfo("Europe/London")


def complaint(severity="high", responded=None, resolved=None) -> Complaint:
    return Complaint(id=1, description="x", severity=severity, owner_id="U1", reporter_id="U1", created_at=T0,
                     updated_at=T0, first_responded_at=responded, resolved_at=resolved)


def test_targets_have_defaults_and_accept_partial_overrides():
    targets = parse_targets("high=2h/1d, urgent=30m/4h")
    assert targets["high"].first_response == timedelta(hours=2) and targets["high"].resolution == timedelta(days=1)
    assert targets["urgent"].first_response == timedelta(minutes=30)
    assert targets["normal"].resolution == timedelta(hours=72) and targets["low"].first_response == timedelta(hours=24)


@pytest.mark.parametrize(
    "text, message",
    [
        ("big=1h/2h", "not a severity"),
        ("high=4h", "give both targets"),
        ("high=4x/24h", "not a duration"),
        ("high=0h/24h", "not a duration"),
        ("high=48h/24h", "longer than the resolution"),
    ],
)
def test_bad_targets_name_the_problem(text, message):
    with pytest.raises(SettingsError, match=f"SLA_TARGETS is invalid: .*{message}"):
        load_settings(env_file=None, sla_targets=text)


@pytest.mark.parametrize(
    "at, state",
    [(0, SlaState.ON_TRACK), (179, SlaState.ON_TRACK), (180, SlaState.DUE_SOON), (239, SlaState.DUE_SOON),
     (240, SlaState.BREACHED), (5000, SlaState.BREACHED)],
)
def test_state_follows_the_clock(at, state):
    status = sla_status(complaint(), now=T0 + timedelta(minutes=at), targets=parse_targets(""), due_soon=0.75)
    assert status.first_response.state is state
    assert status.first_response.due_at == T0 + timedelta(hours=4)


def test_reached_targets_are_met_or_breached_for_good():
    on_time = complaint(responded=T0 + timedelta(hours=4), resolved=T0 + timedelta(hours=25))
    status = sla_status(on_time, now=T0 + timedelta(days=30), targets=parse_targets(""), due_soon=0.75)
    assert status.first_response.state is SlaState.MET
    assert status.resolution.state is SlaState.BREACHED and status.state is SlaState.BREACHED
    open_one = complaint(responded=T0 + timedelta(minutes=5))
    status = sla_status(open_one, now=T0 + timedelta(hours=20), targets=parse_targets(""), due_soon=0.75)
    assert (status.first_response.state, status.resolution.state, status.state) == (
        SlaState.MET, SlaState.DUE_SOON, SlaState.DUE_SOON)


@pytest.mark.parametrize(
    "quiet, local, expected",
    [("20:00-08:00", time(19, 59), False), ("20:00-08:00", time(20, 0), True), ("20:00-08:00", time(3, 0), True),
     ("20:00-08:00", time(8, 0), False), ("12:00-13:00", time(12, 30), True), ("", time(3, 0), False)],
)
def test_quiet_hours_are_read_in_the_time_zone(quiet, local, expected):
    moment = datetime(2026, 7, 1, local.hour, local.minute, tzinfo=LONDON)  # summer time: UTC+1
    assert in_quiet_hours(moment.astimezone(UTC), parse_quiet_hours(quiet), LONDON) is expected


@pytest.mark.parametrize("text", ["8-20", "20:00", "25:00-08:00", "08:00-08:00", "evening"])
def test_bad_quiet_hours_are_refused(text):
    with pytest.raises(SettingsError, match="QUIET_HOURS is invalid"):
        load_settings(env_file=None, quiet_hours=text)


def test_the_digest_covers_the_last_full_week_before_its_scheduled_time():
    monday_9 = "0 9 * * 1"
    assert scheduled_week(datetime(2026, 11, 23, 8, 59, tzinfo=UTC), schedule=monday_9, zone=LONDON) == IsoWeek(2026, 46)
    assert scheduled_week(datetime(2026, 11, 23, 9, 0, tzinfo=UTC), schedule=monday_9, zone=LONDON) == IsoWeek(2026, 47)
    assert next_scheduled_week(datetime(2026, 11, 25, 12, 0, tzinfo=UTC), schedule=monday_9, zone=LONDON) == IsoWeek(2026, 48)
    # Across a year boundary: Monday 2027-01-04 covers 2026-W53.
    assert scheduled_week(datetime(2027, 1, 4, 10, 0, tzinfo=UTC), schedule=monday_9, zone=LONDON) == IsoWeek(2026, 53)


def test_bad_schedules_are_refused():
    with pytest.raises(SettingsError, match="DIGEST_SCHEDULE is invalid"):
        load_settings(env_file=None, digest_schedule="every monday")
