"""POST /api/v1/complaints and GET /api/v1/complaints/C-42 over HTTP against the running desk."""

from __future__ import annotations

import json
import threading

import pytest
from sqlmodel import func, select

from models.complaints import Complaint, ComplaintFollower
from tests.harness import ALICE, BOB, CAROL, COMPLAINTS
from tests.web import API_TOKEN, OTHER_TOKEN, WEB_SETTINGS, Browser

COMPLAINT = {"description": "The saddle arrived torn", "customer_name": "Jane Roe", "customer_contact": "jane@example.com",
             "contact_channel": "email", "category": "delivery", "severity": "high", "source": "web form"}


@pytest.fixture
def web_desk(make_desk):
    return make_desk(**WEB_SETTINGS)


@pytest.fixture
def tool(web_desk) -> Browser:
    return Browser(web_desk.client.base_url)


def complaint_count(desk) -> int:
    with desk.open_session() as session:
        return session.exec(select(func.count()).select_from(Complaint)).one()


def test_a_complaint_is_logged_as_slash_complaint_logs_it_posted_and_marked_with_its_source(web_desk, tool, slack):
    answer = tool.post_json("/api/v1/complaints", COMPLAINT)
    assert answer.status == 201, answer.text
    body = answer.json()
    assert (body["reference"], body["status"], body["severity"], body["source"]) == ("C-1", "open", "high", "web form")
    assert answer.header("Location") == "/api/v1/complaints/C-1"
    web_desk.settle()
    posted = [c.args for c in slack.calls_to("chat.postMessage") if c.args["channel"] == COMPLAINTS]
    assert len(posted) == 1 and "web form (API)" in str(posted[0]["blocks"]) and "The saddle arrived torn" in str(posted[0]["blocks"])
    told = [c.args for c in slack.calls_to("chat.postMessage") if c.args["channel"] == BOB]
    assert len(told) == 1 and "came in from web form" in told[0]["text"]
    with web_desk.open_session() as session:
        complaint = session.get(Complaint, 1)
    assert (complaint.owner_id, complaint.customer_contact, complaint.slack_channel) == (BOB, "jane@example.com", COMPLAINTS)
    # The same history as a complaint logged in Slack.
    shown = str(web_desk.client.command("show C-1").json()["blocks"])
    assert "The intake API logged it" in shown and "<@api:" not in shown
    # The token that logged it is nobody to tell how it ends, so it follows nothing.
    assert web_desk.client.command("resolve C-1 Sent a new saddle", user=BOB).status == 200
    web_desk.settle()
    with web_desk.open_session() as session:
        assert session.exec(select(ComplaintFollower.user_id)).all() == []
    assert not [c for c in slack.calls_to("chat.postMessage") if c.args["channel"].startswith("api:")]


def test_a_retry_with_the_same_idempotency_key_never_creates_a_second_complaint(web_desk, tool, slack):
    headers = {"Idempotency-Key": "form-submission-7781"}
    first = tool.post_json("/api/v1/complaints", COMPLAINT, headers=headers)
    again = tool.post_json("/api/v1/complaints", COMPLAINT, headers=headers)
    assert (first.status, again.status) == (201, 200)
    assert again.json()["reference"] == first.json()["reference"] and again.header("Idempotent-Replayed") == "true"
    other_body = tool.post_json("/api/v1/complaints", {**COMPLAINT, "description": "another"}, headers=headers)
    assert other_body.status == 409 and other_body.json()["errors"][0]["field"] == "Idempotency-Key"
    # Another tool may use the same key for its own complaint.
    assert tool.post_json("/api/v1/complaints", COMPLAINT, headers=headers, token=OTHER_TOKEN).status == 201
    web_desk.settle()
    assert complaint_count(web_desk) == 2
    assert len([c for c in slack.calls_to("chat.postMessage") if c.args["channel"] == COMPLAINTS]) == 2


