"""Reminders, escalations and follow-ups fire at the right time, once, quietly at night.

The clock starts on Monday 2026-11-23 09:00 UTC; `desk.tick()` is one scheduler tick.
"""

from __future__ import annotations

import threading

import pytest

from tests.harness import ALICE, BOB, MANAGER

MANAGERS = "CMANAGERS1"


@pytest.fixture
def make_quiet_free_desk(make_desk):
    def make(**overrides):
        return make_desk(**{"manager_channel": MANAGERS, "quiet_hours": "", **overrides})

    return make


def reminders_to(slack, user: str) -> list[str]:
    return [c.args["text"] for c in slack.calls_to("chat.postMessage") if c.args["channel"] == user and c.args["text"].startswith("Reminder")]


def escalations(slack) -> list[str]:
    return [c.args["text"] for c in slack.calls_to("chat.postMessage") if c.args["channel"] == MANAGERS and c.args["text"].startswith("SLA breached")]


def advance_to(clock, desk, hour: int, minute: int = 0, day: int = 23) -> None:
    clock.now = clock.now.replace(day=day, hour=hour, minute=minute)
    desk.tick()


def test_owner_is_reminded_once_at_75_percent_and_managers_hear_of_a_breach_once(make_quiet_free_desk, slack, clock):
    desk = make_quiet_free_desk()
    desk.client.command("!high #billing charged twice")  # first response due in 4 h, at 13:00
    desk.settle()
    posted = slack.calls_to("chat.postMessage")[0]
    assert "🟢 SLA on track · first response due" in str(posted.args["blocks"])
    advance_to(clock, desk, 11, 59)
    assert reminders_to(slack, ALICE) == []
    advance_to(clock, desk, 12, 0)  # 75% of 4 h
    advance_to(clock, desk, 12, 30)
    [reminder] = reminders_to(slack, ALICE)
    assert "C-1" in reminder
    dm = [c for c in slack.calls_to("chat.postMessage") if c.args["channel"] == ALICE][-1]
    assert "first response due in 1 h" in str(dm.args["blocks"])

    assert escalations(slack) == []
    advance_to(clock, desk, 13, 0)
    advance_to(clock, desk, 14, 0)
    assert escalations(slack) == ["SLA breached: C-1"]
    escalation = [c for c in slack.calls_to("chat.postMessage") if c.args["channel"] == MANAGERS][-1]
    assert "<@UALICE0001>" in str(escalation.args["blocks"]) and "overdue by" in str(escalation.args["blocks"])
    # The team's copy now shows the breach.
    assert "SLA breached" in str(slack.calls_to("chat.update")[-1].args["blocks"])


def test_a_first_response_in_time_stops_the_reminders(make_quiet_free_desk, slack, clock):
    desk = make_quiet_free_desk()
    desk.client.command("!high #billing charged twice")
    desk.client.command("responded C-1 called her")
    desk.settle()
    advance_to(clock, desk, 12, 0)
    advance_to(clock, desk, 14, 0)
    assert reminders_to(slack, ALICE) == [] and escalations(slack) == []


def test_at_most_one_reminder_dm_an_hour_with_due_items_batched(make_quiet_free_desk, slack, clock):
    desk = make_quiet_free_desk()
    desk.client.command("#billing one")  # normal: first response due 17:00, reminder at 15:00
    clock.now = clock.now.replace(minute=30)
    desk.client.command("#billing two")  # reminder at 15:30
    clock.now = clock.now.replace(hour=10, minute=0)
    desk.client.command("#billing three")  # reminder at 16:00
    desk.client.command("#billing four")  # reminder at 16:00
    desk.settle()
    advance_to(clock, desk, 15, 0)
    advance_to(clock, desk, 15, 30)  # C-2 is due, but Alice had a DM half an hour ago
    assert reminders_to(slack, ALICE) == ["Reminder: C-1 needs you"]
    advance_to(clock, desk, 16, 0)
    assert reminders_to(slack, ALICE) == ["Reminder: C-1 needs you", "Reminder: C-2, C-3, C-4 need you"]


