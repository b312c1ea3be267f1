"""Merging duplicates and waiting on the customer, over HTTP: commands, buttons, forms,
refusals, the team's messages, lists, the App Home and the reminder of a long wait."""

from __future__ import annotations

from datetime import timedelta

from tests.e2e.test_app_home import open_home
from tests.e2e.test_complaint_edits import history, shown_history
from tests.e2e.test_complaint_workflow import log, reload, team_message
from tests.e2e.test_reminders import reminders_to
from tests.harness import ALICE, BOB, CAROL, MANAGER


def buttons(desk, complaint_id: int) -> list[str]:
    blocks = team_message(desk, reload(desk, complaint_id))["blocks"]
    return [e["action_id"] for e in blocks[-1].get("elements", [])] if blocks[-1]["type"] == "actions" else []


# ----- merge ----------------------------------------------------------------------------------
def test_merge_closes_the_duplicate_copies_its_notes_and_updates_both_messages(desk, slack):
    kept, duplicate = log(desk, "#billing charged twice for order 1182"), log(desk, "#billing double charge on 1182")
    desk.client.command("note C-2 she sent the bank statement")
    desk.client.command("customer-replied C-2 it happened again today", user=BOB)
    desk.settle()
    updates_before = len(slack.calls_to("chat.update"))
    reply = desk.client.command("merge C-2 into C-1")
    desk.settle()
    assert reply.text.startswith("Merged *C-2* into *C-1* as a duplicate")

    merged = reload(desk, duplicate.id)
    assert (merged.status, merged.merged_into_id, merged.resolution) == ("merged", kept.id, "Duplicate of C-1.")
    assert history(desk, 2)[-1] == ("merged", ALICE, "into C-1")
    copied = [(kind, actor, note) for kind, actor, note in history(desk, 1) if kind in ("copied note", "merged in")]
    assert copied == [
        ("copied note", ALICE, "From C-2: she sent the bank statement"),
        ("copied note", BOB, "From C-2 (the customer replied): it happened again today"),
        ("merged in", ALICE, "C-2: double charge on 1182"),
    ]
    shown = shown_history(desk, "C-1")
    assert "wrote, on the duplicate: From C-2: she sent the bank statement" in shown and "merged in a duplicate: C-2" in shown
    # Both team messages were updated: the duplicate says where to look and has no buttons.
    updated = {call.args["ts"] for call in slack.calls_to("chat.update")[updates_before:]}
    assert updated == {kept.slack_ts, duplicate.slack_ts}
    assert "Merged into* C-1" in str(team_message(desk, merged)["blocks"]) and buttons(desk, 2) == []
    assert "SLA" not in str(team_message(desk, merged)["blocks"])
    assert "C-2 · normal · #billing · merged into C-1" in str(team_message(desk, merged)["blocks"])

    # It is no longer worked on: not listed, not changeable.
    listed = str(desk.client.command("list open").json()["blocks"])
    assert "C-1" in listed and "C-2" not in listed
    assert "C-2 was merged into C-1: please work on C-1 instead" in desk.client.command("note C-2 more").text
    desk.client.action("complaint_note", "2", user=ALICE)
    desk.settle()
    assert "merged into C-1" in slack.calls_to("chat.postEphemeral")[-1].args["text"]


def test_merges_that_would_lose_track_are_refused(desk):
    for text in ("#billing one", "#billing two", "#billing three", "#billing four"):
        log(desk, text)
    desk.client.command("merge C-2 into C-1")
    answers = {
        "merge C-3 into C-3": "C-3 can't be merged into itself",
        "merge C-3 into C-99": "There is no complaint C-99",
        "merge C-99 into C-3": "There is no complaint C-99",
        "merge C-3 into C-2": "C-2 was itself merged into C-1: merge C-3 into C-1 instead",
        "merge C-2 into C-3": "C-2 was merged into C-1: please work on C-1 instead",
        "merge C-1 into C-3": "C-2 was merged into C-1, so C-1 is kept; merge C-3 into C-1 instead",
        "merge C-3": "Say which complaint to keep, e.g. `/complaint merge C-43 into C-42`",
        "merge C-3 into C-1 C-4": "Say which complaint to keep",
        "merge C-3 into banana": "not a complaint reference",
    }
    for text, answer in answers.items():
        assert answer in desk.client.command(text).text, text
    assert [reload(desk, n).status for n in (1, 2, 3, 4)] == ["open", "merged", "open", "open"]


def test_merging_needs_the_right_to_manage_both(desk):
    log(desk, "#billing Alice's", user=ALICE)
    log(desk, "#billing Bob's", user=BOB)
    assert "only the owner of C-2 (<@UBOB00002>) or a manager can merge it" in desk.client.command("merge C-2 into C-1", user=CAROL).text
    assert "only the owner of C-1 (<@UALICE0001>) or a manager can merge it" in desk.client.command("merge C-2 into C-1", user=BOB).text
    assert reload(desk, 2).status == "open"
    assert desk.client.command("merge C-2 into C-1", user=MANAGER).text.startswith("Merged *C-2* into *C-1*")
    assert reload(desk, 2).status == "merged"


