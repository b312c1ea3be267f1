"""The owner is told when someone else takes, reassigns or resolves their complaint
(stepping up is allowed; it is never done behind their back)."""

from __future__ import annotations

from tests.harness import ALICE, BOB, CAROL, MANAGER


def dms_to(slack, user_id) -> list[str]:
    return [call.args["text"] for call in slack.calls_to("chat.postMessage") if call.args["channel"] == user_id]


def test_a_take_tells_the_previous_owner(desk, slack):
    desk.client.command("charged twice")
    desk.settle()
    assert desk.client.command("take C-1", user=BOB).text.startswith("You took *C-1*")
    desk.settle()
    [told] = dms_to(slack, ALICE)
    assert told.startswith(f"<@{BOB}> took your complaint *C-1*")


def test_a_reassignment_by_a_manager_tells_both(desk, slack):
    desk.client.command("charged twice")
    desk.settle()
    desk.client.command(f"assign C-1 <@{CAROL}|carol>", user=MANAGER)
    desk.settle()
    assert any(f"handed to <@{CAROL}>" in text for text in dms_to(slack, ALICE))
    assert any("made you the owner" in text for text in dms_to(slack, CAROL))


def test_a_resolution_by_a_manager_tells_the_owner_and_their_own_does_not(desk, slack):
    desk.client.command("charged twice")
    desk.client.command("parcel lost")
    desk.settle()
    desk.client.command("resolve C-1 refunded in full", user=MANAGER)
    desk.client.command("resolve C-2 found it")
    desk.settle()
    told = dms_to(slack, ALICE)
    assert len(told) == 1 and "resolved your complaint *C-1*" in told[0] and "refunded in full" in told[0]
    desk.client.command("note C-1 customer happy", user=MANAGER)
    desk.settle()
    assert len(dms_to(slack, ALICE)) == 1
