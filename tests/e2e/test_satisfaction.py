"""Customer satisfaction and follow-ups: `/complaint rate`, the resolve form's score, `followed-up`."""

from __future__ import annotations

import pytest
from sqlmodel import select

from models.complaints import Complaint, ComplaintEvent
from tests.harness import ALICE, BOB


def log_and_resolve(desk, text="#billing charged twice") -> int:
    desk.client.command(text)
    desk.client.command("resolve C-1 refunded")
    desk.settle()
    return 1


def saved(desk, complaint_id: int = 1) -> Complaint:
    with desk.open_session() as session:
        return session.get(Complaint, complaint_id)


def event_notes(desk, kind: str) -> list[str]:
    with desk.open_session() as session:
        rows = session.exec(select(ComplaintEvent).where(ComplaintEvent.kind == kind).order_by(ComplaintEvent.id))
        return [event.note for event in rows]


def test_rate_records_the_latest_answer_and_keeps_every_answer_in_the_history(desk, clock):
    log_and_resolve(desk)
    reply = desk.client.command("rate C-1 6 still annoyed about the wait", user=BOB)
    assert reply.status == 200 and reply.text == "Recorded the customer's score on *C-1*: 6/10 — unhappy"
    clock.advance(days=1)
    desk.client.command("rate c1 9/10")
    complaint = saved(desk)
    assert (complaint.satisfaction_score, complaint.satisfaction_comment) == (9, "")
    assert complaint.satisfaction_at == clock.now
    assert event_notes(desk, "rated") == ["6/10: still annoyed about the wait", "9/10"]
    shown = desk.client.command("show C-1").json()
    assert "9/10" in str(shown["blocks"]) and "recorded the customer's score" in str(shown["blocks"])


@pytest.mark.parametrize(
    "text, expected",
    [
        ("rate C-1", "is not a score"),
        ("rate C-1 11", "is not a score"),
        ("rate C-1 -1", "is not a score"),
        ("rate C-1 nine", "is not a score"),
        ("rate C-1 " + "9" * 40, "is not a score"),
        ("rate C-99 9", "There is no complaint C-99"),
    ],
)
def test_bad_scores_get_a_clear_answer_and_change_nothing(desk, text, expected):
    log_and_resolve(desk)
    reply = desk.client.command(text)
    assert expected in reply.text
    assert saved(desk).satisfaction_score is None
    assert event_notes(desk, "rated") == []


def test_a_comment_cannot_ping_the_channel(desk, slack):
    log_and_resolve(desk)
    desk.client.command("rate C-1 10 &lt;!channel&gt; <!channel> best service ever")
    desk.client.command("show C-1")
    desk.settle()
    assert saved(desk).satisfaction_comment.endswith("best service ever")
    # The emulator fails the test if any message would ping (see the `slack` fixture).


def test_the_resolve_form_takes_an_optional_score(desk):
    desk.client.command("#delivery parcel crushed")
    desk.client.action("complaint_resolve", "1")
    desk.settle()
    form = desk.opened_view()
    assert [b["block_id"] for b in form["blocks"] if b["type"] == "input"] == ["note", "score"]
    desk.client.submit_view(form, {"note": "sent a new one", "score": "10"})
    desk.settle()
    assert (saved(desk).status, saved(desk).satisfaction_score) == ("resolved", 10)

    desk.client.command("reopen C-1")
    desk.client.action("complaint_resolve", "1")
    desk.settle()
    desk.client.submit_view(desk.opened_view(), {"note": "sent another"})
    desk.settle()
    assert saved(desk).satisfaction_score == 10  # no answer this time: the last one stands


def test_followed_up_is_recorded_for_resolved_complaints_only(desk, slack, clock):
    desk.client.command("#billing charged twice")
    refused = desk.client.command("followed-up C-1 called")
    assert "still open" in refused.text
    desk.client.command("resolve C-1 refunded")
    clock.advance(days=3)
    desk.client.command("followed-up C-1 customer happy", user=BOB)
    desk.settle()
    assert saved(desk).followed_up_at == clock.now
    assert event_notes(desk, "followed up") == ["customer happy"]
    # The team's message no longer offers the follow-up button.
    complaint = saved(desk)
    buttons = [e["action_id"] for e in slack.messages[(complaint.slack_channel, complaint.slack_ts)]["blocks"][-1]["elements"]]
    assert "complaint_followed_up" not in buttons


def test_the_follow_up_button_opens_a_form(desk, slack):
    log_and_resolve(desk)
    complaint = saved(desk)
    buttons = [e["action_id"] for e in slack.messages[(complaint.slack_channel, complaint.slack_ts)]["blocks"][-1]["elements"]]
    assert buttons[0] == "complaint_followed_up"
    desk.client.action("complaint_followed_up", "1", user=ALICE)
    desk.settle()
    desk.client.submit_view(desk.opened_view(), {"note": ""})
    desk.settle()
    assert saved(desk).followed_up_at is not None
