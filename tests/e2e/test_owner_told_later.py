"""A new owner's DM that Slack could not take is sent once Slack answers again, and never
twice: the ownership event is the intent, and the notification ledger records the claim
before the send and the outcome after (bot/owner_notices.py)."""

from __future__ import annotations

from sqlmodel import select

from models.service_levels import Notification
from tests.harness import ALICE, BOB, CAROL, MANAGER


def dms_to(slack, user_id) -> list[str]:
    """The DMs Slack took (a refused call is recorded too, but posts nothing)."""
    im = "D" + user_id[1:]
    return [message["text"] for (channel, _), message in sorted(slack.messages.items()) if channel == im]


def told_by_response_url(slack) -> str:
    return "\n".join(call.args.get("text", "") for call in slack.calls_to("response_url"))


def test_an_owner_not_told_during_an_outage_is_told_once_slack_is_back(desk, slack, clock):
    slack.fail("chat.postMessage", "fatal_error", times=2)  # the team's copy, then the DM to Bob
    reply = desk.client.command(f"#billing charged twice <@{BOB}|bob>")
    assert "Logged *C-1*" in reply.text
    desk.settle()
    assert dms_to(slack, BOB) == []
    told = told_by_response_url(slack)
    assert "I couldn't message the new owner yet (Slack answered `fatal_error`); they will be told once Slack answers" in told
    desk.tick()  # too soon: the retry leaves the first try time to finish
    desk.settle()
    assert dms_to(slack, BOB) == []
    clock.advance(seconds=31)
    desk.tick()
    desk.settle()
    [notice] = dms_to(slack, BOB)
    assert notice.startswith(f"<@{ALICE}> made you the owner of *C-1*")
    for _ in range(3):
        clock.advance(minutes=10)
        desk.tick()
        desk.settle()
    assert len(dms_to(slack, BOB)) == 1


def test_a_reassignment_whose_dm_failed_is_retried_with_longer_gaps(desk, slack, clock):
    desk.client.command("#billing charged twice")
    desk.settle()
    # Each call is tried three times (the client honours Retry-After twice): Carol's DM,
    # then the previous owner's, then Carol's first retry all fail.
    slack.fail("chat.postMessage", "ratelimited", status=429, retry_after=0, times=9)
    desk.client.command(f"assign C-1 <@{CAROL}|carol>", user=MANAGER)
    desk.settle()
    assert not any("made you the owner" in text for text in dms_to(slack, CAROL))
    clock.advance(seconds=31)
    desk.tick()  # Slack still refuses (the client itself tries three times)
    desk.settle()
    assert not any("made you the owner" in text for text in dms_to(slack, CAROL))
    clock.advance(seconds=31)
    desk.tick()  # the second retry waits a minute after the first
    desk.settle()
    assert not any("made you the owner" in text for text in dms_to(slack, CAROL))
    clock.advance(seconds=31)
    desk.tick()
    desk.settle()
    [notice] = [text for text in dms_to(slack, CAROL) if "made you the owner" in text]
    assert notice.startswith(f"<@{MANAGER}> made you the owner of *C-1*")


def test_a_notice_whose_owner_changed_again_is_not_sent(desk, slack, clock):
    slack.fail("chat.postMessage", "fatal_error", times=2)
    desk.client.command(f"#billing charged twice <@{BOB}|bob>")
    desk.settle()
    desk.client.command("take C-1", user=CAROL)
    desk.settle()
    clock.advance(seconds=31)
    desk.tick()
    desk.settle()
    assert not any("made you the owner" in text for text in dms_to(slack, BOB))


def test_a_notice_left_sending_is_never_sent_again(desk, slack, clock):
    # What a process that died mid-send (or whose call to Slack timed out) leaves behind.
    desk.client.command(f"#billing charged twice <@{BOB}|bob>")
    desk.settle()
    assert len(dms_to(slack, BOB)) == 1
    with desk.open_session() as session:
        [row] = session.exec(select(Notification).where(Notification.kind == "owner notice")).all()
        assert row.status == "sent"
        row.status = "sending"
        session.add(row)
        session.commit()
    for _ in range(3):
        clock.advance(hours=1)
        desk.tick()
        desk.settle()
    assert len(dms_to(slack, BOB)) == 1
