"""The reminder decisions as pure functions of complaints and the clock (no database, no Slack)."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.reminders import NoticeKind, notices_due, plan_notices
from bot.scheduler import Ticker, run_jobs
from bot.sla import parse_targets
from models.complaints import Complaint

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
TARGETS = parse_targets("")


def complaint(number: int, severity: str = "normal", owner: str = "U1", **times) -> Complaint:
    return Complaint(id=number, description="x", severity=severity, owner_id=owner, reporter_id=owner,
                     created_at=T0, updated_at=T0, **times)


def due(complaints, minutes: float, follow_up_days: int = 3, waiting_days: int = 3):
    return notices_due(complaints, now=T0 + timedelta(minutes=minutes), targets=TARGETS, due_soon=0.75,
                       follow_up_days=follow_up_days, waiting_days=waiting_days)


def test_notices_fall_due_at_75_percent_and_at_the_deadline():
    high = [complaint(1, "high")]  # first response 4 h, resolution 24 h
    assert due(high, 179) == []
    assert [(n.kind, n.key) for n in due(high, 180)] == [(NoticeKind.REMINDER, "reminder:1:first_response")]
    assert {n.key for n in due(high, 240)} == {"reminder:1:first_response", "escalation:1:first_response"}
    assert {n.key for n in due(high, 18 * 60)} == {
        "reminder:1:first_response", "escalation:1:first_response", "reminder:1:resolution"}


def test_follow_ups_fall_due_days_after_resolution():
    resolved = complaint(1, status="resolved", first_responded_at=T0, resolved_at=T0 + timedelta(hours=1))
    assert due([resolved], 60 + 3 * 24 * 60 - 1) == []
    [notice] = due([resolved], 60 + 3 * 24 * 60)
    assert notice.kind is NoticeKind.FOLLOW_UP and notice.key == "follow_up:1:20261123T100000"
    assert due([resolved], 60 + 3 * 24 * 60, follow_up_days=0) == []


def test_the_plan_skips_what_was_sent_batches_per_owner_and_holds_quiet_hours():
    complaints = [complaint(1, owner="UA"), complaint(2, owner="UA"), complaint(3, "urgent", owner="UB")]
    notices = due(complaints, 6 * 60)  # normal: 75% of 8 h; urgent: breached, and 75% of its 8 h resolution
    night = T0.replace(hour=22)
    quiet = (time(20), time(8))
    plan = plan_notices(notices, settled={"reminder:2:first_response"}, now=night, quiet=quiet, zone=ZoneInfo("UTC"))
    assert {owner: [n.key for n in items] for owner, items in plan.reminders.items()} == {
        "UB": ["reminder:3:first_response", "reminder:3:resolution"]}
    assert [n.key for n in plan.escalations] == ["escalation:3:first_response"]
    assert [n.key for n in plan.held_for_quiet_hours] == ["reminder:1:first_response"]
    day = plan_notices(notices, settled=set(), now=T0.replace(hour=15), quiet=quiet, zone=ZoneInfo("UTC"))
    assert [n.complaint.id for n in day.reminders["UA"]] == [1, 2]


def test_a_failing_job_does_not_stop_the_others():
    ran = []

    def broken():
        raise RuntimeError("boom")

    run_jobs([broken, lambda: ran.append("after")])
    assert ran == ["after"]


def test_the_ticker_runs_its_jobs_on_start_and_stops():
    ticked = threading.Event()
    ticker = Ticker([ticked.set], interval=3600).start()
    assert ticked.wait(timeout=5)
    ticker.stop()  # returns once the loop has ended
