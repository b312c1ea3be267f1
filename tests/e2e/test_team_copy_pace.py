"""Team copies at Slack's pace (about one post a second per channel): a burst posts a few
at once and leaves the rest to the retry job, which posts them at the pace from the
database; several processes each claim their own copies; a 429's Retry-After holds
every post back. Every copy is posted once, and nobody is told it was before it is."""

from __future__ import annotations

import threading
from datetime import timedelta

from slack_sdk import WebClient
from sqlmodel import select

from bot import team_copies
from bot.channel_pace import BURST
from bot.team_copies import FIRST_TRY
from handlers import team_copy
from handlers.ids import Block
from models.complaints import Complaint
from tests.harness import ALICE, COMPLAINTS

# One process posting at Slack's own pace.
PACED = {"slack_channel_posts_per_second": 1, "web_concurrency": 1, "manager_ids": ()}


def team_posts(slack) -> list:
    """chat.postMessage calls Slack took into the team channel (not thread replies)."""
    return [call for call in slack.calls_to("chat.postMessage")
            if call.args["channel"] == COMPLAINTS and not call.args.get("thread_ts")]


def posted_ids(slack) -> list[str]:
    """Each team message's complaint, by the ID its buttons carry."""
    return [block["elements"][0]["value"] for (channel, _), message in sorted(slack.messages.items())
            if channel == COMPLAINTS and not message.get("thread_ts")
            for block in message["blocks"] if block.get("block_id") == Block.ACTIONS]


def unposted(desk) -> list[int]:
    with desk.open_session() as session:
        return list(session.exec(select(Complaint.id).where(Complaint.slack_ts == "")))


def test_a_burst_posts_a_few_at_once_and_the_rest_at_the_pace_each_once(make_desk, slack, clock):
    desk = make_desk(**PACED)
    replies = [desk.client.command(f"#billing burst complaint {n}") for n in range(8)]
    desk.settle()
    assert all("will be posted to" in reply.text for reply in replies)
    at_once = team_posts(slack)
    # The burst, and what the pace fits into the first post's wait; the rest were left.
    assert BURST <= len(at_once) < 8
    assert len(unposted(desk)) == 8 - len(at_once)
    told = [call.args["text"] for call in slack.calls_to("response_url")]
    assert sum("and posted to" in text for text in told) == len(at_once)  # only those really posted
    clock.advance(seconds=FIRST_TRY.total_seconds())
    desk.tick()
    desk.settle()
    later = team_posts(slack)[len(at_once):]
    assert unposted(desk) == [] and len(later) == 8 - len(at_once)
    assert sorted(posted_ids(slack), key=int) == [str(n) for n in range(1, 9)]
    # Not faster than one a second (less a little for the clock's grain).
    gaps = [b.at - a.at for a, b in zip(later, later[1:])]
    assert all(gap >= 0.9 for gap in gaps), gaps
    assert len([call for call in slack.calls_to("chat.postMessage") if call.args["channel"] == ALICE]) == len(later)


def test_two_processes_claim_their_own_copies_and_post_each_once(make_desk, slack, clock):
    logging_desk = make_desk(manager_ids=())
    slack.fail("chat.postMessage", "internal_error", times=10)
    for n in range(10):
        logging_desk.client.command(f"#billing outage complaint {n}")
    logging_desk.settle()
    assert len(unposted(logging_desk)) == 10
    # Two workers of one server, sharing Slack's pace: each takes five per tick.
    first, second = (make_desk(slack_channel_posts_per_second=1, web_concurrency=2, manager_ids=()) for _ in range(2))
    clock.advance(minutes=1)
    ticks = [threading.Thread(target=desk.tick) for desk in (first, second)]
    for tick in ticks:
        tick.start()
    for tick in ticks:
        tick.join()
    assert unposted(logging_desk) == []
    assert sorted(posted_ids(slack), key=int) == [str(n) for n in range(1, 11)]
    assert len(team_posts(slack)) == 20  # ten refused, ten posted
    # Nobody looked in the channel: every earlier try was surely refused.
    assert slack.calls_to("conversations.history") == []


def test_retry_after_holds_the_next_posts(make_desk, slack, clock):
    desk = make_desk(**PACED)
    slack.fail("chat.postMessage", "ratelimited", status=429, retry_after=2)
    desk.client.command("#billing first")
    slack.wait_for("chat.postMessage", 1)
    desk.client.command("#billing second")
    desk.settle()
    first_try, *later = team_posts(slack)
    assert len(later) == 2 and unposted(desk) == []
    # The limited post was tried again after Retry-After, and the other one, though not
    # limited itself, waited as long (less a little for the clock's grain).
    assert all(call.at - first_try.at >= 1.9 for call in later), [call.at - first_try.at for call in later]


def test_a_lease_runs_out_when_its_process_dies_and_the_next_looks_first(make_desk, slack, clock):
    desk = make_desk(manager_ids=())
    slack.fail("chat.postMessage", "internal_error")
    desk.client.command("#billing charged twice")
    desk.settle()
    clock.advance(minutes=1)
    # A process claims the retry, posts the copy, and dies before saving where it went.
    [claim] = team_copies.claim_due(desk.open_session, now=clock(), limit=5, lease=timedelta(minutes=1))
    assert claim.may_be_posted is False  # the only try was refused
    client = WebClient(token="xoxb-test-token", base_url=desk.settings.slack_api_url)
    ts = client.chat_postMessage(channel=COMPLAINTS, text="C-1",
                                 blocks=team_copy.team_message_blocks(desk.services, claim.complaint))["ts"]
    desk.tick()  # leased: nobody else takes it
    desk.settle()
    assert unposted(desk) == [claim.complaint.id]
    clock.advance(minutes=2)
    desk.tick()
    desk.settle()
    with desk.open_session() as session:
        assert session.exec(select(Complaint.slack_ts)).one() == ts
    assert len(team_posts(slack)) == 2  # the refused try and the dead process's post
    assert slack.calls_to("conversations.history")
