"""`servicedesk digest --preview/--send` and the export's SLA and satisfaction columns."""

from __future__ import annotations

import csv
import io
import json

import pytest

from bot.app.cli import main
from models.db import make_engine, session_factory
from tests.digest_data import EXPECTED_W47, load_known_history
from tests.test_cli import environment  # noqa: F401 — the clean-environment fixture


@pytest.fixture
def known_history(database_url):
    engine = make_engine(database_url)
    load_known_history(session_factory(engine))
    engine.dispose()
    return database_url


def test_preview_json_carries_every_figure(environment, known_history, capsys):
    environment.setenv("DATABASE_URL", known_history)
    assert main(["digest", "--preview", "--week", "2026-W47", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert (data["logged"]["value"], data["logged"]["previous"]) == EXPECTED_W47["logged"]
    assert data["breaches"] == EXPECTED_W47["breaches"]
    assert data["first_response"]["median_seconds"] == pytest.approx(7200, abs=0.5)
    assert data["nps"]["score"] == 25.0 and len(data["trend"]) == 8
    morale, gaps = data["sections"]
    assert morale["key"] == "morale" and morale["figures"]["week_start"] == "2026-11-16"
    assert gaps == {"key": "knowledge_gaps", "title": "Knowledge gaps, last 30 days", "figures": {"gaps": []},
                    "lines": ["None: every question got a confident, helpful answer. 🎉"]}


def test_preview_text_reads_like_the_slack_message(environment, known_history, capsys):
    environment.setenv("DATABASE_URL", known_history)
    assert main(["digest", "--preview", "--week", "2026w47"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("WEEKLY DIGEST · 2026-W47")
    assert "*SLA breaches* 3 first response · 1 resolution" in out


def test_a_bad_week_or_no_mode_is_a_usage_error(environment, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["digest", "--preview", "--week", "2026-W99"])
    assert exit_info.value.code == 2 and "not an ISO week" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["digest"])


def test_send_posts_the_due_digest_once(environment, known_history, slack):
    for name, value in {"DATABASE_URL": known_history, "SLACK_BOT_TOKEN": "xoxb-test", "SLACK_API_URL": slack.api_url,
                        "MANAGER_CHANNEL": "CMANAGERS1", "DIGEST_DELIVERY": "channel"}.items():
        environment.setenv(name, value)
    assert main(["digest", "--send"]) == 0
    assert main(["digest", "--send"]) == 0
    [posted] = slack.calls_to("chat.postMessage")
    assert posted.args["channel"] == "CMANAGERS1" and posted.args["text"].startswith("Weekly digest")


def test_export_has_sla_and_satisfaction_columns(environment, known_history, capsys):
    environment.setenv("DATABASE_URL", known_history)
    assert main(["export", "complaints"]) == 0
    rows = {row["reference"]: row for row in csv.DictReader(io.StringIO(capsys.readouterr().out))}
    assert rows["C-2"]["first_response_sla"] == "breached" and rows["C-2"]["resolution_sla"] == "met"
    assert rows["C-2"]["satisfaction_score"] == "6" and rows["C-2"]["first_response_due_at"] == "2026-11-17T13:00:00+00:00"
    assert rows["C-8"]["satisfaction_score"] == "" and rows["C-8"]["followed_up_at"] == ""
