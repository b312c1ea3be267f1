"""Exports are opened in spreadsheets: text that a spreadsheet would run as a formula
arrives as text (CSV injection), and nothing else changes."""

from __future__ import annotations

import csv
import io

import pytest

from bot import complaints as service
from bot.app.cli import main
from bot.complaints import ComplaintDraft
from bot.export import spreadsheet_safe, write_csv
from models.db import unit_of_work
from tests.harness import ALICE, FakeClock

HOSTILE = ['=HYPERLINK("http://evil.example","click")', "+1+cmd|' /C calc'!A0", "-2+3", "@SUM(1,2)", "\tlead", "\rlead"]


@pytest.mark.parametrize("text", HOSTILE)
def test_a_formula_start_is_neutralised(text):
    assert spreadsheet_safe(text) == "'" + text


@pytest.mark.parametrize("value", ["charged twice", "", "a = b", "C-1", 42, -3.5, None])
def test_everything_else_is_left_alone(value):
    assert spreadsheet_safe(value) == value


def test_write_csv_neutralises_every_cell_and_keeps_numbers():
    out = io.StringIO()
    rows = [{"reference": "C-1", "description": HOSTILE[0], "customer_name": "@bob", "minutes_to_resolution": -1.0}]
    assert write_csv(iter(rows), out) == 1
    row = next(csv.DictReader(io.StringIO(out.getvalue())))
    assert row["description"] == "'" + HOSTILE[0]
    assert row["customer_name"] == "'@bob"
    assert row["minutes_to_resolution"] == "-1.0" and row["reference"] == "C-1"


@pytest.fixture
def environment(monkeypatch, tmp_path):
    for name in ("DATABASE_URL", "SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "SLACK_APP_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    return monkeypatch


def test_the_export_command_writes_hostile_text_as_text(environment, database_url, open_session, capsys):
    with unit_of_work(open_session) as session:
        draft = ComplaintDraft(HOSTILE[0], customer_name="=1+1", customer_contact="+44 20 7946 0000")
        service.log_complaint(session, draft=draft, reporter_id=ALICE, now=FakeClock()())
    environment.setenv("DATABASE_URL", database_url)
    assert main(["export", "complaints"]) == 0
    row = next(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert row["description"] == "'" + HOSTILE[0]
    assert (row["customer_name"], row["customer_contact"]) == ("'=1+1", "'+44 20 7946 0000")
    # JSON is for programs, which read values as they were typed.
    assert main(["export", "complaints", "--format", "json"]) == 0
    assert HOSTILE[0].replace('"', '\\"') in capsys.readouterr().out
