"""Customers' data in Slack and on a schedule: retention redacts the customer a set time
after resolution and updates the team's message; `servicedesk privacy erase` does the
same on request, Slack included."""

from __future__ import annotations

import json
import subprocess
import sys

from sqlmodel import select

from models.complaints import Complaint, ComplaintEvent
from models.privacy import PrivacyRecord
from tests.e2e.test_customers import log_for
from tests.harness import COMPLAINTS, SIGNING_SECRET


def updates_of(slack) -> list[str]:
    return [json.dumps(call.args["blocks"]) for call in slack.calls_to("chat.update")
            if call.args["channel"] == COMPLAINTS and "blocks" in call.args]


def replies_posted(slack) -> dict[str, str]:
    """The replies in the team channel's threads as they read now: ts → text."""
    return {ts: message["text"] for (channel, ts), message in list(slack.messages.items())
            if channel == COMPLAINTS and message.get("thread_ts")}


def replies_updated(slack) -> dict[str, str]:
    """The thread replies updated since: ts → text."""
    return {call.args["ts"]: call.args["text"] for call in slack.calls_to("chat.update")
            if call.args["channel"] == COMPLAINTS and "blocks" not in call.args}


def complaints(desk) -> list[Complaint]:
    with desk.open_session() as session:
        return list(session.exec(select(Complaint).order_by(Complaint.id)))


def test_retention_redacts_resolved_complaints_once_and_updates_slack(make_desk, slack, clock):
    desk = make_desk(customer_data_retention_days=30)
    log_for(desk, "Jane Roe was charged twice")
    log_for(desk, "still open", name="Sam Lee", contact="sam@example.com")
    desk.client.command("resolve C-1 refunded Jane Roe")
    desk.settle()
    clock.advance(days=29)
    desk.tick()
    desk.settle()
    assert complaints(desk)[0].customer_name == "Jane Roe"
    clock.advance(days=2)
    before = len(updates_of(slack))
    desk.tick()
    desk.settle()
    first, second = complaints(desk)
    assert (first.customer_name, first.customer_contact) == ("[redacted]", "[redacted]")
    assert first.description == "[redacted] was charged twice" and first.resolution == "refunded [redacted]"
    assert second.customer_name == "Sam Lee"
    [update] = updates_of(slack)[before:]
    assert "Jane" not in update and "[redacted]" in update
    desk.tick()  # the same hour: claimed already, nothing more
    desk.settle()
    assert len(updates_of(slack)) == before + 1
    with desk.open_session() as session:
        assert [r.action for r in session.exec(select(PrivacyRecord))] == ["retention"]


def test_retention_redacts_the_replies_in_the_team_messages_thread(make_desk, slack, clock):
    desk = make_desk(customer_data_retention_days=30)
    log_for(desk, "charged twice")
    desk.client.command("note C-1 called Jane Roe back on jane.roe@example.com")
    desk.client.command("note C-1 asked for the order number")
    desk.settle()
    desk.client.command("resolve C-1 refunded Jane Roe")
    desk.settle()
    posted = replies_posted(slack)
    assert len(posted) == 3 and any("Jane Roe" in text for text in posted.values())
    clock.advance(days=31)
    desk.tick()
    desk.settle()
    updated = replies_updated(slack)
    # The two replies that named her, each where it was posted; the other is left alone.
    assert sorted(updated) == sorted(ts for ts, text in posted.items() if "Jane" in text)
    assert all("Jane" not in text and "jane.roe" not in text and "[redacted]" in text for text in updated.values())
    assert updated[next(ts for ts, text in posted.items() if "refunded" in text)] == (
        "✅ *Alice* resolved it: refunded [redacted]")


def test_retention_is_off_by_default(desk, slack, clock):
    log_for(desk, "charged twice")
    desk.client.command("resolve C-1 refunded")
    clock.advance(days=3650)
    desk.tick()
    desk.settle()
    assert complaints(desk)[0].customer_name == "Jane Roe"


def run_cli(*args, env):
    return subprocess.run([sys.executable, "-m", "bot.app.cli", *args], capture_output=True, text=True, timeout=60, env=env)


def cli_env(desk, slack, tmp_path) -> dict[str, str]:
    """The CLI's environment for this desk's database and Slack, without a bot token."""
    return {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "DATABASE_URL": desk.settings.database_url,
            "SLACK_API_URL": slack.api_url, "SLACK_SIGNING_SECRET": SIGNING_SECRET, "COMPLAINTS_CHANNEL": COMPLAINTS}


def test_erase_updates_the_team_messages_in_slack(desk, slack, tmp_path):
    log_for(desk, "Jane Roe was charged twice")
    env = cli_env(desk, slack, tmp_path)
    refused = run_cli("privacy", "erase", "--customer", "jane.roe@example.com", "--yes", env=env)
    assert refused.returncode == 2 and "set SLACK_BOT_TOKEN" in refused.stderr and "Nothing was erased" in refused.stderr
    assert complaints(desk)[0].customer_name == "Jane Roe"
    done = run_cli("privacy", "erase", "--customer", "jane.roe@example.com", "--yes",
                   env={**env, "SLACK_BOT_TOKEN": "xoxb-test"})
    assert done.returncode == 0, done.stderr
    assert "Redacted the customer in C-1." in done.stdout and "Traceback" not in done.stderr
    [update] = updates_of(slack)
    assert "Jane" not in update and "[redacted]" in update
    assert complaints(desk)[0].description == "[redacted] was charged twice"


def test_erase_redacts_the_replies_in_the_team_messages_thread(desk, slack, tmp_path):
    log_for(desk, "charged twice")
    desk.client.command("note C-1 Jane Roe will call back tomorrow")
    desk.settle()
    [(reply_ts, text)] = replies_posted(slack).items()
    assert "Jane Roe" in text
    env = {**cli_env(desk, slack, tmp_path), "SLACK_BOT_TOKEN": "xoxb-test"}
    done = run_cli("privacy", "erase", "--customer", "jane.roe@example.com", "--yes", env=env)
    assert done.returncode == 0, done.stderr
    assert replies_updated(slack) == {reply_ts: "📝 *Alice* added a note: [redacted] will call back tomorrow"}


def test_an_erasure_that_cannot_reach_a_reply_says_so(desk, slack, tmp_path):
    log_for(desk, "charged twice")
    desk.client.command("note C-1 Jane Roe will call back tomorrow")
    desk.settle()
    slack.fail("chat.update", "message_not_found", times=2)  # the team message, then the reply
    env = {**cli_env(desk, slack, tmp_path), "SLACK_BOT_TOKEN": "xoxb-test"}
    done = run_cli("privacy", "erase", "--customer", "jane.roe@example.com", "--yes", env=env)
    assert done.returncode == 1
    assert "C-1: I couldn't update the team's message" in done.stderr
    assert "C-1: I couldn't redact a reply in its thread: Slack answered `message_not_found`" in done.stderr
    assert "Traceback" not in done.stderr
    with desk.open_session() as session:
        [note] = [e.note for e in session.exec(select(ComplaintEvent).where(ComplaintEvent.kind == "noted"))]
    assert note == "[redacted] will call back tomorrow"
