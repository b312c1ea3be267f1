"""Owning complaints through Slack: subcommands, buttons and their forms, permissions."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import select

from models.complaints import Complaint, ComplaintEvent
from tests.harness import ALICE, BOB, CAROL, MANAGER


def log(desk, text="!high #billing charged twice for order 1182", user=ALICE) -> Complaint:
    desk.client.command(text, user=user)
    desk.settle()
    with desk.open_session() as session:
        return session.exec(select(Complaint).order_by(Complaint.id.desc())).first()


def reload(desk, complaint_id: int) -> Complaint:
    with desk.open_session() as session:
        return session.get(Complaint, complaint_id)


def events(desk, complaint_id: int) -> list[tuple[str, str]]:
    with desk.open_session() as session:
        rows = session.exec(select(ComplaintEvent).where(ComplaintEvent.complaint_id == complaint_id).order_by(ComplaintEvent.id))
        return [(event.kind, event.actor_id) for event in rows]


def team_message(desk, complaint: Complaint) -> dict:
    return desk.slack.messages[(complaint.slack_channel, complaint.slack_ts)]


def test_a_change_made_while_the_team_message_is_being_posted_reaches_that_message(desk, slack):
    slack.latency = 0.5  # the post is still on its way when Bob takes the complaint
    desk.client.command("#billing charged twice", user=ALICE)
    assert desk.client.command("take C-1", user=BOB).text.startswith("You took *C-1*")
    desk.settle()
    saved = reload(desk, 1)
    assert saved.owner_id == BOB and saved.slack_ts
    assert f"<@{BOB}>" in str(team_message(desk, saved)["blocks"])


def test_full_lifecycle_by_subcommands_records_every_step(desk, slack, clock):
    complaint = log(desk)
    clock.advance(minutes=5)
    assert desk.client.command("take C-1", user=BOB).status == 200
    clock.advance(minutes=10)
    desk.client.command("responded C-1 called her back, refund on its way", user=BOB)
    desk.client.command("note C-1 refund reference R-77", user=BOB)
    clock.advance(hours=2)
    reply = desk.client.command("resolve C-1 refunded the duplicate charge", user=BOB)
    desk.settle()

    assert "C-1" in reply.text
    saved = reload(desk, complaint.id)
    assert saved.owner_id == BOB and saved.status == "resolved"
    assert saved.first_responded_at - saved.created_at == timedelta(minutes=15)
    assert saved.resolved_at - saved.created_at == timedelta(hours=2, minutes=15)
    assert events(desk, complaint.id) == [
        ("logged", ALICE), ("assigned", BOB), ("responded", BOB), ("noted", BOB), ("resolved", BOB),
    ]
    # The team's copy was updated in place, and now offers Reopen instead of Resolve.
    message = team_message(desk, saved)
    buttons = [e["action_id"] for e in message["blocks"][-1]["elements"]]
    assert "complaint_reopen" in buttons and "complaint_resolve" not in buttons
    assert len(slack.calls_to("chat.update")) == 4
    # Bob took it himself, so nobody needed to DM him about it.
    assert [c for c in slack.calls_to("chat.postMessage") if c.args["channel"] == BOB] == []


def test_only_owner_or_manager_may_resolve_or_reassign(desk, slack):
    complaint = log(desk)
    refused = desk.client.command("resolve C-1 not mine to close", user=CAROL)
    assert refused.status == 200
    assert "only the owner of C-1" in refused.text
    refused = desk.client.command("assign C-1 <@UCAROL0003|carol>", user=CAROL)
    assert "only the owner of C-1" in refused.text
    assert reload(desk, complaint.id).status == "open"
    assert events(desk, complaint.id) == [("logged", ALICE)]

    desk.client.command("assign C-1 <@UCAROL0003|carol>", user=MANAGER)
    desk.settle()
    assert reload(desk, complaint.id).owner_id == CAROL
    dms = [c for c in slack.calls_to("chat.postMessage") if c.args["channel"] == CAROL]
    assert len(dms) == 1 and "made you the owner of" in dms[0].args["text"]


def test_list_and_show(desk):
    log(desk, "!urgent #delivery van never arrived")
    log(desk, "#product zip broke", user=BOB)
    mine = desk.client.command("list").json()
    assert "van never arrived" in mine["blocks"][0]["text"]["text"]
    assert "zip broke" not in mine["blocks"][0]["text"]["text"]
    everyone = desk.client.command("list open").json()
    assert "zip broke" in everyone["blocks"][0]["text"]["text"]

    desk.client.command("note C-2 customer sent photos", user=BOB)
    shown = desk.client.command("show c2").json()
    history = shown["blocks"][-1]["text"]["text"]
    assert "logged it" in history and "customer sent photos" in history


def test_buttons_take_and_resolve_through_the_form(desk, slack):
    complaint = log(desk)
    desk.client.action("complaint_take", str(complaint.id), user=BOB)
    desk.settle()
    assert reload(desk, complaint.id).owner_id == BOB

    desk.client.action("complaint_resolve", str(complaint.id), user=BOB)
    desk.settle()
    form = desk.opened_view()
    assert form["callback_id"] == "complaint_change"
    desk.client.submit_view(form, {"note": "replaced the coat"}, user=BOB)
    desk.settle()
    saved = reload(desk, complaint.id)
    assert (saved.status, saved.resolution) == ("resolved", "replaced the coat")

    desk.client.action("complaint_reopen", str(complaint.id), user=CAROL)
    desk.settle()
    [refusal] = slack.calls_to("chat.postEphemeral")
    assert refusal.args["user"] == CAROL and "only the owner" in refusal.args["text"]
    assert reload(desk, complaint.id).status == "resolved"


def test_reassign_form_rejects_a_bot_owner(desk):
    complaint = log(desk)
    desk.client.action("complaint_reassign", str(complaint.id), user=ALICE)
    desk.settle()
    form = desk.opened_view()
    # The field is named for what it holds (the console shows its block_id).
    [field] = [block for block in form["blocks"] if block["type"] == "input"]
    assert (field["block_id"], field["label"]["text"], field["element"]["type"]) == ("owner", "New owner", "users_select")
    reply = desk.client.submit_view(form, {"owner": "UROBOT0006"}, user=ALICE)
    assert reply.json()["response_action"] == "errors"
    assert "can't own complaints" in reply.json()["errors"]["owner"]
    assert reload(desk, complaint.id).owner_id == ALICE

    desk.client.submit_view(form, {"owner": BOB}, user=ALICE)
    desk.settle()
    assert reload(desk, complaint.id).owner_id == BOB


def test_unknown_words_get_help_and_unknown_references_a_clear_answer(desk):
    assert "Did you mean `resolve`" in desk.client.command("reslove C-1").text
    assert "`show C-42` — details and full history" in desk.client.command("help").text
    assert "There is no complaint C-99" in desk.client.command("show C-99").text
    assert "not a complaint reference" in desk.client.command("take banana").text
