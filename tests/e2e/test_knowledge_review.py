"""Review reminders go out on the scheduler's tick: in working hours, once a week per
person across processes and restarts, retried when Slack fails.

The clock starts on Monday 2026-11-23 09:00 UTC; QUIET_HOURS is 20:00-08:00.
"""

from __future__ import annotations

import threading

import pytest

from tests.harness import ADMIN, BOB, MANAGER
from tests.knowledge_files import write_sample

pytestmark = pytest.mark.e2e
# ADMIN owns "Returns and exchanges" (updated 2026-01-10), BOB "Taking ownership"
# (2026-11-01, not due); "Escalation paths" and "Privacy" have no owner nor date.
ADMINS = f"{ADMIN},{MANAGER}"


@pytest.fixture(autouse=True)
def folder(tmp_path):
    return write_sample(tmp_path / "knowledge")


def reminders(slack) -> list[tuple[str, str]]:
    """(recipient, message blocks) of every review reminder sent to Slack, refused or not."""
    return [(call.args["channel"], str(call.args["blocks"])) for call in slack.calls_to("chat.postMessage")
            if call.args["text"] == "Knowledge-base articles due for review"]


def test_each_owner_and_the_admins_are_reminded_once_a_week_in_working_hours(make_desk, slack, clock):
    clock.now = clock.now.replace(day=22, hour=12)  # Sunday
    first, second = (make_desk(knowledge_review_days=90, admin_ids=ADMINS) for _ in range(2))
    first.tick()
    clock.now = clock.now.replace(day=23, hour=7, minute=30)  # Monday, still quiet hours
    first.tick()
    assert reminders(slack) == []

    clock.now = clock.now.replace(hour=9)
    threads = [threading.Thread(target=desk.tick) for desk in (first, second, first, second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    sent = dict(reminders(slack))
    assert sorted(sent) == sorted([ADMIN, MANAGER]) and len(reminders(slack)) == 2
    # One message each: the admin who owns an article gets it with the unowned ones.
    assert f"<@{ADMIN}>: Returns and exchanges" in sent[ADMIN] and "no owner: Escalation paths" in sent[ADMIN]
    assert "Returns and exchanges" not in sent[MANAGER] and "no owner: Privacy and data requests" in sent[MANAGER]
    assert "never dated" in sent[MANAGER] and BOB not in str(sent)
    assert "Taking ownership" not in str(sent)

    clock.advance(days=3)  # Thursday: the same week
    restarted = make_desk(knowledge_review_days=90, admin_ids=ADMINS)
    restarted.tick()
    assert len(reminders(slack)) == 2

    clock.now = clock.now.replace(day=30, hour=10)  # the next Monday
    restarted.tick()
    second.tick()
    assert sorted(recipient for recipient, _ in reminders(slack)[2:]) == sorted([ADMIN, MANAGER])


def test_a_reminder_slack_refused_is_sent_on_a_later_tick(make_desk, slack, clock):
    desk = make_desk(knowledge_review_days=90, admin_ids=ADMINS)
    slack.fail("chat.postMessage", "internal_error")  # the first reminder (the admin's) is refused
    desk.tick()
    assert [recipient for recipient, _ in reminders(slack)] == [ADMIN, MANAGER]
    clock.advance(minutes=1)
    desk.tick()
    clock.advance(minutes=1)
    desk.tick()
    assert [recipient for recipient, _ in reminders(slack)] == [ADMIN, MANAGER, ADMIN]
