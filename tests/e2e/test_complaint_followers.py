"""Following a complaint: the person who logged it, and anyone who asks, is told by DM
when it is resolved or reopened, never of their own action and never twice; following
twice says so; unknown and merged complaints get a clear answer."""

from __future__ import annotations

from pathlib import Path

from sqlmodel import select

from models.complaints import ComplaintEvent, ComplaintFollower
from tests.e2e.test_complaint_workflow import log
from tests.harness import ADMIN, ALICE, BOB, CAROL, COMPLAINTS, MANAGER


def dms(slack, since: int = 0) -> list[tuple[str, str]]:
    """(to whom, text) of every chat.postMessage outside the team's channel since call `since`."""
    calls = slack.calls_to("chat.postMessage")[since:]
    return [(call.args["channel"], call.args["text"]) for call in calls if call.args["channel"] != COMPLAINTS]


def test_the_person_who_logged_it_is_told_when_it_is_resolved_and_reopened(desk, slack):
    log(desk, f"#billing <@{BOB}|bob> charged twice")  # Alice logs it for Bob
    before = len(slack.calls_to("chat.postMessage"))
    desk.client.command("resolve C-1 refunded in full", user=BOB)
    desk.settle()
    summary = f"*C-1* (normal, #billing) owned by <@{BOB}>: charged twice"
    unfollow = "You follow it; `/complaint unfollow C-1` stops these messages."
    assert dms(slack, before) == [(ALICE, f"<@{BOB}> resolved {summary} — refunded in full\n{unfollow}")]
    desk.client.command("reopen C-1", user=MANAGER)
    desk.settle()
    # Bob owns it but does not follow it; Alice is told, the manager is not told of their own action.
    assert dms(slack, before)[1:] == [(ALICE, f"<@{MANAGER}> reopened {summary}\n{unfollow}")]


def test_follow_twice_says_so_and_unfollow_stops_the_messages(desk, slack):
    log(desk, "#billing charged twice")
    assert desk.client.command("follow C-1", user=CAROL).text == (
        "You now follow C-1: I'll message you when it is resolved or reopened. "
        "`/complaint unfollow C-1` stops that.")
    assert desk.client.command("follow c1", user=CAROL).text == (
        "You already follow C-1. `/complaint unfollow C-1` stops that.")
    assert desk.client.command("follow C-1").text.startswith("You already follow C-1.")  # Alice logged it
    before = len(slack.calls_to("chat.postMessage"))
    desk.client.command("resolve C-1 refunded in full", user=MANAGER)
    desk.settle()
    told = dms(slack, before)
    # The owner hears it once (as the owner), the follower once, the manager not at all.
    assert [to for to, _ in told] == [ALICE, CAROL]
    assert "resolved your complaint *C-1*" in told[0][1] and "You follow it" in told[1][1]

    assert desk.client.command("unfollow C-1", user=CAROL).text == (
        "You no longer follow C-1. `/complaint follow C-1` to hear of it again.")
    assert desk.client.command("unfollow C-1", user=CAROL).text.startswith("You don't follow C-1, so there is nothing")
    before = len(slack.calls_to("chat.postMessage"))
    desk.client.command("reopen C-1", user=MANAGER)
    desk.settle()
    assert dms(slack, before) == [(ALICE, dms(slack, before)[0][1])] and "reopened" in dms(slack, before)[0][1]


def test_resolving_it_yourself_tells_only_the_others(desk, slack):
    log(desk, "#billing charged twice")
    desk.client.command("follow C-1", user=ADMIN)
    before = len(slack.calls_to("chat.postMessage"))
    desk.client.command("resolve C-1 refunded")
    desk.settle()
    assert [to for to, _ in dms(slack, before)] == [ADMIN]


def test_unknown_and_merged_complaints_get_a_clear_answer_and_followers_move_with_a_merge(desk, slack):
    assert desk.client.command("follow C-99").text == ":warning: There is no complaint C-99."
    assert desk.client.command("unfollow").text == ":warning: Which complaint? For example `/complaint unfollow C-42`."
    assert "is not a complaint reference" in desk.client.command("follow soon").text
    log(desk, "#billing charged twice")
    log(desk, "#billing charged twice again")
    desk.client.command("follow C-2", user=CAROL)
    desk.client.command("merge C-2 into C-1")
    desk.settle()
    expected = (":warning: C-2 was merged into C-1, and its followers follow C-1 now: "
                "`/complaint follow C-1`.")
    assert desk.client.command("follow C-2", user=BOB).text == expected
    assert desk.client.command("unfollow C-2", user=CAROL).text == expected.replace("follow C-1`", "unfollow C-1`")
    assert desk.client.command("follow C-1", user=CAROL).text.startswith("You already follow C-1.")
    with desk.open_session() as session:
        assert set(session.exec(select(ComplaintFollower.user_id).where(ComplaintFollower.complaint_id == 1))) == {
            ALICE, CAROL}
    before = len(slack.calls_to("chat.postMessage"))
    desk.client.command("resolve C-1 refunded", user=MANAGER)
    desk.settle()
    assert [to for to, _ in dms(slack, before)] == [ALICE, CAROL]


def test_a_take_of_someone_elses_complaint_is_recorded_and_told(desk, slack):
    log(desk, "#billing charged twice")
    desk.client.command("take C-1", user=BOB)
    desk.settle()
    with desk.open_session() as session:
        event = session.exec(select(ComplaintEvent).order_by(ComplaintEvent.id.desc())).first()
    assert (event.kind, event.actor_id, event.owner_id) == ("assigned", BOB, BOB)
    assert f"<@{BOB}> took it" in str(desk.client.command("show C-1").json()["blocks"])
    assert [to for to, text in dms(slack) if "took your complaint *C-1*" in text] == [ALICE]


def test_help_and_the_readme_list_follow_and_unfollow(desk):
    shown = desk.client.command("help").text
    readme = (Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8")
    assert "• `follow C-42` — be told when it is resolved or reopened (you follow what you log)\n" in shown
    assert "• `unfollow C-42` — stop being told\n" in shown
    assert "| `/complaint follow C-42` |" in readme and "| `/complaint unfollow C-42` | Stop being told. |" in readme
    # A near miss of the new words gets help, not a complaint.
    assert desk.client.command("folow C-1").text.startswith("Did you mean `follow`?")
