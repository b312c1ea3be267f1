"""The `servicedesk` command line: settings errors, migrations, export, reports, and `run`."""

from __future__ import annotations

import csv
import io
import json
import os
import signal
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import inspect

from bot import complaints as service
from bot import kudos
from bot.app.cli import main
from bot.clock import system_clock
from bot.complaints import ComplaintDraft, Permissions
from bot.kudos import KudosDraft, KudosRules
from models.complaints import Severity
from models.db import make_engine, session_factory, unit_of_work
from models.kudos import KudosSource
from tests.harness import ALICE, BOB, BOT_USER, CAROL, SIGNING_SECRET, FakeClock, SignedClient
from tests.running import free_port, wait_until_healthy


@pytest.fixture
def environment(monkeypatch, tmp_path):
    """A clean working directory (no .env) and no servicedesk settings inherited."""
    monkeypatch.chdir(tmp_path)
    for name in list(os.environ):
        if name.startswith(("SLACK_", "DATABASE_URL", "PORT", "TZ", "COMPLAINT", "MANAGER_", "ADMIN_", "WEB_CONCURRENCY", "KUDOS_", "STAFF_")):
            monkeypatch.delenv(name)
    return monkeypatch


def run_cli(*args: str, env: dict[str, str] | None = None, cwd=None, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "bot.app.cli", *args], capture_output=True, text=True, timeout=timeout,
        env={**os.environ, **(env or {})}, cwd=cwd,
    )


@pytest.mark.parametrize(
    "variable, value, message",
    [
        ("PORT", "eighty", "PORT is invalid"),
        ("TZ", "Mars/Olympus", "TZ is invalid: unknown time zone"),
        ("SLACK_API_URL", "slack.com/api", "SLACK_API_URL is invalid"),
        ("COMPLAINT_CATEGORIES", " , ", "COMPLAINT_CATEGORIES is invalid"),
    ],
)
def test_invalid_settings_give_one_line_and_exit_code_2(tmp_path, variable, value, message):
    result = run_cli("db", "upgrade", env={variable: value, "DATABASE_URL": f"sqlite:///{tmp_path}/x.db"}, cwd=tmp_path)
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_run_without_a_token_names_the_missing_variable(environment, capsys):
    assert main(["run"]) == 2
    assert "SLACK_BOT_TOKEN is not set" in capsys.readouterr().err


def test_settings_come_from_a_dot_env_file(environment, tmp_path, capsys):
    (tmp_path / ".env").write_text("DATABASE_URL=sqlite:///from-dotenv.db\n")
    assert main(["db", "upgrade"]) == 0
    assert "from-dotenv.db" in capsys.readouterr().out
    tables = inspect(make_engine(f"sqlite:///{tmp_path}/from-dotenv.db")).get_table_names()
    assert {"complaint", "complaint_event", "alembic_version"} <= set(tables)


@pytest.fixture
def three_complaints(open_session):
    clock = FakeClock()
    permissions = Permissions()
    with unit_of_work(open_session) as session:
        first = service.log_complaint(session, draft=ComplaintDraft("charged twice", Severity.HIGH, "billing"), reporter_id=ALICE, now=clock())
        clock.advance(days=2)
        second = service.log_complaint(session, draft=ComplaintDraft('quote "marks", commas\nand lines', owner_id=BOB), reporter_id=ALICE, now=clock())
        clock.advance(minutes=30)
        service.record_response(session, complaint_id=second.id, actor_id=BOB, note="", now=clock())
        clock.advance(hours=1)
        service.resolve(session, complaint_id=second.id, actor_id=BOB, resolution="fixed", permissions=permissions, now=clock())
        clock.advance(days=1)
        service.log_complaint(session, draft=ComplaintDraft("late van"), reporter_id=BOB, now=clock())
    return first.created_at


