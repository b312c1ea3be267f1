"""Customers across complaints: the team channel sees their name only, the owner how to
reach them; a repeat complainer is pointed out; `/complaint customer` lists their history."""

from __future__ import annotations

import json

from sqlmodel import select

from models.complaints import Complaint
from tests.harness import ALICE, BOB, CAROL, COMPLAINTS


def log_for(desk, description, *, name="Jane Roe", contact="jane.roe@example.com", owner=ALICE):
    desk.client.command("")
    desk.settle()
    desk.client.submit_view(desk.opened_view(), {
        "description": description, "customer_name": name, "customer_contact": contact,
        "contact_channel": "email", "category": "billing", "severity": "normal", "owner": owner,
    })
    desk.settle()


def team_copies(slack) -> list[str]:
    return [json.dumps(call.args.get("blocks")) for call in slack.calls if call.method in ("chat.postMessage", "chat.update")
            and call.args["channel"] == COMPLAINTS]


def test_the_channel_sees_the_name_and_the_owner_the_contact(desk, slack):
    log_for(desk, "charged twice", owner=BOB)
    [posted] = team_copies(slack)
    assert "Jane Roe" in posted and "jane.roe@example.com" not in posted
    [dm] = [call for call in slack.calls_to("chat.postMessage") if call.args["channel"] == BOB]
    assert "jane.roe@example.com" in dm.args["text"]
    shown_to_owner = desk.client.command("show C-1", user=BOB)
    assert "jane.roe@example.com" in json.dumps(shown_to_owner.json()["blocks"])
    shown_to_colleague = desk.client.command("show C-1", user=CAROL)
    assert "Jane Roe" in json.dumps(shown_to_colleague.json()["blocks"])
    assert "jane.roe@example.com" not in json.dumps(shown_to_colleague.json()["blocks"])


def test_a_repeat_complainer_is_pointed_out_on_the_team_message_and_on_show(desk, slack, clock):
    log_for(desk, "charged twice")
    clock.advance(days=10)
    log_for(desk, "still charged twice", name="J. Roe", contact=" JANE.ROE@example.com")
    clock.advance(days=1)
    log_for(desk, "third time", contact="jane.roe@EXAMPLE.com")
    latest = team_copies(slack)[-1]
    assert "3rd complaint from this customer in 90 days: C-1, C-2" in latest
    assert "C-2" in json.dumps(desk.client.command("show C-3").json()["blocks"])
    assert "complaint from this customer" not in team_copies(slack)[0]
    told = [call.args["text"] for call in slack.calls_to("chat.postEphemeral")]
    assert "2nd complaint from this customer in 90 days: C-1" in told[1]


def test_a_one_line_complaint_confirmation_names_earlier_complaints(desk, slack):
    log_for(desk, "charged twice", name="", contact="")  # no customer: never a repeat
    reply = desk.client.command("charged twice again")
    assert "complaint from this customer" not in reply.text


def test_customer_lists_their_complaints_newest_first_with_outcomes(desk, slack, clock):
    log_for(desk, "charged twice")
    desk.client.command("resolve C-1 refunded in full")
    desk.client.command("rate C-1 9")
    clock.advance(days=2)
    log_for(desk, "late delivery", contact="+44 20 7946 0000")
    log_for(desk, "wrong size", contact="Jane.Roe@example.com")
    desk.settle()
    reply = desk.client.command("customer jane.roe@example.com")
    text = json.dumps(reply.json()["blocks"])
    assert "2 complaints from Jane Roe" in text
    assert text.index("C-3") < text.index("C-1")
    assert "resolved, scored 9/10" in text and "refunded in full" in text and "C-2" not in text
    assert "resolved, scored 9/10 — very happy" in json.dumps(reply.json()["blocks"], ensure_ascii=False)
    assert "No complaints from a customer" in desk.client.command("customer nobody@example.com").text
    assert "put its severity first" in desk.client.command("customer angry about refund").text
    assert "Say which customer" in desk.client.command("customer").text
    with desk.open_session() as session:
        assert len(session.exec(select(Complaint)).all()) == 3


def test_customer_text_is_shown_as_text(desk):
    log_for(desk, "charged twice", name="<!channel> *Boss*", contact="boss@example.com")
    reply = desk.client.command("customer boss@example.com")
    assert "<!channel>" not in json.dumps(reply.json())
