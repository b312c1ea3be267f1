"""Slack gets its answer as soon as a listener has acked (Bolt's process_before_response,
handlers.messaging.guarded): whatever the listener asks of the Web API after the ack
happens afterwards, on other threads, over HTTP and in Socket Mode alike."""

from __future__ import annotations

import json
from urllib.parse import parse_qsl

import pytest
from slack_bolt.adapter.socket_mode.internals import run_bolt_app
from slack_sdk.socket_mode.request import SocketModeRequest
from sqlmodel import select

from handlers.ids import Shortcut
from models.complaints import Complaint
from tests.harness import ALICE, COMPLAINTS

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def test_opening_the_log_form_answers_slack_before_views_open_returns(desk, slack):
    stall = slack.stall("views.open", seconds=5)
    reply = desk.client.command("")
    assert reply.status == 200
    assert stall.held.wait(timeout=5), "the form was never opened"
    assert not stall.answered.is_set(), "the ack waited for views.open"
    stall.release()
    desk.settle()
    assert desk.opened_view()["callback_id"]


def test_a_listener_that_acks_first_answers_before_its_web_api_call(desk, slack):
    stall = slack.stall("views.open", seconds=5)
    reply = desk.client.message_shortcut(Shortcut.LOG_FROM_MESSAGE.value, {"ts": "1700000000.000100", "text": "charged twice"})
    assert reply.status == 200
    assert stall.held.wait(timeout=5)
    assert not stall.answered.is_set(), "the shortcut's answer waited for views.open"
    stall.release()
    desk.settle()
    assert "charged twice" in json.dumps(desk.opened_view())


def test_a_one_line_complaint_is_saved_and_acknowledged_while_posting_waits(desk, slack):
    stall = slack.stall("chat.postMessage", seconds=5)
    reply = desk.client.command("#billing charged twice", channel=COMPLAINTS)
    assert reply.text.startswith("Logged *C-1*")
    assert stall.held.wait(timeout=5)
    assert not stall.answered.is_set()
    with desk.open_session() as session:
        assert [c.description for c in session.exec(select(Complaint))] == ["charged twice"]
    stall.release()
    desk.settle()
    assert slack.calls_to("chat.postMessage")[0].args["channel"] == COMPLAINTS


def test_socket_mode_acknowledges_with_the_confirmation_and_opens_forms_afterwards(desk, slack):
    def envelope(text: str) -> SocketModeRequest:
        payload = dict(parse_qsl(desk.client.command_body(text, user=ALICE, command="/complaint", channel=COMPLAINTS)))
        return SocketModeRequest(type="slash_commands", envelope_id=f"envelope-{text}", payload=payload)

    answer = run_bolt_app(desk.app, envelope("!urgent website down"))
    assert answer.status == 200 and "Logged *C-1*" in answer.body

    stall = slack.stall("views.open", seconds=5)
    answer = run_bolt_app(desk.app, envelope(""))
    assert answer.status == 200
    assert stall.held.wait(timeout=5) and not stall.answered.is_set()
    stall.release()
    desk.settle()
    assert len(slack.calls_to("views.open")) == 1
