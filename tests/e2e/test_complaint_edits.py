"""Correcting a complaint: `/complaint edit`, the Edit button and its form, who may, bad input."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from sqlmodel import select

from models.complaints import ComplaintEvent
from models.customers import customer_key
from tests.e2e.test_complaint_workflow import log, reload, team_message
from tests.harness import ALICE, BOB, CAROL, MANAGER


def history(desk, complaint_id: int) -> list[tuple[str, str, str]]:
    with desk.open_session() as session:
        rows = session.exec(select(ComplaintEvent).where(ComplaintEvent.complaint_id == complaint_id).order_by(ComplaintEvent.id))
        return [(event.kind, event.actor_id, event.note) for event in rows]


def shown_history(desk, reference: str = "C-1") -> str:
    return desk.client.command(f"show {reference}").json()["blocks"][-1]["text"]["text"]


def form_values(view: dict, **changes: str) -> dict[str, str]:
    """What Slack submits for the form as it was opened (its initial values), with `changes` typed in."""
    values = {}
    for block in view["blocks"]:
        if block["type"] != "input":
            continue
        element = block["element"]
        initial = element.get("initial_value") or (element.get("initial_option") or {}).get("value") or ""
        values[block["block_id"]] = changes.get(block["block_id"], initial)
    return values


def test_edit_changes_severity_and_category_and_the_sla_follows(desk, slack, clock):
    complaint = log(desk, "#other charged twice for order 1182")  # normal: first response due in 8 h
    clock.advance(hours=2)
    reply = desk.client.command("edit C-1 !urgent #billing")  # urgent: due 1 h after logging, so breached now
    desk.settle()
    assert reply.text.startswith("Saved your edit: *C-1* (urgent, #billing)")
    saved = reload(desk, complaint.id)
    assert (saved.severity, saved.category, saved.description) == ("urgent", "billing", "charged twice for order 1182")
    assert history(desk, 1)[-1] == ("edited", ALICE, "severity: “normal” → “urgent”; category: “other” → “billing”")
    assert "edited it: severity: “normal” → “urgent”; category: “other” → “billing”" in shown_history(desk)
    # The team's message shows the new severity and the SLA as it now stands.
    message = str(team_message(desk, saved)["blocks"])
    assert "C-1 · urgent · #billing · open" in message and "SLA breached" in message
    assert saved.created_at + timedelta(hours=2) == clock.now


def test_edit_customer_contact_channel_and_description_and_the_customer_key_follows(desk):
    complaint = log(desk, "parcel never came")
    reply = desk.client.command("edit C-1 customer Jane Roe; contact Jane.Roe@Example.com; via email")
    assert reply.text.startswith("Saved your edit: *C-1*")
    saved = reload(desk, complaint.id)
    assert (saved.customer_name, saved.customer_contact, saved.contact_channel) == (
        "Jane Roe", "Jane.Roe@Example.com", "email")
    assert saved.customer_key == "email:jane.roe@example.com"
    desk.client.command("edit C-1 the parcel came; but it was broken")
    desk.client.command("edit C-1 description customer says the box was open")
    desk.client.command("edit C-1 contact none")
    saved = reload(desk, complaint.id)
    assert saved.description == "customer says the box was open"
    assert saved.customer_contact == "" and saved.customer_key == customer_key(contact="", name="Jane Roe")
    notes = [note for kind, _, note in history(desk, 1) if kind == "edited"]
    assert notes == [
        "customer: (none) → “Jane Roe”; contact: (none) → “Jane.Roe@Example.com”; contacted by: “other” → “email”",
        "description: “parcel never came” → “the parcel came; but it was broken”",
        "description: “the parcel came; but it was broken” → “customer says the box was open”",
        "contact: “Jane.Roe@Example.com” → (none)",
    ]


def test_only_the_owner_managers_and_admins_may_edit(desk, slack):
    log(desk, "!high #billing charged twice")
    refused = desk.client.command("edit C-1 !low", user=CAROL)
    assert "Sorry, only the owner of C-1 (<@UALICE0001>) or a manager can edit it" in refused.text
    assert reload(desk, 1).severity == "high"
    desk.client.action("complaint_edit", "1", user=CAROL)
    desk.settle()
    [refusal] = slack.calls_to("chat.postEphemeral")
    assert refusal.args["user"] == CAROL and "only the owner of C-1 (<@UALICE0001>)" in refusal.args["text"]
    assert slack.calls_to("views.open") == []

    assert desk.client.command("edit C-1 !low", user=MANAGER).text.startswith("Saved your edit: *C-1* (low,")
    assert reload(desk, 1).severity == "low"
    assert history(desk, 1)[-1][:2] == ("edited", MANAGER)


def test_bad_edits_get_a_clear_answer_and_change_nothing(desk):
    log(desk, "#billing charged twice")
    before = history(desk, 1)
    answers = {
        "edit C-99 !urgent": "There is no complaint C-99",
        "edit C-1": "Say what to change, e.g. `/complaint edit C-1 !urgent #billing`",
        "edit": "Which complaint?",
        "edit C-1 #billing": "Nothing to change: C-1 already says that.",
        "edit C-1 !critical": "“!critical” is not a severity",
        "edit C-1 #refunds": "“#refunds” is not a category",
        "edit C-1 via fax": "“fax” is not a way of contacting us",
        "edit C-1 customer": "Give the new value after `customer`",
        "edit C-1 customer Jane; bogus thing": "“bogus” is not something I can edit",
        "edit C-1 <@UBOB00002|bob>": "use `/complaint assign C-42 @person`",
        "edit C-1 " + "x" * 10_001: "The new description is 10,001 characters long; the limit is 10,000",
        "edit C-1 customer " + "J" * 201: "The customer field is 201 characters long; the limit is 200",
    }
    for text, answer in answers.items():
        assert answer in desk.client.command(text).text, text
    assert history(desk, 1) == before
    assert reload(desk, 1).description == "charged twice"


def test_mentions_typed_into_an_edit_never_ping_anyone(desk, slack):
    complaint = log(desk, "#billing charged twice")
    reply = desk.client.command("edit C-1 <!channel> the <!here|here> refund <!everyone> never came")
    desk.settle()  # the harness fails the test if an ack or a call would ping a channel
    assert reply.text.startswith("Saved your edit: *C-1*")
    saved = reload(desk, complaint.id)
    assert saved.description == "@channel the @here refund @everyone never came"
    for shown in (str(team_message(desk, saved)["blocks"]), shown_history(desk)):
        assert "<!channel" not in shown and "<!here" not in shown and "<!everyone" not in shown


def test_the_edit_button_opens_the_log_form_filled_in_and_saves_every_field(desk, slack):
    complaint = log(desk, "!high #billing charged twice")
    desk.client.command("edit C-1 customer Jane Roe; contact 020 7946 0000; via phone")
    desk.settle()
    buttons = [e["action_id"] for e in team_message(desk, reload(desk, 1))["blocks"][-1]["elements"]]
    assert "complaint_edit" in buttons
    desk.client.action("complaint_edit", str(complaint.id), user=ALICE)
    desk.settle()
    form = desk.opened_view()
    assert form["callback_id"] == "complaint_edit_form"
    assert form_values(form) == {
        "description": "charged twice", "customer_name": "Jane Roe", "customer_contact": "020 7946 0000",
        "contact_channel": "phone", "category": "billing", "severity": "high",
    }
    reply = desk.client.submit_view(form, form_values(
        form, description="charged twice <!channel>", customer_name="Jane Doe", customer_contact="jane@example.com",
        contact_channel="email", category="delivery", severity="urgent",
    ), user=ALICE)
    desk.settle()
    assert reply.status == 200 and not reply.text
    saved = reload(desk, complaint.id)
    assert (saved.description, saved.customer_name, saved.customer_contact, saved.contact_channel,
            saved.category, saved.severity, saved.customer_key) == (
        "charged twice @channel", "Jane Doe", "jane@example.com", "email", "delivery", "urgent",
        "email:jane@example.com")
    assert "customer: “Jane Roe” → “Jane Doe”" in history(desk, 1)[-1][2]
    message = str(team_message(desk, saved)["blocks"])
    assert "C-1 · urgent · #delivery" in message and "Jane Doe" in message


def test_the_edit_form_refuses_in_place_and_keeps_what_was_typed(desk, slack):
    complaint = log(desk, "#billing charged twice")
    desk.client.action("complaint_edit", str(complaint.id), user=ALICE)
    desk.settle()
    form = desk.opened_view()
    unchanged = desk.client.submit_view(form, form_values(form), user=ALICE).json()
    assert unchanged["response_action"] == "errors"
    assert "Nothing to change" in unchanged["errors"]["description"]
    # The owner changed meanwhile: the form's save is refused for someone no longer allowed.
    desk.client.command("assign C-1 <@UBOB00002|bob>", user=ALICE)
    refused = desk.client.submit_view(form, form_values(form, severity="low"), user=ALICE).json()
    assert refused["response_action"] == "errors" and "only the owner of C-1 (<@UBOB00002>)" in refused["errors"]["description"]
    assert reload(desk, 1).severity == "normal"


def test_a_description_too_long_for_the_form_is_kept_when_the_form_saves(desk):
    long_text = "the parcel " * 400  # 4,400 characters: more than a form's text input holds
    log(desk, f"#delivery {long_text}", user=BOB)
    desk.client.action("complaint_edit", "1", user=BOB)
    desk.settle()
    form = desk.opened_view()
    assert "description" not in [block.get("block_id") for block in form["blocks"]]
    assert "/complaint edit C-1 description" in str(form["blocks"])
    desk.client.submit_view(form, form_values(form, severity="high"), user=BOB)
    desk.settle()
    saved = reload(desk, 1)
    assert saved.severity == "high" and saved.description == long_text.strip()


def test_help_and_the_readme_describe_the_new_commands(desk):
    shown = desk.client.command("help").text
    readme = (Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8")
    for usage in ("edit C-42 !urgent #billing", "merge C-43 into C-42", "waiting C-42 [note]",
                  "customer-replied C-42 <what they said>", "resume C-42 [note]"):
        assert f"`{usage}`" in shown, usage
        assert f"`/complaint {usage}`" in readme, usage
