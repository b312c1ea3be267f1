"""LOG_FORMAT=json: one JSON object per line, and every line of one request carries its id,
whichever thread wrote it (the HTTP thread, a listener, the publisher)."""

from __future__ import annotations

import json
import logging

import pytest

from bot.app.logs import RequestIdFilter, json_formatter
from tests.harness import COMPLAINTS

pytestmark = pytest.mark.e2e
# The loopback server's threads, one per HTTP request (socketserver.ThreadingMixIn).
HTTP_THREAD = "process_request_thread"


class JsonLines(logging.Handler):
    """The JSON lines the bot writes, with the thread that wrote each one."""

    def __init__(self) -> None:
        super().__init__(level=logging.INFO)
        self.setFormatter(json_formatter())
        self.addFilter(RequestIdFilter())
        self.lines: list[tuple[str, dict]] = []

    def emit(self, record: logging.LogRecord) -> None:
        line = self.format(record)
        assert "\n" not in line
        self.lines.append((record.threadName, json.loads(line)))


@pytest.fixture
def json_lines():
    handler, root = JsonLines(), logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    yield handler
    root.removeHandler(handler)
    root.setLevel(level)


def lines_of(json_lines: JsonLines, request_id: str) -> list[tuple[str, dict]]:
    return [(thread, line) for thread, line in json_lines.lines if line.get("request_id") == request_id]


def test_every_line_of_a_request_carries_its_id_across_threads(desk, slack, json_lines):
    slack.fail("chat.postMessage", "channel_not_found")
    logged = desk.client.command("#billing charged twice")
    desk.settle()
    desk.client.command("", command="/kudos")
    desk.settle()
    view = {**desk.opened_view(), "private_metadata": "{not json"}
    failed = desk.client.submit_view(view, {"kudos_reason": "stayed late to fix the refund"})
    desk.settle()
    refused = desk.client.post("payload=%7B%7D", signature="v0=forged")

    ids = [reply.headers["X-Request-Id"] for reply in (logged, failed, refused)]
    assert len(set(ids)) == 3 and all(len(request_id) == 32 for request_id in ids)
    for _, line in json_lines.lines:
        assert {"time", "level", "logger", "message", "pid"} <= set(line), line

    [(thread, post_failed)] = lines_of(json_lines, ids[0])
    assert post_failed["message"].startswith(f"posting C-1 to {COMPLAINTS} failed")
    assert (post_failed["level"], post_failed["logger"]) == ("WARNING", "handlers.team_copy")
    assert HTTP_THREAD not in thread  # written by the publisher, after the acknowledgement

    [(thread, listener_failed)] = lines_of(json_lines, ids[1])
    assert listener_failed["message"].startswith("could not handle a view_submission")
    assert listener_failed["exception"].startswith("Traceback (most recent call last):")
    # The listener failed on a listener thread before acking; the failure travels back to
    # the request's thread, where Bolt's error handler makes the answer (process_before_response).
    assert HTTP_THREAD in thread

    [(thread, refusal)] = lines_of(json_lines, ids[2])
    assert HTTP_THREAD in thread  # refused before Bolt, by the WSGI app
    assert refusal["message"] == "refused POST '/slack/events': the signature does not match"

    # The bot's own lines outside any request have no id, and none of another request's.
    assert all(line.get("request_id") in (*ids, None) for _, line in json_lines.lines)
