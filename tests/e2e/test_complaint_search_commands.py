"""`/complaint search`, `list resolved|closed|waiting`, and paging with the More button,
over HTTP against the real app on both databases."""

from __future__ import annotations

import json

import pytest
from sqlmodel import func, select

from models.complaints import Complaint
from tests.harness import BOB


def blocks_text(reply) -> str:
    return json.dumps(reply.json().get("blocks", []))


@pytest.fixture
def history(desk):
    desk.client.command("#billing customer was charged twice and wants a refund")
    desk.client.command("#delivery parcel left in the rain")
    desk.client.command("#billing refund never arrived after three weeks")
    desk.settle()
    desk.client.command("resolve C-3 refunded by bank transfer")
    desk.client.command("note C-2 neighbour has it", user=BOB)
    desk.settle()
    return desk


def test_search_finds_words_in_descriptions_notes_and_resolutions(history):
    reply = history.client.command("search refund")
    text = blocks_text(reply)
    assert "C-1" in text and "C-3" in text and "C-2" not in text
    assert "C-2" in blocks_text(history.client.command("search neighbour"))
    assert "C-3" in blocks_text(history.client.command("search transfer"))


def test_search_forgives_a_typo_and_says_so(history):
    text = blocks_text(history.client.command("search parcle"))
    assert "C-2" in text and "so I searched for" in text


def test_filters_and_lists_by_status(history):
    text = blocks_text(history.client.command("search refund status:resolved"))
    assert "C-3" in text and "C-1" not in text
    for typed in ("list resolved", "list closed"):
        text = blocks_text(history.client.command(typed))
        assert "C-3" in text and "C-1" not in text, typed
    assert "No complaints match" in history.client.command("list waiting").text
    assert "List which complaints?" in history.client.command("list everything").text
    assert "is not a status" in history.client.command("search status:closed").text


def test_more_pages_through_every_result_once(desk, slack):
    for n in range(12):
        desk.client.command(f"parcel number {n} was lost")
    desk.settle()
    first = desk.client.command("search parcel")
    assert "Complaints 1–10 of 12" in first.json()["text"]
    [more] = [element for block in first.json()["blocks"] if block["type"] == "actions" for element in block["elements"]]
    desk.client.action(more["action_id"], more["value"])
    desk.settle()
    [page] = [call for call in slack.calls_to("response_url") if call.args.get("text", "").startswith("Complaints")]
    second = json.dumps(page.args["blocks"])
    assert "Complaints 11–12 of 12" in page.args["text"]
    shown = {ref for ref in (f"C-{n}" for n in range(1, 13)) if f"*{ref}*" in blocks_text(first) + second}
    assert len(shown) == 12


@pytest.mark.parametrize("value", ["", "not json", '{"query": "parcel"}', '{"query": 1, "page": 2}',
                                   '{"query": "parcel", "page": -1}'])
def test_a_forged_more_button_gets_a_clear_answer(desk, slack, value):
    reply = desk.client.action("complaint_search_more", value)
    desk.settle()
    assert reply.status == 200
    told = [call.args.get("text", "") for call in slack.calls_to("response_url")]
    assert any("out of date" in text for text in told), told


@pytest.mark.parametrize("typed", ['search "', "search *", "search NEAR(a b)", "search a AND OR NOT b",
                                   "search ' OR 1=1 --", "search <!channel>", "search " + "x" * 5000, "search"])
def test_hostile_searches_get_an_answer_and_change_nothing(history, typed):
    reply = history.client.command(typed)
    assert reply.status == 200 and reply.text
    assert "<!channel>" not in reply.text
    with history.open_session() as session:
        assert session.exec(select(func.count()).select_from(Complaint)).one() == 3
