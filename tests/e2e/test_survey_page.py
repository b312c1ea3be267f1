"""The survey page customers answer themselves, over HTTP against the running desk:
the link from Slack, the page, answers and their changes, and every bad request."""

from __future__ import annotations

import re

import pytest
from bot.survey_links import UNSUBSCRIBE_PURPOSE, SurveyLinks, sign
from models.complaints import Complaint
from models.surveys import CallBack, SurveyAnswer
from tests.harness import ALICE, COMPLAINTS, MANAGER
from tests.web import MANAGERS, PUBLIC_URL, SECRET_KEY, WEB_SETTINGS, Browser, answer_survey, csrf_of, resolved_complaint, survey_path

VALUES = {"value-1": "4", "value-2": "5", "value-3": "3", "value-4": "5", "value-5": "2"}


@pytest.fixture
def web_desk(make_desk):
    return make_desk(**WEB_SETTINGS)


@pytest.fixture
def browser(web_desk) -> Browser:
    return Browser(web_desk.client.base_url)


def stored_answer(desk, complaint_id: int = 1) -> SurveyAnswer | None:
    with desk.open_session() as session:
        return session.get(SurveyAnswer, complaint_id)


def detractor_alerts(slack) -> list[dict]:
    return [c.args for c in slack.calls_to("chat.postMessage")
            if c.args["channel"] == MANAGERS and c.args["text"].startswith("A detractor")]


def test_resolving_gives_the_link_in_the_answer_on_the_team_message_and_again_on_request(web_desk, slack, clock):
    path = resolved_complaint(web_desk)
    team_copy = slack.calls_to("chat.update")[-1].args
    assert team_copy["channel"] == COMPLAINTS and PUBLIC_URL + path in str(team_copy["blocks"])
    clock.advance(days=1)
    again = web_desk.client.command("survey C-1")
    assert "works for 14 days" in again.text and survey_path(again.text) != path
    web_desk.client.command("#delivery late parcel")
    assert "is not resolved" in web_desk.client.command("survey C-2").text


def test_the_survey_command_says_when_the_web_side_is_off(desk):
    desk.client.command("#billing charged twice")
    desk.client.command("resolve C-1 refunded")
    reply = desk.client.command("survey C-1")
    assert "set PUBLIC_URL and SECRET_KEY" in reply.text


def test_the_page_shows_the_company_the_owner_and_the_date_and_nothing_of_the_complaint(web_desk, browser):
    path = resolved_complaint(web_desk, contact="jane@example.com")
    page = browser.get(path)
    assert page.status == 200 and page.header("Content-Type").startswith("text/html")
    assert "Acme Bikes" in page.text and "Alice" in page.text and "23 November 2026" in page.text
    for private in ("charged twice", "order 1182", "jane@example.com", "refunded", ALICE):
        assert private not in page.text
    # Every question is labelled; the 0-10 and each value are fieldsets with a legend.
    assert page.text.count("<legend>") == 1 + 5 and page.text.count('type="radio"') == 11 + 5 * 5
    for radio_id in re.findall(r'type="radio" name="[^"]+" value="\d+" id="([^"]+)"', page.text):
        assert f'<label for="{radio_id}">' in page.text
    # No third-party assets: every src/href is on this site.
    assert all(link.startswith("/") for link in re.findall(r'(?:src|href|action)="([^"#]+)"', page.text))


def test_every_page_carries_the_security_headers(web_desk, browser):
    path = resolved_complaint(web_desk)
    for answer in (browser.get(path), browser.get("/survey/forged"), browser.get("/static/survey.css")):
        assert "frame-ancestors 'none'" in answer.header("Content-Security-Policy")
        assert "default-src 'self'" in answer.header("Content-Security-Policy")
        assert answer.header("Referrer-Policy") == "no-referrer"
        assert answer.header("X-Content-Type-Options") == "nosniff"
    assert "HttpOnly" in browser.get(path).header("Set-Cookie") and "SameSite=Strict" in browser.get(path).header("Set-Cookie")


def test_an_answer_is_stored_as_the_customers_and_the_owner_is_told(web_desk, browser, slack):
    path = resolved_complaint(web_desk)
    sent = answer_survey(browser, path, score="9", comment="Quick <b>refund</b>, thanks!", **VALUES)
    assert sent.status == 303 and sent.header("Location").endswith(path + "/thanks")
    thanks = browser.get(path + "/thanks")
    assert thanks.status == 200 and "9 out of 10" in thanks.text
    answer = stored_answer(web_desk)
    assert (answer.score, answer.comment, answer.revision) == (9, "Quick <b>refund</b>, thanks!", 1)
    assert answer.ratings == {"speed": 4, "care": 5, "knowledge": 3, "fairness": 5, "keeping promises": 2}
    with web_desk.open_session() as session:
        # Distinct from a score staff recorded.
        assert session.get(Complaint, 1).satisfaction_score is None
    web_desk.settle()
    told = [c.args for c in slack.calls_to("chat.postMessage") if c.args["channel"] == ALICE]
    assert len(told) == 1 and "*9/10* (promoter)" in told[0]["text"] and "keeping promises 2/5" in told[0]["text"]
    assert "&lt;b&gt;refund&lt;/b&gt;" in told[0]["text"]
    web_desk.tick()
    assert len([c for c in slack.calls_to("chat.postMessage") if c.args["channel"] == ALICE]) == 1


