"""Team copies after a crash: re-posted within a minute, never twice (the retry first
looks in the channel for a copy whose buttons carry the complaint's ID), and the person
who logged it is told when a late copy is finally posted."""

from __future__ import annotations

from sqlalchemy import update
from sqlmodel import select

from bot.team_copies import FIRST_TRY
from models.complaints import Complaint
from models.db import unit_of_work
from tests.harness import ALICE, COMPLAINTS


def team_posts(slack) -> list:
    return [call for call in slack.calls_to("chat.postMessage") if call.args["channel"] == COMPLAINTS]


def restart_after_losing_where_it_went(desk, make_desk, slack, clock, ts: str) -> None:
    """What a process killed between the post and saving where it went leaves behind,
    then a restart's retry: the copy is found (at `ts`), not posted again."""
    with unit_of_work(desk.open_session) as session:
        session.exec(update(Complaint).values(slack_channel="", slack_ts=""))
    restarted = make_desk(manager_ids=())
    clock.advance(seconds=FIRST_TRY.total_seconds() + 1)
    restarted.tick()
    restarted.settle()
    assert len(team_posts(slack)) == 1
    with restarted.open_session() as session:
        assert session.exec(select(Complaint.slack_ts)).one() == ts


def test_a_copy_posted_just_before_a_crash_is_found_not_posted_again(make_desk, slack, clock):
    desk = make_desk(manager_ids=())
    desk.client.command("#billing charged twice")
    desk.settle()
    assert len(team_posts(slack)) == 1
    with desk.open_session() as session:
        ts = session.exec(select(Complaint.slack_ts)).one()
    restart_after_losing_where_it_went(desk, make_desk, slack, clock, ts)
    assert slack.calls_to("conversations.history")


def test_a_copy_that_never_went_out_is_posted_within_a_minute_and_the_reporter_told(make_desk, slack, clock):
    desk = make_desk(manager_ids=())
    slack.fail("chat.postMessage", "not_in_channel")
    desk.client.command("#billing charged twice")
    desk.settle()
    assert len(team_posts(slack)) == 1  # refused: not in the channel
    clock.advance(seconds=31)
    desk.tick()
    desk.settle()
    assert len(team_posts(slack)) == 2
    told = [call.args["text"] for call in slack.calls_to("chat.postMessage") if call.args["channel"] == ALICE]
    assert any("is now posted in" in text for text in told), told


def test_a_copy_far_back_in_a_busy_channel_is_found_through_every_page(make_desk, slack, clock):
    desk = make_desk(manager_ids=())
    desk.client.command("#billing charged twice")
    desk.settle()
    with desk.open_session() as session:
        ts = session.exec(select(Complaint.slack_ts)).one()
    for n in range(250):  # more than a page of history since
        slack.add_message(COMPLAINTS, f"chatter {n}", user=ALICE)
    restart_after_losing_where_it_went(desk, make_desk, slack, clock, ts)
    assert len(slack.calls_to("conversations.history")) == 2
