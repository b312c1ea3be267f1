"""Search complaints on the App Home: the same search as `/complaint search`, its results
and their pages published on the tab (issue 12 point 3), over HTTP on both databases."""

from __future__ import annotations

import json

import pytest

from tests.harness import BOB


def published(slack, user) -> dict:
    call = slack.calls_to("views.publish")[-1]
    assert call.args["user_id"] == user
    return call.args["view"]


def search_on_home(desk, slack, typed: str, *, user=BOB):
    """Press Search complaints on the tab and submit `typed`: (the form, the form's answer)."""
    desk.client.action("home_search_complaints", "q:", user=user, block_id="home_actions")
    desk.settle()
    form = desk.opened_view()
    assert form["callback_id"] == "home_complaint_search"
    reply = desk.client.submit_view(form, {"query": typed}, user=user)
    desk.settle()
    return form, reply


def more_button(view: dict) -> dict | None:
    found = [element for block in view["blocks"] if block.get("block_id") == "complaint_search_more"
             for element in block["elements"]]
    return found[0] if found else None


def results_of(view: dict) -> str:
    """The tab's blocks above its own lists (the search results)."""
    blocks = view["blocks"]
    end = next(i for i, block in enumerate(blocks) if block["type"] == "divider")
    return json.dumps(blocks[2:end], ensure_ascii=False)


def test_the_home_search_pages_through_every_result_on_the_tab(desk, slack):
    for n in range(12):
        desk.client.command(f"#delivery parcel number {n} was lost")
    desk.client.command("#billing refund never arrived")
    desk.settle()
    answered = len(slack.calls_to("response_url"))  # the confirmations of the complaints logged
    _, reply = search_on_home(desk, slack, "parcel")
    assert reply.status == 200 and reply.body == b""  # the form closes
    first = published(slack, BOB)
    assert first["type"] == "home" and "Complaints 1–10 of 12 matching “parcel”" in results_of(first)
    assert "My open complaints" in json.dumps(first["blocks"])  # the rest of the tab is still there
    more = more_button(first)
    assert more["action_id"] == "home_search_more"

    desk.client.action(more["action_id"], more["value"], user=BOB)
    desk.settle()
    second = published(slack, BOB)
    assert "Complaints 11–12 of 12 matching “parcel”" in results_of(second) and more_button(second) is None
    shown = [f"C-{n}" for n in range(1, 14) if f"*C-{n}*" in results_of(first) + results_of(second)]
    assert shown == [f"C-{n}" for n in range(1, 13)]
    assert len(slack.calls_to("response_url")) == answered  # a Home tab has no response URL: all went by views.publish

    # The button remembers the search, to refine it.
    refine = [e for b in second["blocks"] if b.get("block_id") == "home_actions" for e in b["elements"]
              if e["action_id"] == "home_search_complaints"]
    desk.client.action("home_search_complaints", refine[0]["value"], user=BOB, block_id="home_actions")
    desk.settle()
    [field] = desk.opened_view()["blocks"]
    assert field["element"]["initial_value"] == "parcel"


@pytest.mark.parametrize("typed", ["refund status:resolved", "parcle", "#billing", "refund !normal since:2026-11-01",
                                   f"owner:<@{BOB}|bob>", "customer:jane"])
def test_the_home_runs_the_same_search_as_the_command(desk, slack, typed):
    desk.client.command("#billing customer was charged twice and wants a refund")
    desk.client.command("#delivery parcel left in the rain", user=BOB)
    desk.client.command("#billing refund never arrived after three weeks")
    desk.settle()
    desk.client.command("resolve C-3 refunded by bank transfer")
    desk.client.command("edit C-1 customer Jane Roe")
    desk.settle()
    command = desk.client.command(f"search {typed}").json()["blocks"]
    search_on_home(desk, slack, typed)
    home = published(slack, BOB)
    assert results_of(home) == json.dumps(command, ensure_ascii=False)


def test_bad_searches_keep_the_form_open_and_forged_pages_say_so(desk, slack):
    desk.client.command("#delivery parcel lost")
    desk.settle()
    for typed, problem in [("since:nonsense", "is not a date"), ("status:closed", "is not a status"),
                           ("", "What should I look for?"), ("x " * 300, "searches are up to 500 characters")]:
        form, reply = search_on_home(desk, slack, typed)
        answer = reply.json()
        assert answer["response_action"] == "errors" and problem in answer["errors"]["query"], typed
    assert slack.calls_to("views.publish") == []

    desk.client.action("home_search_more", "not json", user=BOB)
    desk.settle()
    home = published(slack, BOB)
    assert "That button is out of date; search again." in json.dumps(home["blocks"])
    assert "My open complaints" in json.dumps(home["blocks"])