def test_quiet_hours_hold_reminders_except_for_urgent_complaints(make_desk, slack, clock):
    desk = make_desk(manager_channel=MANAGERS, quiet_hours="20:00-08:00", tz="UTC")
    clock.now = clock.now.replace(hour=14)
    desk.client.command("#billing quiet one")  # normal: reminder at 20:00, breach at 22:00
    clock.now = clock.now.replace(hour=19, minute=30)
    desk.client.command("!urgent #billing loud one")  # urgent: reminder at 20:15, breach at 20:30
    desk.settle()
    advance_to(clock, desk, 20, 15)
    assert reminders_to(slack, ALICE) == ["Reminder: C-2 needs you"]
    advance_to(clock, desk, 20, 30)
    advance_to(clock, desk, 23, 0)
    assert reminders_to(slack, ALICE) == ["Reminder: C-2 needs you"]  # C-1's (due 20:00) waits
    assert escalations(slack) == ["SLA breached: C-2"]
    # 08:00: what waited goes out together with what fell due since (C-2's resolution
    # target, 75% at 01:30 and missed at 03:30), urgent first.
    advance_to(clock, desk, 8, 0, day=24)
    assert reminders_to(slack, ALICE)[-1] == "Reminder: C-2, C-1 need you"
    assert escalations(slack) == ["SLA breached: C-2", "SLA breached: C-2, C-1"]


def test_follow_up_reminder_after_resolution_until_recorded(make_quiet_free_desk, slack, clock):
    desk = make_quiet_free_desk(follow_up_days=3)
    desk.client.command("#delivery parcel crushed")
    desk.client.command("responded C-1 sorry")
    desk.client.command("resolve C-1 sent a new one")
    desk.settle()
    advance_to(clock, desk, 8, 59, day=26)
    assert reminders_to(slack, ALICE) == []
    advance_to(clock, desk, 9, 0, day=26)
    advance_to(clock, desk, 12, 0, day=26)
    [reminder] = reminders_to(slack, ALICE)
    dm = [c for c in slack.calls_to("chat.postMessage") if c.args["channel"] == ALICE][-1]
    assert "followed-up C-1" in str(dm.args["blocks"])

    # Reopened and resolved again: a new resolution, a new follow-up; once recorded, no more.
    desk.client.command("reopen C-1")
    desk.client.command("resolve C-1 refunded instead")
    desk.settle()
    advance_to(clock, desk, 12, 0, day=29)
    assert len(reminders_to(slack, ALICE)) == 2
    desk.client.command("followed-up C-1 happy now")
    desk.client.command("reopen C-1")
    desk.client.command("resolve C-1 again")
    desk.client.command("followed-up C-1 still happy")
    desk.settle()
    advance_to(clock, desk, 12, 0, day=30)
    assert len(reminders_to(slack, ALICE)) == 2


def test_a_failed_send_is_retried_on_the_next_tick_and_then_only_once(make_quiet_free_desk, slack, clock):
    desk = make_quiet_free_desk()
    desk.client.command("!urgent #billing on fire")
    desk.settle()
    advance_to(clock, desk, 9, 45)  # the owner's reminder (and the week's digest) go out
    slack.fail("chat.postMessage", "ratelimited", status=429, retry_after=0, times=3)
    advance_to(clock, desk, 10, 5)  # breached: the escalation is refused, retries and all
    assert escalations(slack) == ["SLA breached: C-1"] * 3  # the client's own retries, all refused
    advance_to(clock, desk, 10, 6)
    advance_to(clock, desk, 10, 7)
    assert escalations(slack) == ["SLA breached: C-1"] * 4


def test_notices_go_to_the_managers_by_dm_without_a_manager_channel(make_desk, slack, clock):
    desk = make_desk(manager_channel="", quiet_hours="")
    desk.client.command("!urgent #billing on fire", user=BOB)
    desk.settle()
    advance_to(clock, desk, 10, 5)
    dms = [c.args["text"] for c in slack.calls_to("chat.postMessage") if c.args["channel"] == MANAGER]
    assert "SLA breached: C-1" in dms


def test_old_history_does_not_flood_anyone_when_the_bot_is_installed(make_quiet_free_desk, slack, clock):
    desk = make_quiet_free_desk()
    desk.client.command("!urgent #billing ancient")
    desk.settle()
    clock.advance(days=30)
    desk.tick()
    assert reminders_to(slack, ALICE) == [] and escalations(slack) == []


def test_two_bots_on_one_database_send_each_notice_once(make_quiet_free_desk, slack, clock):
    first, second = make_quiet_free_desk(), make_quiet_free_desk()
    first.client.command("!urgent #billing on fire")
    first.client.command("!high #delivery lost parcel", user=BOB)
    first.settle()
    clock.now = clock.now.replace(hour=13, minute=30)  # both breached, reminders due
    threads = [threading.Thread(target=desk.tick) for desk in (first, second, first, second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    first.tick(), second.tick()
    assert reminders_to(slack, ALICE) == ["Reminder: C-1 needs you"]
    assert reminders_to(slack, BOB) == ["Reminder: C-2 needs you"]
    # Escalations are claimed one by one, so the two bots may split them between two messages.
    escalated = ", ".join(escalations(slack)).replace("SLA breached: ", "")
    assert sorted(escalated.split(", ")) == ["C-1", "C-2"]
