"""A connection cut after Slack acted on a call: nothing is posted twice, and nobody is
told something untrue.

The emulator's `cut` carries out the call (the message is posted) and closes the
connection without answering, as a network that breaks at the wrong moment does. The
bot cannot know the post happened, so it must not send it again blindly
(bot/undelivered_retry.py): the team's copy is looked for in the channel before any
new post, and a DM, which the bot cannot read back, is not sent again.
"""

from __future__ import annotations

from sqlmodel import select

from bot.team_copies import FIRST_TRY
from models.complaints import Complaint
from tests.e2e.test_owner_told_later import dms_to, told_by_response_url
from tests.harness import BOB, COMPLAINTS


def team_messages(slack) -> list[str]:
    """The messages in the team's channel (a thread's replies aside)."""
    return [ts for (channel, ts), message in slack.messages.items()
            if channel == COMPLAINTS and message.get("thread_ts", ts) == ts]


def test_a_team_copy_and_an_owner_dm_cut_off_after_posting_are_each_posted_once(desk, slack, clock):
    slack.cut("chat.postMessage", times=2)  # the team's copy, then the DM to Bob
    reply = desk.client.command(f"#billing charged twice <@{BOB}|bob>")
    assert "Logged *C-1*" in reply.text
    desk.settle()
    assert len(team_messages(slack)) == 1
    assert len(dms_to(slack, BOB)) == 1
    told = told_by_response_url(slack)
    assert f"I couldn't tell whether it reached <#{COMPLAINTS}> (the connection to Slack broke before Slack " \
           "answered); I'll check the channel and post it if it isn't there" in told
    assert "I couldn't tell whether my message reached the new owner (the connection to Slack broke before " \
           "Slack answered); I won't send it again in case it did" in told
    for untrue in ("I couldn't post it", "couldn't message the new owner", "will be told once Slack answers",
                   "could not reach Slack", f"posted to <#{COMPLAINTS}>"):
        assert untrue not in told, told

    # The retry job looks in the channel, finds the copy and adopts it; the DM stays sent once.
    clock.advance(seconds=FIRST_TRY.total_seconds() + 1)
    desk.tick()
    desk.settle()
    [ts] = team_messages(slack)
    with desk.open_session() as session:
        assert session.exec(select(Complaint.slack_ts)).one() == ts
    assert slack.calls_to("conversations.history")
    for _ in range(3):
        clock.advance(hours=1)
        desk.tick()
        desk.settle()
    assert len(team_messages(slack)) == 1
    assert len(dms_to(slack, BOB)) == 1
    assert len([call for call in slack.calls_to("chat.postMessage") if call.args["channel"] == COMPLAINTS]) == 1