def test_the_answer_can_be_changed_until_the_link_expires(web_desk, browser, slack, clock):
    path = resolved_complaint(web_desk)
    answer_survey(browser, path, score="5", comment="slow")
    clock.advance(days=2)
    again = browser.get(path)
    assert 'value="5" id="score-5"\n                 checked' in again.text and ">slow</textarea>" in again.text
    assert answer_survey(browser, path, score="8", comment="better now").status == 303
    answer = stored_answer(web_desk)
    assert (answer.score, answer.comment, answer.revision) == (8, "better now", 2)
    web_desk.settle()
    told = [c.args["text"] for c in slack.calls_to("chat.postMessage") if c.args["channel"] == ALICE]
    assert "changed their survey answer" in told[-1] and "*8/10*" in told[-1]
    clock.advance(days=12, minutes=1)
    assert browser.get(path).status == 410
    assert browser.post_form(path, {"csrf": "x", "score": "10"}).status == 410
    assert stored_answer(web_desk).score == 8


def test_expired_forged_and_unknown_links_get_a_clear_page(web_desk, browser, clock):
    path = resolved_complaint(web_desk)
    links = SurveyLinks(PUBLIC_URL, SECRET_KEY, 14)
    unknown = links.survey_token(999, issued_at=clock.now)
    other_secret = SurveyLinks(PUBLIC_URL, "another-secret-0123456789abcdef0123", 14).survey_token(1, issued_at=clock.now)
    wrong_purpose = sign(1, secret=SECRET_KEY, purpose=UNSUBSCRIBE_PURPOSE, issued_at=clock.now)
    for token in (unknown, other_secret, wrong_purpose, path.rsplit("/", 1)[1][:-3] + "abc", "nonsense", "a" * 3000):
        page = browser.get(f"/survey/{token}")
        assert page.status == 404 and "know this link" in page.text, token
        assert "Traceback" not in page.text
    clock.advance(days=14, seconds=1)
    expired = browser.get(path)
    assert expired.status == 410 and "This link has expired" in expired.text
    assert browser.get("/no/such/page").status == 404


def test_a_form_without_our_cookie_or_with_another_forms_token_saves_nothing_and_keeps_the_answers(web_desk, browser):
    path = resolved_complaint(web_desk)
    token = csrf_of(browser.get(path))
    stranger = Browser(browser.base_url)
    refused = stranger.post_form(path, {"csrf": token, "score": "3", "comment": "my words"})
    assert refused.status == 400 and "nothing was saved" in refused.text and ">my words</textarea>" in refused.text
    forged = browser.post_form(path, {"csrf": "forged", "score": "3"})
    assert forged.status == 400
    assert stored_answer(web_desk) is None
    # The page that refused carries a fresh form: sending it again works.
    assert browser.post_form(path, {"csrf": csrf_of(refused), "score": "3"}).status == 400
    assert browser.post_form(path, {"csrf": csrf_of(forged), "score": "3"}).status == 303


@pytest.mark.parametrize("fields, field, message", [
    ({}, "score", "Choose a number from 0 to 10."),
    ({"score": "11"}, "score", "Choose a number from 0 to 10."),
    ({"score": "-1"}, "score", "Choose a number from 0 to 10."),
    ({"score": "٣"}, "score", "Choose a number from 0 to 10."),
    ({"score": "7", "value-2": "6"}, "value-2", "Rate care from 1 to 5"),
    ({"score": "7", "comment": "x" * 2001}, "comment", "please keep it under 2,000"),
])
def test_a_wrong_answer_is_shown_again_with_a_message_beside_the_field(web_desk, browser, fields, field, message):
    path = resolved_complaint(web_desk)
    page = answer_survey(browser, path, **fields)
    assert page.status == 422 and message in page.text and f'id="{field}-problem"' in page.text
    assert 'role="alert"' in page.text
    if "comment" in fields:
        assert fields["comment"] in page.text
    assert stored_answer(web_desk) is None


def test_a_body_over_the_limit_is_refused_with_413(web_desk, browser):
    path = resolved_complaint(web_desk)
    page = answer_survey(browser, path, score="7", comment="x" * 70_000)
    assert page.status == 413 and "shorten your comment" in page.text
    assert stored_answer(web_desk) is None


