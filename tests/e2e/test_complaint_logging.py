"""Logging complaints through Slack: one-line command, modal, message shortcut."""

from __future__ import annotations

from sqlmodel import select

from models.complaints import Complaint, ComplaintEvent
from tests.harness import ALICE, BOB, COMPLAINTS, GENERAL


def complaints(desk) -> list[Complaint]:
    with desk.open_session() as session:
        return list(session.exec(select(Complaint).order_by(Complaint.id)))


def test_one_line_complaint_is_saved_posted_and_confirmed(desk, slack):
    reply = desk.client.command("!high #billing customer Jane Roe was charged twice for order 1182")
    desk.settle()

    assert reply.status == 200
    assert "C-1" in reply.text
    [complaint] = complaints(desk)
    assert (complaint.severity, complaint.category, complaint.owner_id) == ("high", "billing", ALICE)
    assert complaint.description == "customer Jane Roe was charged twice for order 1182"
    [post] = slack.calls_to("chat.postMessage")
    assert post.args["channel"] == COMPLAINTS
    assert "C-1" in post.args["text"]
    assert (complaint.slack_channel, complaint.slack_ts) == (COMPLAINTS, slack.messages and next(iter(slack.messages))[1])
    with desk.open_session() as session:
        [event] = session.exec(select(ComplaintEvent)).all()
    assert (event.kind, event.actor_id) == ("logged", ALICE)


def test_mentioned_owner_gets_a_direct_message(desk, slack):
    desk.client.command("#delivery <@UBOB00002|bob> parcel left in the rain")
    desk.settle()

    [complaint] = complaints(desk)
    assert complaint.owner_id == BOB
    dms = [call for call in slack.calls_to("chat.postMessage") if call.args["channel"] == BOB]
    assert len(dms) == 1 and "C-1" in dms[0].args["text"]


def test_empty_command_opens_the_modal_and_submission_logs(desk, slack):
    reply = desk.client.command("")
    desk.settle()
    assert reply.status == 200
    view = desk.opened_view()
    desk.client.submit_view(view, {
        "description": "Zip broke on a returned coat",
        "customer_name": "Sam Lee", "customer_contact": "sam@example.com",
        "contact_channel": "email", "category": "product", "severity": "urgent", "owner": BOB,
    })
    desk.settle()

    [complaint] = complaints(desk)
    assert (complaint.customer_name, complaint.contact_channel, complaint.severity) == ("Sam Lee", "email", "urgent")
    assert complaint.owner_id == BOB and complaint.reporter_id == ALICE
    ephemeral = slack.calls_to("chat.postEphemeral")
    assert ephemeral and "C-1" in ephemeral[-1].args["text"] and ephemeral[-1].args["channel"] == GENERAL


def test_message_shortcut_prefills_text_and_keeps_the_permalink(desk, slack):
    message = {"type": "message", "user": BOB, "ts": "1700000000.000100", "text": "My order &lt;1182&gt; never came"}
    desk.client.message_shortcut("log_complaint_from_message", message)
    desk.settle()
    view = desk.opened_view()
    assert view["blocks"][0]["element"]["initial_value"] == "My order <1182> never came"

    desk.client.submit_view(view, {"description": "My order <1182> never came", "category": "delivery",
                                   "severity": "normal", "contact_channel": "chat", "owner": ALICE})
    desk.settle()
    [complaint] = complaints(desk)
    assert complaint.source_permalink.startswith("https://example.slack.com/archives/")
