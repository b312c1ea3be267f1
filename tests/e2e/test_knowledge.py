"""`/kb` end to end: answers, buttons, gaps, live edits, broken articles, suggestions."""

from __future__ import annotations

import json
import os
import re

import pytest
from sqlmodel import select

from models.knowledge import KnowledgeFeedback, KnowledgeSearch
from tests.harness import ADMIN, ALICE, BOB, GENERAL
from tests.knowledge_files import write_article, write_sample

pytestmark = pytest.mark.e2e


@pytest.fixture
def folder(tmp_path):
    return write_sample(tmp_path / "knowledge")


@pytest.fixture
def kb(folder, make_desk):
    return make_desk()


def ask(desk, text: str, user: str = ALICE):
    reply = desk.client.command(text, command="/kb", user=user)
    assert reply.status == 200
    try:
        return reply.json() or {}
    except ValueError:
        return {"text": reply.text}


def searches(desk) -> list[KnowledgeSearch]:
    with desk.open_session() as session:
        return list(session.exec(select(KnowledgeSearch).order_by(KnowledgeSearch.id)))


def buttons(reply: dict) -> list[dict]:
    return [element for block in reply.get("blocks", []) if block["type"] == "actions" for element in block["elements"]]


def press(desk, button: dict, user: str = ALICE):
    desk.client.action(button["action_id"], button["value"], user=user, channel=GENERAL, block_id="kb_result_1")
    desk.settle()


def test_a_question_gets_the_top_articles_with_buttons(kb):
    reply = ask(kb, "how long does a refund take?")
    sections = [b["text"]["text"] for b in reply["blocks"] if b["type"] == "section"]
    assert 1 <= len(sections) <= 3
    assert sections[0].startswith("*Refunds*  ·  _returns_  ·  ") and "% match" in sections[0]
    assert "`REFUND-FAST`" in sections[0]  # the excerpt, in mrkdwn
    assert [b["action_id"] for b in buttons(reply)[:4]] == ["kb_show", "kb_share", "kb_helpful", "kb_not_helpful"]
    [search] = searches(kb)
    assert search.answered and search.asker_id == ALICE and search.shown_paths.split("\n")[0] == "returns/refunds.md"


def test_show_share_and_rate_an_answer(kb, slack):
    reply = ask(kb, "customer wants to return an item")
    show, share, helpful, not_helpful = buttons(reply)[:4]
    assert json.loads(show["value"])["p"] == "returns/returns-and-exchanges.md"

    press(kb, show)
    modal = kb.opened_view()
    assert modal["blocks"][0]["text"]["text"] == "Returns and exchanges"
    body = "\n".join(b["text"]["text"] for b in modal["blocks"] if b["type"] == "section")
    assert "*30 days*" in body and "1. Check the receipt" in body and "<https://example.com/policy|" in body

    press(kb, share, user=BOB)
    [post] = slack.calls_to("chat.postMessage")
    assert post.args["channel"] == GENERAL and f"<@{BOB}> shared" in post.args["text"]

    press(kb, not_helpful)
    press(kb, helpful)  # changed her mind: one vote, the latest
    with kb.open_session() as session:
        [vote] = session.exec(select(KnowledgeFeedback)).all()
    assert (vote.user_id, vote.helpful, vote.article_path) == (ALICE, True, "returns/returns-and-exchanges.md")
    thanks = [call.args["text"] for call in slack.calls_to("response_url")]
    assert "did not help" in thanks[0] and "*Returns and exchanges* helped" in thanks[1]


def test_no_confident_answer_is_said_plainly_and_recorded_as_a_gap(kb, slack):
    for text in ("what is the weather in paris", "🙂🙂🙂", "?!", "今日はいい天気ですね", "x" * 5000):
        reply = ask(kb, text)
        assert "no confident answer" in reply["text"] and "blocks" not in reply
    recorded = searches(kb)
    assert len(recorded) == 5 and not any(s.answered for s in recorded)
    assert len(recorded[-1].query) == 2000  # stored cut, answered all the same

    gaps = ask(kb, "gaps", user=ADMIN)
    text = gaps["blocks"][0]["text"]["text"]
    assert "what is the weather in paris" in text and f"<@{ALICE}>" in text


def test_gaps_count_repeats_and_unhelpful_answers_and_are_for_admins_only(kb, clock):
    ask(kb, "where is the parking", user=ALICE)
    ask(kb, "Where is the PARKING?", user=BOB)
    reply = ask(kb, "who owns this complaint")
    press(kb, buttons(reply)[3], user=ALICE)  # not helpful
    clock.advance(days=31)
    ask(kb, "lunch menu")

    assert "only admins" in ask(kb, "gaps", user=ALICE)["text"]
    text = ask(kb, "gaps", user=ADMIN)["blocks"][0]["text"]["text"]
    lines = text.split("\n")[1:]
    assert lines[0].startswith("• *1×* “lunch menu”")
    assert len(lines) == 1  # the others are older than 30 days
    clock.advance(days=-31)
    lines = ask(kb, "gaps", user=ADMIN)["blocks"][0]["text"]["text"].split("\n")[1:]
    assert lines[0].startswith("• *2×* “Where is the PARKING?” (2 unanswered)")
    assert f"<@{BOB}>" in lines[0] and f"<@{ALICE}>" in lines[0]
    unhelpful = next(line for line in lines if "who owns this complaint" in line)
    assert "1 not helpful" in unhelpful and "shown: Taking ownership of a complaint" in unhelpful


