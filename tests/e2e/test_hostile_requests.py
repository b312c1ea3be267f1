"""Hostile and malformed requests over real HTTP: a quick 4xx (or a polite answer), never a 5xx.

Each request of the corpus goes to the running bot as raw bytes, so nothing in the
client tidies it up. For every one: the status is the expected one, the answer came
quickly, nothing was written to the database, Slack was told nothing, and no traceback
reached the log. The WSGI-level cases are sent again to the real `servicedesk run`
(gunicorn), whose own error pages must never be what a client sees.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import subprocess
import sys
import time

import pytest
from slack_bolt import BoltResponse

from bot.app.factory import answer_failed_request
from handlers.messaging import SORRY
from bot.app.inbound import MAX_BODY_BYTES
from models.db import make_engine
from tests.harness import COMPLAINTS, SIGNING_SECRET
from tests.hostile import (
    FORM, GARBAGE, QUICK, USER, chunked, command, corpus, row_counts, send, send_raw, signed, slack_writes,
)


def test_every_hostile_request_gets_a_quick_4xx_and_changes_nothing(desk, slack, caplog):
    host, port = desk.client.base_url.removeprefix("http://").split(":")
    before = row_counts(desk.engine)
    wrong = []
    cases = corpus()
    assert len(cases) >= 40
    with caplog.at_level(logging.INFO):
        for case in cases:
            answer = send(host, int(port), case.method, case.path, case.body, case.request_headers())
            desk.settle()
            after = row_counts(desk.engine)
            if answer.status != case.expect or answer.seconds > QUICK or after != before or slack_writes(slack):
                wrong.append(f"{case.name}: {answer.status} (expected {case.expect}) in {answer.seconds:.3f} s, "
                             f"{answer.body[:80]!r}, rows {after}, Slack {slack_writes(slack)}")
    assert wrong == [], "\n".join(wrong)
    tracebacks = [record.getMessage() for record in caplog.records if record.exc_info]
    assert tracebacks == [], "hostile requests wrote tracebacks to the log"


def test_a_refusal_says_why_in_one_plain_line(desk):
    host, port = desk.client.base_url.removeprefix("http://").split(":")
    answer = send(host, int(port), "POST", "/slack/events", command(trigger_id=None), {"Content-Type": FORM, **signed(command(trigger_id=None))})
    assert answer.status == 400
    assert answer.headers["Content-Type"].startswith("text/plain")
    assert answer.body == b"slash command payload without `trigger_id`\n"
    wrong_method = send(host, int(port), "GET", "/slack/events", None, {})
    assert (wrong_method.status, wrong_method.headers["Allow"]) == (405, "POST")


def test_a_proper_request_still_works_after_the_corpus(desk, slack):
    host, port = desk.client.base_url.removeprefix("http://").split(":")
    for case in corpus()[:30]:
        send(host, int(port), case.method, case.path, case.body, case.request_headers())
    reply = desk.client.command("#billing charged twice")
    desk.settle()
    assert reply.status == 200 and reply.text.startswith("Logged *C-1*")
    assert row_counts(desk.engine)["complaint"] == 1


def test_a_huge_description_within_the_body_limit_is_refused_with_a_readable_message(desk):
    reply = desk.client.command("#billing " + "x" * 1_000_000)
    assert reply.status == 200
    assert "The description is 1,000,000 characters long; the limit is 10,000." in reply.text
    assert row_counts(desk.engine)["complaint"] == 0


# ----- signed and well formed, but a listener fails on it ------------------------------------
def test_a_form_a_listener_fails_on_keeps_its_values_and_apologises(desk, slack, caplog):
    desk.client.command("", command="/kudos")
    desk.settle()
    view = {**desk.opened_view(), "private_metadata": "{not json"}
    before = row_counts(desk.engine)
    with caplog.at_level(logging.ERROR):
        started = time.monotonic()
        reply = desk.client.submit_view(view, {"kudos_reason": "stayed late to fix the refund"})
        seconds = time.monotonic() - started
    desk.settle()
    assert reply.status == 200 and seconds < QUICK
    first_input = next(block["block_id"] for block in view["blocks"] if block["type"] == "input")
    assert reply.json() == {"response_action": "errors", "errors": {first_input: SORRY}}
    assert row_counts(desk.engine) == before
    [logged] = [record for record in caplog.records if record.exc_info]
    assert "could not handle a view_submission" in logged.getMessage()


def test_a_form_without_inputs_that_a_listener_fails_on_gets_a_400(desk):
    body = {"type": "view_submission", "user": USER, "team": {"id": "T0SERVICE"}, "trigger_id": "1.2.t",
            "view": {"id": "V1", "type": "modal", "callback_id": "complaint_log", "blocks": [],
                     "state": {"values": {"description": "not an object of elements"}}}}
    reply = desk.client.interactive(body)
    assert reply.status == 400
    assert row_counts(desk.engine)["complaint"] == 0


def test_a_failed_slash_command_is_answered_with_an_apology_not_a_500():
    # No slash command that passes the checks makes a listener fail today, so Bolt's
    # error handler is called here as Bolt calls it, with the 500 Bolt prepared.
    prepared = BoltResponse(status=500)
    answer = answer_failed_request(KeyError("text"), {"command": "/complaint"}, prepared)
    assert (answer.status, answer.body) == (200, f":warning: {SORRY}")
    # After ack() Slack has had its answer: Bolt passes no response and gets none back.
    assert answer_failed_request(KeyError("text"), {"command": "/complaint"}, None) is None


# ----- the same against gunicorn (`servicedesk run`) -----------------------------------------
def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_gunicorn_answers_the_wsgi_level_corpus_without_an_error_page(database_url, slack, tmp_path):
    host, port = "127.0.0.2", _free_port()  # HOST: served on this loopback address only
    env = {
        **os.environ, "SLACK_BOT_TOKEN": "xoxb-test", "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": slack.api_url, "DATABASE_URL": database_url, "HOST": host, "PORT": str(port),
        "WEB_CONCURRENCY": "1", "COMPLAINTS_CHANNEL": COMPLAINTS,
        "SQI_TIME": "",  # the daily index posts on the real clock; these tests count posts
    }
    env.pop("SLACK_APP_TOKEN", None)
    server = subprocess.Popen([sys.executable, "-m", "bot.app.cli", "run"], env=env, cwd=tmp_path,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    engine = make_engine(database_url)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if send(host, port, "GET", "/healthz", None, {}).status == 200:
                    break
            except OSError:
                pass
            assert time.monotonic() < deadline and server.poll() is None, "server did not start"
            time.sleep(0.1)
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection(("127.0.0.1", port), timeout=2).close()

        before = row_counts(engine)
        wanted = {"unknown path", "GET the events path", "made-up method", "no signature at all",
                  "garbage bytes, unsigned", "non-UTF-8, unsigned", "forged signature", "replayed six minutes later",
                  "Content-Length over the limit, body not sent", "non-UTF-8, signed", "invalid JSON, signed",
                  "payload= not JSON", "slash command without trigger_id", "actions not a list", "view without type"}
        cases = [case for case in corpus() if case.name in wanted]
        assert len(cases) == len(wanted)
        wrong = []
        for case in cases:
            answer = send(host, port, case.method, case.path, case.body, case.request_headers())
            if answer.status != case.expect or answer.seconds > QUICK or b"<html" in answer.body.lower():
                wrong.append(f"{case.name}: {answer.status} (expected {case.expect}) in {answer.seconds:.3f} s, {answer.body[:80]!r}")
        assert wrong == [], "\n".join(wrong)

        # A chunked body has no Content-Length: read up to the limit, and refused past it.
        big = b"x" * (MAX_BODY_BYTES + 10)
        answer, seconds = send_raw(host, port, chunked(big, headers={"Content-Type": FORM, **signed(big)}))
        assert answer.startswith(b"HTTP/1.1 413 ") and seconds < QUICK * 3, answer[:200]
        challenge = b'{"type": "url_verification", "challenge": "chunked-ok", "token": "x"}'
        answer, _ = send_raw(host, port, chunked(challenge, headers={"Content-Type": "application/json", **signed(challenge)}))
        assert answer.startswith(b"HTTP/1.1 200 "), answer[:200]
        # Not HTTP at all, or a length gunicorn itself cannot read: its own 400, never a 5xx.
        answer, _ = send_raw(host, port, GARBAGE + b"\r\n\r\n")
        assert answer.startswith(b"HTTP/1.1 400 "), answer[:200]
        answer, _ = send_raw(host, port, b"POST /slack/events HTTP/1.1\r\nHost: x\r\nContent-Length: lots\r\n\r\n")
        assert answer.startswith(b"HTTP/1.1 400 "), answer[:200]
        assert row_counts(engine) == before
        assert slack_writes(slack) == []

        # Still serving properly.
        body = command(channel_id=COMPLAINTS)
        reply = send(host, port, "POST", "/slack/events", body, {"Content-Type": FORM, **signed(body)})
        assert reply.status == 200 and reply.body.startswith(b"Logged *C-1*")
    finally:
        server.send_signal(signal.SIGTERM)
        output, _ = server.communicate(timeout=30)
        engine.dispose()
    assert server.returncode == 0, output
    assert "Traceback" not in output
    assert f"Listening at: http://{host}:{port}" in output
