"""Exit codes for cron (issue 15, point 4): the commands that talk to Slack, run as
subprocesses against the fake Web API while it is fine, answers errors, or is stopped.

0: done (or done before, said so); 1: Slack refused or could not be reached, in one
line on stderr, no traceback; 2: a configuration problem.
"""

from __future__ import annotations

import subprocess

import pytest

from tests import test_cli
from tests.running import free_port

MANAGERS = "CMANAGERS1"


def run_cli(*args: str, env: dict[str, str], cwd) -> subprocess.CompletedProcess:
    # A send loads matplotlib for the chart: on a 2-core machine shared by several test
    # runs that alone has taken 16 s.
    return test_cli.run_cli(*args, env=env, cwd=cwd, timeout=240)


@pytest.fixture
def send_env(database_url, slack):
    return {"DATABASE_URL": database_url, "SLACK_BOT_TOKEN": "xoxb-test", "SLACK_API_URL": slack.api_url,
            "MANAGER_CHANNEL": MANAGERS, "DIGEST_DELIVERY": "channel", "MANAGER_IDS": "", "STAFF_CHANNEL": ""}


def one_line(stderr: str) -> str:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in stderr, stderr
    return lines[0]


def test_send_says_sent_then_already_sent_with_exit_0(send_env, slack, tmp_path):
    sent = run_cli("digest", "--send", env=send_env, cwd=tmp_path)
    assert sent.returncode == 0, sent.stderr
    assert sent.stdout.startswith("servicedesk: the digest for 2026-W") and sent.stdout.strip().endswith(f"was sent to {MANAGERS}")
    again = run_cli("digest", "--send", env=send_env, cwd=tmp_path)
    assert again.returncode == 0 and again.stdout.strip().endswith(f"was already sent to {MANAGERS}")
    assert len(slack.calls_to("chat.postMessage")) == 1


def test_send_refused_by_slack_exits_1_in_one_line_and_the_next_run_retries(send_env, slack, tmp_path):
    slack.fail("chat.postMessage", "channel_not_found")
    refused = run_cli("digest", "--send", env=send_env, cwd=tmp_path)
    assert refused.returncode == 1
    line = one_line(refused.stderr)
    assert f"could not be sent to {MANAGERS}: Slack answered `channel_not_found`; the next run retries" in line
    retried = run_cli("digest", "--send", env=send_env, cwd=tmp_path)
    assert retried.returncode == 0 and retried.stdout.strip().endswith(f"was sent to {MANAGERS}")


def test_send_with_slack_unreachable_exits_1_in_one_line(send_env, tmp_path):
    stopped = {**send_env, "SLACK_API_URL": f"http://127.0.0.1:{free_port()}/api/"}
    result = run_cli("digest", "--send", env=stopped, cwd=tmp_path)
    assert result.returncode == 1
    assert f"could not be sent to {MANAGERS}: the bot could not reach Slack" in one_line(result.stderr)


@pytest.mark.parametrize("change, expected", [
    ({"MANAGER_CHANNEL": "", "MANAGER_IDS": ""}, "the digest has no recipients: set MANAGER_CHANNEL or MANAGER_IDS"),
    ({"SLACK_BOT_TOKEN": ""}, "SLACK_BOT_TOKEN is not set"),
])
def test_send_without_recipients_or_token_is_a_configuration_problem(send_env, slack, tmp_path, change, expected):
    result = run_cli("digest", "--send", env={**send_env, **change}, cwd=tmp_path)
    assert result.returncode == 2 and expected in one_line(result.stderr)
    assert slack.calls_to("chat.postMessage") == []


def test_report_morale_says_when_slack_could_not_be_asked_and_exits_1(send_env, slack, tmp_path):
    slack.fail("conversations.members", "missing_scope")
    result = run_cli("report", "morale", env={**send_env, "STAFF_CHANNEL": "CSTAFF0001"}, cwd=tmp_path)
    assert result.returncode == 1
    assert result.stdout.startswith("Morale, ")  # printed all the same
    assert "I couldn't read the members of <#CSTAFF0001> (Slack answered `missing_scope`)" in result.stderr


def test_preview_writes_the_chart(send_env, tmp_path):
    chart = tmp_path / "digest.png"
    result = run_cli("digest", "--preview", "--week", "2026-W47", "--chart", str(chart), env=send_env, cwd=tmp_path)
    assert result.returncode == 0 and chart.read_bytes().startswith(b"\x89PNG")
    assert result.stdout.startswith("WEEKLY DIGEST · 2026-W47") and f"chart written to {chart}" in result.stderr
    missing = run_cli("digest", "--preview", "--chart", str(tmp_path / "no" / "such.png"), env=send_env, cwd=tmp_path)
    assert missing.returncode == 1 and "the chart could not be written to" in one_line(missing.stderr)
