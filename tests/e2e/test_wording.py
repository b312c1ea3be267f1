"""What people are told says what happened: each change's answer, one owner change as one
line of history, and a score in the same words wherever it shows (issue 12 point 10)."""

from __future__ import annotations

import json

import pytest

from bot.satisfaction import band, score_text
from tests.harness import ALICE, BOB, CAROL, MANAGER


def history(desk, reference: str = "C-1") -> str:
    return desk.client.command(f"show {reference}", user=MANAGER).json()["blocks"][-1]["text"]["text"]


def team_message_text(desk, slack, complaint_id: int = 1) -> str:
    [(channel, ts)] = [key for key, message in slack.messages.items()
                       if any(block.get("block_id") == "complaint_actions" and
                              any(e.get("value") == str(complaint_id) for e in block["elements"])
                              for block in message.get("blocks") or [])]
    return json.dumps(slack.messages[(channel, ts)]["blocks"], ensure_ascii=False)


def test_each_change_answers_with_what_was_done(desk):
    desk.client.command("#billing charged twice for order 1182")
    desk.client.command("#billing double charge on 1182")
    answers = [desk.client.command(text, user=user).text for text, user in [
        ("take C-1", BOB),
        (f"assign C-1 <@{CAROL}|carol>", MANAGER),
        ("note C-1 called the bank", CAROL),
        ("responded C-1 refund on its way", CAROL),
        ("waiting C-1 bank statement", CAROL),
        ("customer-replied C-1 sent it", CAROL),
        ("edit C-1 !high", CAROL),
        ("merge C-2 into C-1", MANAGER),
        ("resolve C-1 refunded", CAROL),
        ("rate C-1 7", CAROL),
        ("followed-up C-1 all good", CAROL),
        ("reopen C-1", CAROL),
    ]]
    brief = "*C-1* (normal, #billing): charged twice for order 1182"
    high = brief.replace("normal", "high")
    assert answers == [
        f"You took {brief}",
        f"<@{CAROL}> now owns {brief}",
        f"Noted on {brief}",
        f"Recorded your response to the customer on {brief}",
        "*C-1* is waiting on the customer: its resolution clock is stopped until they reply",
        f"Recorded the customer's reply on {brief}",
        f"Saved your edit: {high}",
        "Merged *C-2* into *C-1* as a duplicate; its notes are now in C-1's history",
        f"Resolved {high}",
        "Recorded the customer's score on *C-1*: 7/10 — satisfied",
        f"Recorded your follow-up with the customer on {high}",
        f"Reopened {high}",
    ]
    assert not any(answer.startswith("Done") for answer in answers)


def test_an_owner_change_reads_as_one_line_and_the_owners_told_read_plainly(desk, slack):
    desk.client.command(f"#billing charged twice <@{BOB}|bob>")
    desk.settle()  # each owner's messages in the order they were sent
    desk.client.command("take C-1", user=CAROL)
    desk.settle()
    desk.client.command(f"assign C-1 <@{ALICE}|alice>", user=MANAGER)
    desk.settle()
    lines = history(desk).splitlines()[1:]
    assert [line.split("> ", 1)[1] for line in lines] == [  # after the date
        f"<@{ALICE}> logged it for <@{BOB}>",
        f"<@{CAROL}> took it",
        f"<@{MANAGER}> handed it to <@{ALICE}>",
    ]
    told = {call.args["channel"]: call.args["text"] for call in slack.calls_to("chat.postMessage")
            if call.args["channel"] in (BOB, CAROL)}
    assert told[BOB].startswith(f"<@{CAROL}> took your complaint *C-1* (normal, #billing): charged twice")
    assert told[CAROL] == f"<@{MANAGER}> handed to <@{ALICE}> your complaint *C-1* (normal, #billing): charged twice"
    assert "owned by" not in told[BOB] + told[CAROL]


@pytest.mark.parametrize("score, words", [(10, "very happy"), (9, "very happy"), (8, "satisfied"), (7, "satisfied"),
                                          (6, "unhappy"), (0, "unhappy")])
def test_a_score_reads_the_same_in_show_the_team_message_and_the_customer_history(desk, slack, score, words):
    desk.client.command("#billing charged twice")
    desk.client.command("edit C-1 customer Jane Roe; contact jane@example.com")
    desk.client.command("resolve C-1 refunded")
    desk.client.command(f"rate C-1 {score} thanks")
    desk.settle()
    shown = f"{score}/10 — {words}"
    assert score_text(score) == shown and band(score) == words
    assert f"recorded the customer's score: {shown}, saying “thanks”" in history(desk)
    assert f"*Customer's score*\\n{shown}\\n“thanks”" in team_message_text(desk, slack)
    customer = json.dumps(desk.client.command("customer jane@example.com").json()["blocks"], ensure_ascii=False)
    assert f"resolved, scored {shown}" in customer


def test_the_resolve_form_offers_scores_in_the_same_words(desk):
    desk.client.command("#delivery parcel crushed")
    desk.client.action("complaint_resolve", "1")
    desk.settle()
    [score] = [block for block in desk.opened_view()["blocks"] if block.get("block_id") == "score"]
    options = [(option["value"], option["text"]["text"]) for option in score["element"]["options"]]
    assert options[0] == ("10", "10/10 — very happy") and options[3] == ("7", "7/10 — satisfied")
    assert options[-1] == ("0", "0/10 — unhappy") and len(options) == 11
