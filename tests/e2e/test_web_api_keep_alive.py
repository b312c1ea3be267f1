"""The bot keeps its connections to Slack open (bot/web_api_client.py): many Web API
calls and answers through response_url, a few connections; and a Slack that stops
accepting is still seen as down."""

from __future__ import annotations

from sqlmodel import select

from models.complaints import Complaint
from tests.harness import COMPLAINTS


def test_many_calls_go_over_a_few_kept_alive_connections(desk, slack):
    accepted_before, calls_before = slack.connections_accepted, len(slack.calls)
    for n in range(6):
        desk.client.command(f"#billing charged twice, order {n}")
        desk.settle()
    posts = [call for call in slack.calls if call.method == "chat.postMessage" and call.args["channel"] == COMPLAINTS]
    assert len(posts) == 6
    calls = slack.calls[calls_before:]
    answers = [call for call in calls if call.method == "response_url"]  # each confirmation replaced (`respond`)
    assert len(answers) == 6
    # One post at a time here, so a connection or two serve every call, the answers too.
    assert slack.connections_accepted - accepted_before <= 2 < len(calls)


def test_a_refused_connection_is_a_failure_not_a_stale_answer(desk, slack):
    desk.client.command("#billing first")
    desk.settle()
    slack.refuse_connections()  # the kept-alive connection too
    try:
        desk.client.command("#billing second")
        desk.settle()
    finally:
        slack.accept_connections()
    desk.client.command("#billing third")
    desk.settle()
    with desk.open_session() as session:
        rows = {c.id: (bool(c.slack_ts), c.copy_refusals) for c in session.exec(select(Complaint))}
    # The second was surely not posted (no connection was made), so its retry need not look first.
    assert rows == {1: (True, 0), 2: (False, 1), 3: (True, 0)}