def test_retries_at_the_same_moment_create_one_complaint(web_desk, tool):
    answers = []

    def send() -> None:
        answers.append(Browser(tool.base_url).post_json("/api/v1/complaints", COMPLAINT,
                                                        headers={"Idempotency-Key": "same-instant"}).status)

    threads = [threading.Thread(target=send) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(answers) == [200, 200, 200, 201]
    assert complaint_count(web_desk) == 1


@pytest.mark.parametrize("headers, token", [
    ({}, None), ({}, "tok-not-one-of-ours-0000000000"), ({"Authorization": f"Basic {API_TOKEN}"}, None),
    ({"Authorization": f"Bearer {API_TOKEN}x"}, None),
])
def test_without_a_known_bearer_token_the_answer_is_401(web_desk, tool, headers, token):
    answer = tool.post_json("/api/v1/complaints", COMPLAINT, token=token, headers=headers)
    assert answer.status == 401 and answer.json()["errors"][0]["field"] == "Authorization"
    assert answer.header("WWW-Authenticate").startswith("Bearer")
    assert tool.get("/api/v1/complaints/C-1", headers=headers).status == 401
    assert complaint_count(web_desk) == 0


def test_a_body_that_is_not_json_gets_415_or_400(web_desk, tool):
    assert tool.post_json("/api/v1/complaints", None, raw=b"description=x", content_type="application/x-www-form-urlencoded").status == 415
    assert tool.post_json("/api/v1/complaints", None, raw=b"description=x", content_type="text/plain").status == 415
    broken = tool.post_json("/api/v1/complaints", None, raw=b'{"description": ')
    assert broken.status == 400 and "not JSON" in broken.json()["error"]
    assert tool.post_json("/api/v1/complaints", None, raw=b"\xff\xfe").status == 400
    assert complaint_count(web_desk) == 0


def test_a_body_over_64_kib_gets_413(web_desk, tool):
    answer = tool.post_json("/api/v1/complaints", {"description": "x" * 70_000})
    assert answer.status == 413 and "error" in answer.json()
    assert complaint_count(web_desk) == 0


@pytest.mark.parametrize("payload, fields", [
    ({}, ["description"]),
    ({"description": "   "}, ["description"]),
    ({"description": 42}, ["description"]),
    ([COMPLAINT], ["body"]),
    ({"description": "x" * 10_001}, ["description"]),
    ({**COMPLAINT, "severity": "catastrophic", "category": "weather"}, ["category", "severity"]),
    ({**COMPLAINT, "contact_channel": "pigeon", "customer_name": "n" * 201}, ["customer_name", "contact_channel"]),
    ({**COMPLAINT, "owner": "U123", "source": "s" * 41}, ["owner", "source"]),
])
def test_wrong_fields_get_422_naming_each(web_desk, tool, payload, fields):
    answer = tool.post_json("/api/v1/complaints", payload)
    assert answer.status == 422, answer.text
    assert sorted(error["field"] for error in answer.json()["errors"]) == sorted(fields)
    assert complaint_count(web_desk) == 0


def test_a_bad_idempotency_key_gets_422(web_desk, tool):
    answer = tool.post_json("/api/v1/complaints", COMPLAINT, headers={"Idempotency-Key": "k" * 201})
    assert answer.status == 422 and answer.json()["errors"][0]["field"] == "Idempotency-Key"


def test_each_token_is_rate_limited_with_429(make_desk, clock):
    desk = make_desk(**WEB_SETTINGS, api_rate_limit=2)
    tool = Browser(desk.client.base_url)
    statuses = [tool.post_json("/api/v1/complaints", COMPLAINT).status for _ in range(3)]
    assert statuses == [201, 201, 429]
    limited = tool.post_json("/api/v1/complaints", COMPLAINT)
    assert int(limited.header("Retry-After")) >= 1 and "requests a minute" in limited.json()["error"]
    assert tool.post_json("/api/v1/complaints", COMPLAINT, token=OTHER_TOKEN).status == 201
    clock.advance(minutes=1)
    assert tool.post_json("/api/v1/complaints", COMPLAINT).status == 201


def test_the_status_is_given_to_the_token_that_logged_it_only(web_desk, tool):
    tool.post_json("/api/v1/complaints", COMPLAINT)
    web_desk.client.command("resolve C-1 sent a new saddle", user=BOB)
    status = tool.get("/api/v1/complaints/C-1", headers={"Authorization": f"Bearer {API_TOKEN}"})
    assert status.status == 200 and status.json()["status"] == "resolved" and status.json()["resolved_at"]
    assert "description" not in status.json()
    assert tool.get("/api/v1/complaints/C-1", headers={"Authorization": f"Bearer {OTHER_TOKEN}"}).status == 404
    web_desk.client.command("#billing logged in Slack")
    assert tool.get("/api/v1/complaints/C-2", headers={"Authorization": f"Bearer {API_TOKEN}"}).status == 404
    missing = tool.get("/api/v1/complaints/nonsense", headers={"Authorization": f"Bearer {API_TOKEN}"})
    assert missing.status == 404 and "error" in missing.json()


def test_intake_owners_take_turns(make_desk):
    desk = make_desk(**{**WEB_SETTINGS, "intake_owner": "", "intake_owners": f"{ALICE},{BOB},{CAROL}"})
    tool = Browser(desk.client.base_url)
    for _ in range(4):
        tool.post_json("/api/v1/complaints", COMPLAINT)
    desk.client.command("#billing logged in Slack by Alice")
    tool.post_json("/api/v1/complaints", COMPLAINT)
    with desk.open_session() as session:
        owners = [c.owner_id for c in session.exec(select(Complaint).order_by(Complaint.id))]
    assert owners == [ALICE, BOB, CAROL, ALICE, ALICE, BOB]


def test_the_openapi_document_describes_both_operations_and_their_answers(web_desk, tool):
    document = tool.get("/api/v1/openapi.json")
    assert document.status == 200
    spec = json.loads(document.body)
    create = spec["paths"]["/complaints"]["post"]
    assert {"201", "200", "400", "401", "409", "413", "415", "422", "429"} <= set(create["responses"])
    assert set(spec["components"]["schemas"]["NewComplaint"]["properties"]) == set(COMPLAINT)
    assert "get" in spec["paths"]["/complaints/{reference}"]


def test_unknown_api_paths_and_methods_answer_in_json(web_desk, tool):
    assert tool.get("/api/v1/nothing").status == 404 and "error" in tool.get("/api/v1/nothing").json()
    wrong_method = tool.request("DELETE", "/api/v1/complaints")
    assert wrong_method.status == 405 and "error" in wrong_method.json()
