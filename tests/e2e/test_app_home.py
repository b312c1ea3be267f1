"""The App Home tab: my open complaints with SLA state, kudos, quick actions, team breaches."""

from __future__ import annotations

from bot.knowledge.usage import knowledge_gaps
from tests.knowledge_files import write_article
from tests.harness import ALICE, BOB, MANAGER


def open_home(desk, slack, user: str) -> dict:
    desk.client.event({"type": "app_home_opened", "user": user, "tab": "home", "event_ts": "1700000000.000100"})
    desk.settle()
    call = slack.calls_to("views.publish")[-1]
    assert call.args["user_id"] == user
    return call.args["view"]


def test_home_lists_my_open_complaints_with_their_sla_state(desk, slack, clock):
    desk.client.command("!urgent #billing on fire")
    desk.client.command("#delivery parcel late")
    desk.client.command("#product zip broke", user=BOB)
    desk.settle()
    clock.advance(minutes=50)  # urgent: 50 of 60 minutes gone
    view = open_home(desk, slack, ALICE)
    text = str(view["blocks"])
    assert view["type"] == "home"
    assert "My open complaints* (2)" in text and "C-1* due soon" in text and "C-2* on track" in text
    assert "zip broke" not in text
    assert "Kudos you received recently" in text
    assert "Team SLA breaches" not in text  # Alice is not a manager


def test_managers_also_see_the_team_breaches(desk, slack, clock):
    desk.client.command("!urgent #billing on fire <@UBOB00002|bob>")
    desk.client.command("#delivery parcel late")
    desk.settle()
    clock.advance(hours=2)
    text = str(open_home(desk, slack, MANAGER)["blocks"])
    assert "Team SLA breaches* (1)" in text and "C-1* breached · <@UBOB00002>" in text
    assert "C-2" not in text.split("Team SLA breaches")[1]


def test_the_messages_tab_is_left_alone(desk, slack):
    desk.client.event({"type": "app_home_opened", "user": ALICE, "tab": "messages", "event_ts": "1700000000.000100"})
    desk.settle()
    assert slack.calls_to("views.publish") == []


def test_home_buttons_open_the_complaint_form_and_the_knowledge_base_search(desk, slack, clock):
    open_home(desk, slack, ALICE)
    desk.client.action("home_log_complaint", "log", block_id="home_actions")
    desk.settle()
    form = desk.opened_view()
    assert form["callback_id"] == "complaint_log"
    desk.client.submit_view(form, {"description": "Rude driver", "category": "delivery", "severity": "high",
                                   "contact_channel": "phone", "owner": ALICE})
    desk.settle()
    assert "Logged" in slack.calls_to("chat.postMessage")[-1].args["text"]

    desk.client.action("home_search_kb", "search", block_id="home_actions")
    desk.settle()
    search = desk.opened_view()
    assert search["callback_id"] == "home_kb_search"
    reply = desk.client.submit_view(search, {"query": "<!channel> refund policy"}).json()
    assert reply["response_action"] == "update"
    assert "I have no confident answer" in str(reply["view"]["blocks"]) and "&lt;!channel&gt;" in str(reply["view"]["blocks"])
    with desk.open_session() as session:  # counted as a knowledge gap, like /kb
        [gap] = knowledge_gaps(session, now=clock())
    assert (gap.question, gap.askers, gap.unanswered) == ("<!channel> refund policy", [ALICE], 1)

    write_article(desk.settings.knowledge_dir, "orders/refunds.md", "Refund policy",
                  questions=["how long does a refund take"], body="Refunds take 5 working days.")
    clock.advance(seconds=5)  # past the library's change-detection throttle
    found = desk.client.submit_view(search, {"query": "how long do refunds take?"}).json()
    assert "*Refund policy*" in str(found["view"]["blocks"]) and "match" in str(found["view"]["blocks"])
