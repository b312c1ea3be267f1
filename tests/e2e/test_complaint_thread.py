"""The conversation lives on the card: notes, responses and the resolution are replies in
the thread of the complaint's team message, after the acknowledgement, once each, with
typed text shown as text; a reply Slack refuses costs nothing and is tried again later."""

from __future__ import annotations

import logging

from sqlmodel import select

from models.complaints import ComplaintEvent
from tests.e2e.test_complaint_workflow import log, reload
from tests.harness import ALICE, BOB, CAROL, COMPLAINTS


def posts(slack, since: int = 0) -> list[tuple[str, str, str]]:
    """Every chat.postMessage since call `since`, as (channel, thread_ts, text)."""
    calls = slack.calls_to("chat.postMessage")[since:]
    return [(call.args["channel"], call.args.get("thread_ts", ""), call.args["text"]) for call in calls]


def test_notes_responses_and_the_resolution_are_replies_in_the_thread(desk, slack):
    complaint = log(desk, "#billing charged twice")
    before = len(slack.calls_to("chat.postMessage"))
    # Typed markup stays text: a channel ping, a mention (shown as a name) and a tag.
    typed = f"told &lt;!channel&gt; and <!here> that <@{CAROL}|carol> will call; &lt;b&gt;refund&lt;/b&gt; & sorry"
    assert desk.client.command(f"note C-1 {typed}", user=BOB).text.startswith("Noted on *C-1*")
    desk.settle()
    desk.client.command("responded C-1")
    desk.settle()
    desk.client.command("customer-replied C-1 thanks, it arrived", user=BOB)
    desk.settle()
    desk.client.command("resolve C-1 refunded in full")
    desk.settle()
    ts = complaint.slack_ts
    assert posts(slack, before) == [
        (COMPLAINTS, ts, "📝 *Bob* added a note: told @channel and @here that @carol will call; "
                         "&lt;b&gt;refund&lt;/b&gt; &amp; sorry"),
        (COMPLAINTS, ts, "📞 *Alice* responded to the customer"),
        (COMPLAINTS, ts, "💬 The customer replied (noted by *Bob*): thanks, it arrived"),
        (COMPLAINTS, ts, "✅ *Alice* resolved it: refunded in full"),
    ]
    # Nothing that is not written down goes to the thread: a take, a reopen, an edit.
    desk.client.command("reopen C-1")
    desk.client.command("take C-1", user=BOB)
    desk.client.command("edit C-1 !urgent", user=BOB)
    desk.settle()
    assert [post for post in posts(slack, before) if post[1]] == posts(slack, before)[:4]
    assert len(posts(slack, before)) == 5  # the fifth: Alice told that Bob took her complaint
    assert posts(slack, before)[4][:2] == (ALICE, "")


def test_the_buttons_forms_reply_in_the_thread_too(desk, slack):
    complaint = log(desk, "#billing charged twice")
    before = len(slack.calls_to("chat.postMessage"))
    desk.client.action("complaint_note", str(complaint.id), user=BOB, message_ts=complaint.slack_ts)
    desk.settle()
    desk.client.submit_view(desk.opened_view(), {"note": "asked for the order number"}, user=BOB)
    desk.settle()
    assert posts(slack, before) == [(COMPLAINTS, complaint.slack_ts, "📝 *Bob* added a note: asked for the order number")]


def test_a_note_made_before_the_team_message_is_posted_is_replied_once_it_is(make_desk, slack, clock):
    desk = make_desk(manager_ids=())  # no weekly digest on these ticks
    slack.fail("chat.postMessage", "not_in_channel")
    log(desk, "#billing charged twice")
    desk.client.command("note C-1 she called again", user=BOB)
    desk.settle()
    assert posts(slack) == [(COMPLAINTS, "", posts(slack)[0][2])]  # the refused team copy, no reply
    clock.advance(seconds=31)
    desk.tick()
    desk.settle()
    ts = reload(desk, 1).slack_ts
    assert posts(slack, 1) == [
        (COMPLAINTS, "", posts(slack, 1)[0][2]),  # the team copy, on the retry
        (COMPLAINTS, ts, "📝 *Bob* added a note: she called again"),
        (ALICE, "", posts(slack, 1)[2][2]),  # "now posted" to the person who logged it
    ]
    clock.advance(minutes=11)
    desk.tick()
    desk.settle()
    assert len(posts(slack)) == 4


def test_a_reply_slack_refuses_keeps_the_note_and_is_tried_again_at_the_team_messages_pace(
    make_desk, slack, clock, caplog,
):
    desk = make_desk(manager_ids=())  # no weekly digest on these ticks
    complaint = log(desk, "#billing charged twice")
    before = len(slack.calls_to("chat.postMessage"))
    slack.fail("chat.postMessage", "internal_error")
    with caplog.at_level(logging.WARNING):
        assert desk.client.command("note C-1 she called again").text.startswith("Noted on *C-1*")
        desk.settle()
    assert any("reply in the thread of C-1 failed" in record.getMessage() for record in caplog.records)
    with desk.open_session() as session:
        notes = session.exec(select(ComplaintEvent.note).where(ComplaintEvent.kind == "noted")).all()
    assert notes == ["she called again"]
    # Not again at once: on the team message's retry pace, by one of two processes.
    other = make_desk(manager_ids=())
    desk.tick()
    other.tick()
    assert len(posts(slack, before)) == 1
    clock.advance(minutes=10)
    desk.tick()
    other.tick()
    desk.settle()
    reply = (COMPLAINTS, complaint.slack_ts, "📝 *Alice* added a note: she called again")
    assert posts(slack, before) == [reply, reply]  # refused, then posted once
    clock.advance(minutes=30)
    desk.tick()
    assert len(posts(slack, before)) == 2


def test_a_reply_that_never_gets_through_is_given_up_after_a_week(make_desk, slack, clock, caplog):
    desk = make_desk(manager_ids=())

    def replies() -> list:
        return [post for post in posts(slack) if post[1]]

    log(desk, "#billing charged twice")
    slack.fail("chat.postMessage", "internal_error", times=2)
    desk.client.command("note C-1 she called again")
    desk.settle()
    clock.advance(minutes=10)
    desk.tick()
    assert len(replies()) == 2  # refused twice
    clock.advance(days=7)
    with caplog.at_level(logging.WARNING):
        desk.tick()
    assert any("gave up on 1 thread replies" in record.getMessage() for record in caplog.records)
    assert len(replies()) == 2
