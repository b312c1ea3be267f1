"""The daily service-quality index: posted once each working day at SQI_TIME, and `/desk sqi`.

The clock starts on Monday 2026-11-23 09:00 UTC; the history is tests/three_weeks.py's.
"""

from __future__ import annotations

import threading

import pytest

from tests.harness import ALICE, COMPLAINTS, MANAGER
from tests.three_weeks import load_three_weeks

QUALITY = "CQUALITY01"


def posts(slack) -> list[tuple[str, str]]:
    return [
        (c.args["channel"], c.args["text"]) for c in slack.calls_to("chat.postMessage")
        if c.args["text"].startswith("Service-quality index")
    ]


@pytest.fixture
def quality_desk(make_desk):
    def make(**overrides):
        return make_desk(**{"quiet_hours": "", "digest_delivery": "channel", "manager_channel": "CMANAGERS1",
                            "sqi_time": "09:00", **overrides})

    return make


def test_posted_once_each_working_day_at_its_time_and_not_at_weekends(quality_desk, slack, clock):
    clock.now = clock.now.replace(day=20, hour=8, minute=59)  # Friday, a minute early
    desk = quality_desk(sqi_channel=QUALITY)
    load_three_weeks(desk.open_session)
    desk.tick()  # the bot's first tick: Thursday's post (for Wednesday) never went out
    assert posts(slack) == [(QUALITY, "Service-quality index, Wed 18 Nov: 2 points")]
    desk.tick()
    clock.now = clock.now.replace(minute=0, hour=9)
    desk.tick()
    desk.tick()
    assert posts(slack)[1:] == [(QUALITY, "Service-quality index, Thu 19 Nov: 11 points")]
    for day in (21, 22):  # Saturday and Sunday at 09:00, and later
        for hour in (9, 18):
            clock.now = clock.now.replace(day=day, hour=hour)
            desk.tick()
    assert len(posts(slack)) == 2
    clock.now = clock.now.replace(day=23, hour=9)  # Monday's covers Friday to Sunday
    desk.tick()
    desk.tick()
    assert posts(slack)[2:] == [(QUALITY, "Service-quality index, Fri 20 Nov – Sun 22 Nov: 9 points")]
    message = slack.calls_to("chat.postMessage")[-1]
    text = str(message.args["blocks"])
    assert "Fri 20 Nov: *0* · Sat 21 Nov: *4* · Sun 22 Nov: *5*" in text
    assert "*Resolution targets missed*: 1 × 5 = 5 points\\nC-7" in text
    assert "*Waiting on the team more than 2 days*: 2 × 2 = 4 points\\nC-3, C-7" in text


def test_the_time_and_time_zone_are_configurable_and_the_channel_defaults_to_complaints(quality_desk, slack, clock):
    # 07:30 in New York is 12:30 UTC on Monday 23 Nov.
    desk = quality_desk(sqi_time="07:30", tz="America/New_York")
    clock.now = clock.now.replace(hour=12, minute=29)
    desk.tick()
    assert [text for _, text in posts(slack)] == ["Service-quality index, Thu 19 Nov: 0 points"]  # Friday's
    clock.now = clock.now.replace(minute=30)
    desk.tick()
    assert posts(slack)[-1] == (COMPLAINTS, "Service-quality index, Fri 20 Nov – Sun 22 Nov: 0 points")


def test_two_bots_on_one_database_post_once_and_a_restart_posts_nothing_again(quality_desk, slack, clock):
    first, second = quality_desk(sqi_channel=QUALITY), quality_desk(sqi_channel=QUALITY)
    threads = [threading.Thread(target=desk.tick) for desk in (first, second, first, second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    quality_desk(sqi_channel=QUALITY).tick()  # a restarted process
    assert posts(slack) == [(QUALITY, "Service-quality index, Fri 20 Nov – Sun 22 Nov: 0 points")]


def test_a_failed_post_is_retried_on_the_next_tick(quality_desk, slack):
    desk = quality_desk(sqi_channel=QUALITY)
    slack.fail("chat.postMessage", "channel_not_found", times=2)  # the digest's, then the index's
    desk.tick()
    desk.tick()
    desk.tick()
    assert len(posts(slack)) == 2  # the refused one, and the retry that went out


def test_no_post_without_a_time(quality_desk, slack):
    quality_desk(sqi_time="").tick()
    assert posts(slack) == []


# ----- /desk sqi -------------------------------------------------------------------------
def test_desk_sqi_shows_a_days_index_with_the_complaints_behind_it(quality_desk, slack, clock):
    desk = quality_desk()
    load_three_weeks(desk.open_session)
    desk.client.command("sqi 2026-11-19", command="/desk", user=MANAGER)
    desk.settle()
    [reply] = slack.calls_to("response_url")
    assert reply.args["text"] == "Service-quality index, Thu 19 Nov: 11 points"
    assert reply.args["response_type"] == "ephemeral"
    text = str(reply.args["blocks"])
    assert "*Resolution targets missed*: 2 × 5 = 10 points\\nC-4, C-3" in text
    assert "*First responses late*: 1 × 1 = 1 point\\nC-7" in text
    desk.client.command("sqi", command="/desk", user=MANAGER)  # today so far: C2 is reopened only at 10:00
    desk.settle()
    assert slack.calls_to("response_url")[-1].args["text"] == "Service-quality index, Mon 23 Nov (so far): 0 points"


@pytest.mark.parametrize("text, expected", [
    ("sqi 2026-13-01", "not a date"),
    ("sqi 2026-11-24", "still to come"),
])
def test_desk_sqi_answers_bad_dates_clearly(quality_desk, slack, text, expected):
    desk = quality_desk()
    assert expected in desk.client.command(text, command="/desk", user=MANAGER).text
    assert "for managers and admins" in desk.client.command("sqi", command="/desk", user=ALICE).text
    desk.settle()
    assert slack.calls_to("response_url") == []