def test_help_lists_commands_and_categories(kb):
    text = " ".join(b["text"]["text"] for b in ask(kb, "")["blocks"])
    assert "*complaints* (2)" in text and "*returns* (2)" in text and "*general* (1)" in text
    assert "/kb gaps" not in text
    assert "/kb gaps" in " ".join(b["text"]["text"] for b in ask(kb, "help", user=ADMIN)["blocks"])


def test_edits_are_picked_up_live_and_reload_is_for_admins(kb, folder, clock):
    write_article(folder, "shipping/parcel-lockers.md", "Parcel lockers", questions=["can I send it to a parcel locker"])
    clock.advance(seconds=2)
    reply = ask(kb, "parcel locker delivery")
    assert reply["blocks"][1]["text"]["text"].startswith("*Parcel lockers*")

    (folder / "shipping" / "parcel-lockers.md").unlink()
    assert "only admins" in ask(kb, "reload", user=BOB)["text"]
    text = ask(kb, "reload", user=ADMIN)["text"]
    assert "5 articles (0 changed, 1 removed), 0 problem(s)" in text


def test_a_broken_article_is_reported_once_to_its_owner_and_the_last_good_version_served(kb, folder, slack, clock):
    path = folder / "complaints" / "taking-ownership.md"
    path.write_text(path.read_text(encoding="utf-8").replace("title:", "title: [", 1), encoding="utf-8")
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 2_000_000_000))
    write_article(folder, "orphan.md", "Orphan", body="")  # no owner: the admins hear of it
    reply = ask(kb, "reload", user=ADMIN)
    assert "2 problem(s)" in reply["text"] and "taking-ownership.md:3: bad YAML" in reply["text"]
    kb.settle()
    dms = {call.args["channel"]: call.args["text"] for call in slack.calls_to("chat.postMessage")}
    assert set(dms) == {BOB, ADMIN}
    assert "`complaints/taking-ownership.md` has a problem on line 3" in dms[BOB]
    assert "`orphan.md` has a problem on line 4: the article has no text" in dms[ADMIN]

    assert ask(kb, "how do I take a complaint")["blocks"][1]["text"]["text"].startswith("*Taking ownership")
    ask(kb, "reload", user=ADMIN)
    clock.advance(seconds=5)
    ask(kb, "refund")
    kb.settle()
    assert len(slack.calls_to("chat.postMessage")) == 2  # once per problem


def test_review_lists_articles_past_their_review_age_to_their_owners(folder, make_desk, slack, clock):
    desk = make_desk(knowledge_review_days=90)  # the clock says 2026-11-23
    mine = ask(desk, "review", user=BOB)["blocks"][0]["text"]["text"]
    assert "Nothing is due" in mine  # Bob's article was updated 2026-11-01
    everyone = ask(desk, "review", user=ADMIN)["blocks"][0]["text"]["text"]
    assert "<@UADMIN0005>: Returns and exchanges" in everyone and "updated 2026-01-10" in everyone
    assert "no owner: Escalation paths" in everyone and "never dated" in everyone
    assert "Taking ownership" not in everyone


def test_button_faults_get_a_clear_answer(kb, slack, folder):
    reply = ask(kb, "how long does a refund take")
    show, share, helpful, _ = buttons(reply)[:4]
    slack.fail("chat.postMessage", "not_in_channel")
    press(kb, share)
    assert "Invite me to the channel" in slack.calls_to("response_url")[-1].args["text"]

    (folder / "returns" / "refunds.md").unlink()
    kb.client.command("reload", command="/kb", user=ADMIN)
    press(kb, show)
    assert "no longer in the knowledge base" in slack.calls_to("response_url")[-1].args["text"]
    press(kb, {"action_id": "kb_helpful", "value": "not json"})
    assert "no longer works" in slack.calls_to("response_url")[-1].args["text"]
    press(kb, {"action_id": "kb_helpful", "value": json.dumps({"p": "x.md", "s": 999})})
    assert "no longer on record" in slack.calls_to("response_url")[-1].args["text"]


def test_user_text_never_pings(kb):
    reply = ask(kb, "<!channel> refund <!here> how long")
    assert "&lt;!channel&gt;" in reply["blocks"][0]["elements"][0]["text"]


def test_a_logged_complaint_suggests_matching_articles(kb):
    reply = kb.client.command("customer was charged twice and wants a refund").json()
    assert "Logged" in reply["blocks"][0]["text"]["text"]
    assert "Articles that may help" in reply["blocks"][1]["text"]["text"] and "Refunds" in reply["blocks"][1]["text"]["text"]
    show = reply["blocks"][2]["elements"][0]
    press(kb, show)
    assert kb.opened_view()["blocks"][0]["text"]["text"] == "Refunds"
    # Nothing to suggest: the confirmation is plain text, as before.
    plain = kb.client.command("the lift smelled of fish")
    assert "blocks" not in plain.text and "Logged" in plain.text


def test_off_topic_questions_are_not_answered_and_land_in_gaps(kb):
    # "recipe" looks like "receipt" (Returns and exchanges) and "password" like nothing:
    # look-alike words are no evidence, so neither gets an article.
    for question in ("recipe for chocolate cake", "what is the wifi password"):
        reply = ask(kb, question)
        assert "no confident answer" in reply["text"] and "blocks" not in reply
    text = ask(kb, "gaps", user=ADMIN)["blocks"][0]["text"]["text"]
    assert "recipe for chocolate cake" in text and "what is the wifi password" in text


def test_the_matches_are_listed_by_their_shown_probability(kb):
    reply = ask(kb, "customer was charged twice and wants a refund")
    shown = [int(re.search(r"(\d+)% match", b["text"]["text"]).group(1))
             for b in reply["blocks"] if b["type"] == "section" and "% match" in b["text"]["text"]]
    assert shown[0] >= 50 and shown == sorted(shown, reverse=True)