def test_export_csv_has_every_complaint_with_times_owner_and_status(environment, database_url, three_complaints, capsys):
    environment.setenv("DATABASE_URL", database_url)
    assert main(["export", "complaints"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert [row["reference"] for row in rows] == ["C-1", "C-2", "C-3"]
    second = rows[1]
    assert (second["status"], second["owner_id"], second["description"]) == ("resolved", BOB, 'quote "marks", commas\nand lines')
    assert (second["minutes_to_first_response"], second["minutes_to_resolution"]) == ("30.0", "90.0")
    assert rows[0]["resolved_at"] == "" and rows[0]["created_at"].startswith("2026-11-23T09:00:00")


def test_export_json_since_a_date(environment, database_url, three_complaints, capsys):
    environment.setenv("DATABASE_URL", database_url)
    since = (three_complaints + timedelta(days=2)).date().isoformat()
    assert main(["export", "complaints", "--since", since, "--format", "json"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [row["reference"] for row in rows] == ["C-2", "C-3"]
    assert rows[0]["minutes_to_resolution"] == 90.0 and rows[1]["resolved_at"] is None


def test_export_rejects_a_bad_date(environment, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["export", "complaints", "--since", "last tuesday"])
    assert exit_info.value.code == 2
    assert "is not a date like 2026-11-01" in capsys.readouterr().err


def give_kudos(open_session, giver: str, recipient: str) -> None:
    kudos.give(
        open_session, giver_id=giver, draft=KudosDraft((recipient,), "fixed the refund in minutes", "speed"),
        source=KudosSource.COMMAND, dedup_key=f"cli-test:{giver}", now=system_clock(),
        rules=KudosRules(values=("speed",), daily_limit=5, zone=ZoneInfo("UTC")),
    )


def test_report_morale_json_names_people_and_counts_staff_channel_members(environment, database_url, open_session, slack, capsys):
    give_kudos(open_session, ALICE, BOB)
    slack.members["CSTAFF0001"] = [CAROL, BOT_USER]
    for name, value in {"DATABASE_URL": database_url, "SLACK_BOT_TOKEN": "xoxb-test", "SLACK_API_URL": slack.api_url,
                        "STAFF_CHANNEL": "CSTAFF0001"}.items():
        environment.setenv(name, value)
    assert main(["report", "morale", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["this_week"] == {"recognitions": 1, "givers": 1, "receivers": 1}
    assert (report["active_staff"], report["recognised_staff"]) == (2, 0)
    assert report["unrecognised"] == [{"id": ALICE, "name": "Alice"}, {"id": CAROL, "name": "Carol"}]
    assert report["top_values"] == [{"value": "speed", "count": 1}]


def test_report_morale_text_without_slack(environment, database_url, open_session, capsys):
    give_kudos(open_session, ALICE, BOB)
    environment.setenv("DATABASE_URL", database_url)
    environment.setenv("STAFF_CHANNEL", "CSTAFF0001")
    assert main(["report", "morale"]) == 0
    out = capsys.readouterr()
    assert "Kudos this week: 1 (the week before: 0)" in out.out
    assert f"Active but not recognised (1): {ALICE}" in out.out
    assert "STAFF_CHANNEL's members are left out" in out.err


def test_run_serves_http_through_gunicorn_and_shuts_down_gracefully(database_url, slack, tmp_path):
    port = free_port()
    env = {
        **os.environ, "SLACK_BOT_TOKEN": "xoxb-test", "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": slack.api_url, "DATABASE_URL": database_url, "PORT": str(port),
        "WEB_CONCURRENCY": "2", "COMPLAINTS_CHANNEL": "CCOMPLAIN1",
        "SQI_TIME": "",  # the daily index posts on the real clock; these tests count posts
    }
    env.pop("SLACK_APP_TOKEN", None)
    server = subprocess.Popen([sys.executable, "-m", "bot.app.cli", "run"], env=env, cwd=tmp_path,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    # Slack always says who typed a command; a request without user_id is refused.
    client = SignedClient(f"http://127.0.0.1:{port}", SIGNING_SECRET, slack.response_url(), user=ALICE)
    burst = 12  # more than the publisher threads of both workers, so some posts wait in a queue
    try:
        wait_until_healthy(client, server)
        slack.latency = 0.3  # Slack is slow to answer, so posts are still queued at SIGTERM
        with ThreadPoolExecutor(max_workers=burst) as pool:
            replies = list(pool.map(lambda n: client.command(f"#billing charged twice, order {n}"), range(burst)))
        assert all(reply.status == 200 and reply.text.startswith("Logged *C-") for reply in replies)
    finally:
        server.send_signal(signal.SIGTERM)
        output, _ = server.communicate(timeout=30)
    assert server.returncode == 0, output
    assert "gthread" in output and "Shutting down" in output
    # Every acknowledged complaint's team message went out before the workers exited.
    assert len(slack.calls_to("chat.postMessage")) == burst
    with unit_of_work(session_factory(make_engine(database_url))) as session:
        complaints, total = service.list_complaints(session, owner_id=None, limit=burst)
        assert total == burst and all(complaint.slack_ts for complaint in complaints)


def test_run_uses_socket_mode_when_an_app_token_is_set(slack, tmp_path):
    env = {
        **os.environ, "SLACK_BOT_TOKEN": "xoxb-test", "SLACK_APP_TOKEN": "xapp-1-test",
        "SLACK_API_URL": slack.api_url, "DATABASE_URL": f"sqlite:///{tmp_path}/socket.db",
    }
    env.pop("SLACK_SIGNING_SECRET", None)
    server = subprocess.Popen([sys.executable, "-m", "bot.app.cli", "run"], env=env, cwd=tmp_path,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        [opened] = slack.wait_for("apps.connections.open", timeout=30)[:1]
        assert opened.token == "xapp-1-test"
    finally:
        server.send_signal(signal.SIGTERM)
        output, _ = server.communicate(timeout=30)
    assert server.returncode == 0, output
