"""Customers' data in Slack and on a schedule: retention redacts the customer a set time
after resolution and updates the team's message; `servicedesk privacy erase` does the
same on request, Slack included."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta

from sqlmodel import select

from bot import redactions
from models.complaints import Complaint, ComplaintEvent
from models.privacy import PrivacyRecord
from models.service_levels import Notification
from tests.e2e.test_customers import log_for
from tests.harness import BOB, COMPLAINTS, SIGNING_SECRET


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


def test_erase_redacts_the_new_owners_dm_that_gave_the_contact(desk, slack, tmp_path):
    log_for(desk, "Jane Roe was charged twice", owner=BOB)
    bob_dm = "D" + BOB[1:]  # the DM channel Slack answers with, which an update must name
    [(dm_ts, dm)] = [(ts, message) for (channel, ts), message in slack.messages.items() if channel == bob_dm]
    assert "jane.roe@example.com" in dm["text"]
    env = {**cli_env(desk, slack, tmp_path), "SLACK_BOT_TOKEN": "xoxb-test"}
    done = run_cli("privacy", "erase", "--customer", "jane.roe@example.com", "--yes", env=env)
    assert done.returncode == 0, done.stderr
    [update] = [call.args for call in slack.calls_to("chat.update") if call.args["channel"] == bob_dm]
    assert update["ts"] == dm_ts
    assert "Jane" not in update["text"] and "jane.roe" not in update["text"]
    assert update["text"].endswith("Customer: [redacted], [redacted].")
    assert not [message for (channel, _), message in slack.messages.items() if "jane.roe" in json.dumps(message)]


def test_a_dm_slack_would_not_update_is_pending_by_name(desk, slack, tmp_path):
    log_for(desk, "charged twice", owner=BOB)
    env = {**cli_env(desk, slack, tmp_path), "SLACK_BOT_TOKEN": "xoxb-test"}
    slack.fail("chat.update", "cant_update_message", times=2)
    done = run_cli("privacy", "erase", "--customer", "jane.roe@example.com", "--yes", env=env)
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert "(C-1's team message, the new owner's DM about C-1)" in done.stderr
    assert "pending: the new owner's DM about C-1, still to be redacted in Slack" in run_cli("privacy", "log", env=env).stdout


def in_slack(slack) -> str:
    """Everything the team's channel shows now, threads included."""
    return json.dumps([message for (channel, _), message in list(slack.messages.items()) if channel == COMPLAINTS])


def log_with_a_note_naming_her(desk) -> None:
    log_for(desk, "charged twice")
    desk.client.command("note C-1 Jane Roe will call back tomorrow")
    desk.settle()
    assert "Jane Roe" in in_slack(slack=desk.slack)


def test_an_erasure_while_slack_is_down_says_what_is_pending_and_the_bot_redacts_it_later(desk, slack, tmp_path, clock):
    log_with_a_note_naming_her(desk)
    env = {**cli_env(desk, slack, tmp_path), "SLACK_BOT_TOKEN": "xoxb-test"}
    slack.refuse_connections()
    try:
        done = run_cli("privacy", "erase", "--customer", "jane.roe@example.com", "--yes", env=env)
    finally:
        slack.accept_connections()
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert len(done.stderr.splitlines()) == 1, done.stderr
    [line] = done.stderr.splitlines()
    assert line == ("servicedesk: Slack still shows the customer in 2 message(s) (C-1's team message, a reply in "
                    "C-1's thread): the bot could not reach Slack; the redaction is recorded and the running bot "
                    "tries them again until Slack takes them (`servicedesk privacy log` lists what is pending)")
    assert complaints(desk)[0].customer_name == "[redacted]"
    assert "Jane" in in_slack(slack)  # Slack could not be told yet
    log = run_cli("privacy", "log", env=env)
    assert log.returncode == 0
    assert "pending: C-1's team message, still to be redacted in Slack; tried 1 time(s)" in log.stdout
    assert "pending: a reply in C-1's thread, still to be redacted in Slack" in log.stdout
    assert "(the bot could not reach Slack)" in log.stdout

    # The running bot's scheduler, once the wait after the failed try is over.
    clock.now = datetime.now(UTC) + timedelta(minutes=2)
    desk.tick()
    desk.settle()
    assert "Jane" not in in_slack(slack) and "jane.roe" not in in_slack(slack)
    assert "[redacted] will call back tomorrow" in in_slack(slack)
    assert "pending:" not in run_cli("privacy", "log", env=env).stdout
    before = len(slack.calls_to("chat.update"))
    clock.advance(hours=2)
    desk.tick()
    desk.settle()
    assert len(slack.calls_to("chat.update")) == before  # done: not redacted again


def test_retention_while_slack_is_down_redacts_slack_once_it_is_back(make_desk, slack, clock):
    desk = make_desk(customer_data_retention_days=30)
    log_with_a_note_naming_her(desk)
    desk.client.command("resolve C-1 refunded Jane Roe")
    desk.settle()
    clock.advance(days=31)
    slack.refuse_connections()
    try:
        desk.tick()
        desk.settle()
    finally:
        slack.accept_connections()
    assert complaints(desk)[0].customer_name == "[redacted]"
    assert "Jane" in in_slack(slack)
    with desk.open_session() as session:
        waiting = redactions.pending(session)
        [ledger] = session.exec(select(Notification).where(Notification.kind == "retention")).all()
    assert [r.what for r in waiting] == ["C-1's team message", "a reply in C-1's thread", "a reply in C-1's thread"]
    assert "Slack still shows the customer in 3 message(s)" in ledger.error
    desk.tick()  # not due yet: the first retry waits a minute
    desk.settle()
    assert "Jane" in in_slack(slack)
    clock.advance(minutes=1)
    desk.tick()
    desk.settle()
    assert "Jane" not in in_slack(slack)
    with desk.open_session() as session:
        assert redactions.pending(session) == []


def test_a_message_deleted_in_slack_leaves_nothing_to_redact(desk, slack, tmp_path):
    log_with_a_note_naming_her(desk)
    slack.fail("chat.update", "message_not_found", times=2)  # the team message, then the reply
    env = {**cli_env(desk, slack, tmp_path), "SLACK_BOT_TOKEN": "xoxb-test"}
    done = run_cli("privacy", "erase", "--customer", "jane.roe@example.com", "--yes", env=env)
    assert done.returncode == 0, done.stderr
    assert "pending:" not in run_cli("privacy", "log", env=env).stdout
    with desk.open_session() as session:
        [note] = [e.note for e in session.exec(select(ComplaintEvent).where(ComplaintEvent.kind == "noted"))]
    assert note == "[redacted] will call back tomorrow"