# ----- waiting on the customer ---------------------------------------------------------------
def test_waiting_pauses_the_clock_until_the_customer_replies(desk, slack, clock):
    log(desk, "#delivery parcel never came")  # normal: resolution due in 72 h
    desk.client.command("responded C-1 asked for a photo of the label")
    clock.advance(hours=60)
    reply = desk.client.command("waiting C-1 photo of the label")
    desk.settle()
    assert reply.text.startswith("*C-1* is waiting on the customer: its resolution clock is stopped")
    assert reload(desk, 1).status == "waiting"
    message = str(team_message(desk, reload(desk, 1))["blocks"])
    assert "waiting on the customer since" in message and "resolution paused while waiting on the customer" in message
    assert {"complaint_customer_replied", "complaint_resume"} <= set(buttons(desk, 1))
    assert "complaint_waiting" not in buttons(desk, 1)
    assert "· waiting on the customer" in str(desk.client.command("list").json()["blocks"])
    home = str(open_home(desk, slack, ALICE)["blocks"])
    assert "My open complaints* (1)" in home and "C-1* due soon" in home and "waiting on the customer" in home

    clock.advance(days=2)  # far past the 72 hours, but the clock stood still
    assert "SLA breached" not in str(desk.client.command("show C-1").json()["blocks"])
    desk.client.command("customer-replied C-1 here is the photo", user=BOB)
    desk.settle()
    saved = reload(desk, 1)
    assert (saved.status, saved.waiting_since, saved.paused_seconds) == ("open", None, 2 * 86400)
    shown = shown_history(desk)
    assert "started waiting on the customer (the resolution clock stopped): photo of the label" in shown
    assert "recorded the customer's reply: here is the photo" in shown and "restarted the resolution clock: waited 2 days" in shown
    assert "complaint_waiting" in buttons(desk, 1)
    clock.advance(hours=12)  # the 12 hours that were left
    assert "SLA breached" in str(desk.client.command("show C-1").json()["blocks"])


def test_the_waiting_buttons_and_their_forms(desk, slack, clock):
    complaint = log(desk, "#delivery parcel never came")
    desk.client.action("complaint_waiting", str(complaint.id), user=ALICE)
    desk.settle()
    form = desk.opened_view()
    assert form["title"]["text"] == "Waiting on customer"
    desk.client.submit_view(form, {"note": ""}, user=ALICE)
    desk.settle()
    assert reload(desk, 1).status == "waiting"

    clock.advance(hours=3)
    desk.client.action("complaint_customer_replied", str(complaint.id), user=BOB)
    desk.settle()
    form = desk.opened_view()
    empty = desk.client.submit_view(form, {"note": ""}, user=BOB)
    assert empty.json()["response_action"] == "errors"  # Slack requires the field; so do we
    desk.client.submit_view(form, {"note": "she found it at a neighbour's"}, user=BOB)
    desk.settle()
    assert (reload(desk, 1).status, reload(desk, 1).paused_seconds) == ("open", 3 * 3600)

    desk.client.command("waiting C-1")
    clock.advance(hours=1)
    desk.client.action("complaint_resume", str(complaint.id), user=CAROL)  # anyone may restart the clock
    desk.settle()
    assert (reload(desk, 1).status, reload(desk, 1).paused_seconds) == ("open", 4 * 3600)
    assert history(desk, 1)[-1][:2] == ("resumed", CAROL)


def test_waiting_refusals_and_bad_input(desk, slack):
    log(desk, "#delivery parcel never came")
    assert "only the owner of C-1 (<@UALICE0001>) or a manager can pause the clock on it" in desk.client.command("waiting C-1", user=CAROL).text
    assert "C-1 is not waiting on the customer" in desk.client.command("resume C-1").text
    assert "Please add a note of what the customer said." in desk.client.command("customer-replied C-1").text
    assert "There is no complaint C-77" in desk.client.command("waiting C-77").text
    assert "limit is 3,000" in desk.client.command("waiting C-1 " + "y" * 3001).text
    assert reload(desk, 1).status == "open"
    desk.client.command("waiting C-1")
    assert "C-1 has been waiting on the customer for 0 min" in desk.client.command("waiting C-1").text
    desk.client.action("complaint_waiting", "1", user=CAROL)
    desk.settle()
    assert "can pause the clock on it" in slack.calls_to("chat.postEphemeral")[-1].args["text"]
    desk.client.command("resolve C-1 found at the depot")
    assert "C-1 is resolved: only open complaints wait on the customer" in desk.client.command("waiting C-1").text


def test_a_long_wait_reminds_the_owner_once_and_not_in_quiet_hours(make_desk, slack, clock):
    desk = make_desk(waiting_reminder_days=2)  # quiet hours 20:00-08:00 UTC
    log(desk, "#delivery parcel never came")
    desk.client.command("responded C-1 asked for the tracking number")
    clock.now = clock.now.replace(hour=19)
    desk.client.command("waiting C-1 tracking number")
    clock.advance(days=2, minutes=-1)
    desk.tick()
    assert reminders_to(slack, ALICE) == []
    clock.advance(hours=1)  # due at 19:00, now 19:59
    desk.tick()
    [reminder] = reminders_to(slack, ALICE)
    assert "C-1" in reminder
    dm = [c for c in slack.calls_to("chat.postMessage") if c.args["channel"] == ALICE][-1]
    assert "waiting on the customer since" in str(dm.args["blocks"]) and "customer-replied C-1" in str(dm.args["blocks"])
    clock.advance(days=1)
    desk.tick()
    assert len(reminders_to(slack, ALICE)) == 1  # once per wait

    # A second wait falling due at night waits for the morning.
    desk.client.command("resume C-1")
    clock.now = clock.now.replace(hour=21)
    desk.client.command("waiting C-1")
    clock.advance(days=2, hours=1)  # due 21:00, now 22:00: quiet
    desk.tick()
    assert len(reminders_to(slack, ALICE)) == 1
    clock.now = clock.now.replace(hour=8) + timedelta(days=1)
    desk.tick()
    assert len(reminders_to(slack, ALICE)) == 2
