"""The real `servicedesk run` (gunicorn, two workers) serves the customers' side beside
/slack/events: a survey link from a Slack command opens, the intake API logs a
complaint, and Slack's requests still go through their own checks."""

from __future__ import annotations

import os
import subprocess
import sys

from tests.harness import ALICE, COMPLAINTS, GENERAL, SIGNING_SECRET, SignedClient
from tests.running import free_port, wait_until_healthy
from tests.web import API_TOKEN, PUBLIC_URL, SECRET_KEY, Browser, survey_path


def test_the_production_server_serves_the_survey_and_the_api(database_url, slack, tmp_path):
    port = free_port()
    env = {
        **os.environ, "SLACK_BOT_TOKEN": "xoxb-test", "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": slack.api_url, "DATABASE_URL": database_url, "HOST": "127.0.0.1", "PORT": str(port),
        "WEB_CONCURRENCY": "2", "COMPLAINTS_CHANNEL": COMPLAINTS, "PUBLIC_URL": PUBLIC_URL, "SECRET_KEY": SECRET_KEY,
        "COMPANY_NAME": "Acme Bikes", "API_TOKENS": API_TOKEN, "INTAKE_OWNER": ALICE, "SCHEDULER_ENABLED": "false",
    }
    env.pop("SLACK_APP_TOKEN", None)
    server = subprocess.Popen([sys.executable, "-m", "bot.app.cli", "run"], env=env, cwd=tmp_path,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    client = SignedClient(base_url=base, signing_secret=SIGNING_SECRET, response_url=slack.response_url(),
                          user=ALICE, channel=GENERAL)
    try:
        wait_until_healthy(client, server)
        created = Browser(base).post_json("/api/v1/complaints", {"description": "Torn saddle", "source": "web form"})
        assert created.status == 201 and created.json()["reference"] == "C-1"
        resolved = client.command("resolve C-1 sent a new one")
        page = Browser(base).get(survey_path(resolved.text))
        assert page.status == 200 and "Acme Bikes" in page.text
        assert client.post("payload=%7B%7D", signature="v0=forged").status == 401
    finally:
        server.terminate()
        server.wait(timeout=30)