def test_each_address_is_rate_limited(make_desk, clock):
    desk = make_desk(**WEB_SETTINGS, web_rate_limit=3)
    browser = Browser(desk.client.base_url)
    path = resolved_complaint(desk)
    assert [browser.get(path).status for _ in range(3)] == [200, 200, 200]
    limited = browser.get(path)
    assert limited.status == 429 and int(limited.header("Retry-After")) >= 1 and "Please wait" in limited.text
    clock.advance(minutes=1)
    assert browser.get(path).status == 200


def test_without_trusted_proxies_x_forwarded_for_is_ignored(make_desk):
    desk = make_desk(**WEB_SETTINGS, web_rate_limit=2)
    browser = Browser(desk.client.base_url)
    path = resolved_complaint(desk)
    statuses = [browser.get(path, headers={"X-Forwarded-For": f"203.0.113.{n}"}).status for n in range(1, 4)]
    # Three "clients" that are one address: a header anyone can write buys no more requests.
    assert statuses == [200, 200, 429]


def test_behind_a_trusted_proxy_each_client_is_limited_by_its_own_address(make_desk):
    desk = make_desk(**WEB_SETTINGS, web_rate_limit=2, trusted_proxies=1)
    browser = Browser(desk.client.base_url)
    path = resolved_complaint(desk)

    def get_from(forwarded_for: str) -> int:
        return browser.get(path, headers={"X-Forwarded-For": forwarded_for}).status

    assert [get_from("203.0.113.7") for _ in range(3)] == [200, 200, 429]
    # Another client behind the same proxy has its own allowance...
    assert get_from("198.51.100.20") == 200
    # ...and the first cannot start afresh by writing an address before the one the proxy appended.
    assert get_from("192.0.2.99, 203.0.113.7") == 429
    assert get_from("192.0.2.99, 198.51.100.20") == 200


def test_a_detractor_alerts_the_managers_once_and_the_call_back_is_recorded(web_desk, browser, slack, clock):
    path = resolved_complaint(web_desk)
    answer_survey(browser, path, score="3", comment="Nobody listened")
    web_desk.settle()
    web_desk.tick()
    alerts = detractor_alerts(slack)
    assert len(alerts) == 1 and "Nobody listened" in str(alerts[0]["blocks"]) and "survey_call_back" in str(alerts[0]["blocks"])
    answer_survey(browser, path, score="2", comment="still angry")
    web_desk.settle()
    assert len(detractor_alerts(slack)) == 1
    alert_ts = next(ts for (channel, ts), m in slack.messages.items() if channel == MANAGERS and "detractor" in m["text"])
    clock.advance(hours=3)
    web_desk.client.action("survey_call_back", "1", user=MANAGER, channel=MANAGERS, message_ts=alert_ts,
                           block_id="survey")
    web_desk.settle()
    with web_desk.open_session() as session:
        call_back = session.get(CallBack, 1)
    assert (call_back.called_back_by, call_back.called_back_at) == (MANAGER, clock.now)
    assert "<@UMANAGER04> called the customer back" in str(slack.messages[(MANAGERS, alert_ts)]["blocks"])
    # Pressed again (on a reminder, say): who did it is said, nothing changes.
    web_desk.client.action("survey_call_back", "1", user=ALICE, channel=MANAGERS, message_ts=alert_ts, block_id="survey")
    web_desk.settle()
    assert "already called back" in str(slack.calls_to("chat.postEphemeral")[-1].args)
    clock.advance(hours=48)
    web_desk.tick()
    assert not [c for c in slack.calls_to("chat.postMessage") if "Nobody has called back" in c.args["text"]]


def test_the_managers_are_reminded_once_when_nobody_called_back_in_time(web_desk, browser, slack, clock):
    path = resolved_complaint(web_desk)
    answer_survey(browser, path, score="0")
    web_desk.settle()
    clock.advance(hours=47)
    web_desk.tick()
    assert not [c for c in slack.calls_to("chat.postMessage") if "Nobody has called back" in c.args["text"]]
    clock.advance(hours=1)
    web_desk.tick()
    web_desk.tick()
    reminders = [c.args for c in slack.calls_to("chat.postMessage") if "Nobody has called back" in c.args["text"]]
    assert len(reminders) == 1 and reminders[0]["channel"] == MANAGERS and "survey_call_back" in str(reminders[0]["blocks"])


def test_a_passive_or_promoter_raises_no_alert(web_desk, browser, slack):
    path = resolved_complaint(web_desk)
    answer_survey(browser, path, score="7")
    web_desk.settle()
    web_desk.tick()
    assert detractor_alerts(slack) == []
