"""Customers' personal data: recognising a customer, exporting and erasing what is held
about them, redaction after the retention period, and the audit trail."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlmodel import select

from bot import complaints as service
from bot import privacy
from bot.app.cli import main
from bot.complaints import ComplaintDraft, Permissions
from bot.errors import InvalidInput
from models.complaints import Complaint, ComplaintEvent
from models.customers import contact_key, customer_key
from models.db import unit_of_work
from models.privacy import PrivacyRecord
from tests.harness import ALICE, BOB, FakeClock


@pytest.mark.parametrize(
    ("contact", "name", "key"),
    [
        (" Jane.Roe@Example.COM ", "Jane Roe", "email:jane.roe@example.com"),
        ("mail: jane.roe@example.com", "", "email:jane.roe@example.com"),
        ("+44 (20) 7946-0000", "", "phone:442079460000"),
        ("", "  JANE   Roe ", "name:jane roe"),
        ("@janeroe", "", "contact:@janeroe"),
        ("", "", ""),
    ],
)
def test_a_customer_is_recognised_by_contact_then_name(contact, name, key):
    assert customer_key(contact=contact, name=name) == key


def test_a_short_number_is_not_a_phone():
    assert contact_key("12-3") == "contact:12-3"


@pytest.fixture
def history(open_session):
    """Jane twice (once by e-mail in another case), Sam once; Jane's first is resolved."""
    clock = FakeClock()
    with unit_of_work(open_session) as session:
        first = service.log_complaint(session, draft=ComplaintDraft(
            "Jane Roe says jane.roe@example.com got no refund", customer_name="Jane Roe",
            customer_contact="jane.roe@example.com"), reporter_id=ALICE, now=clock())
        service.add_note(session, complaint_id=first.id, actor_id=ALICE, note="Called Jane Roe back", now=clock())
        clock.advance(hours=2)
        service.resolve(session, complaint_id=first.id, actor_id=ALICE, resolution="Refunded Jane Roe",
                        permissions=Permissions(), now=clock())
        service.log_complaint(session, draft=ComplaintDraft(
            "late again", customer_name="J. Roe", customer_contact="JANE.ROE@example.com"), reporter_id=BOB, now=clock())
        service.log_complaint(session, draft=ComplaintDraft(
            "wrong size", customer_name="Sam Lee", customer_contact="+1 555 0100 200"), reporter_id=BOB, now=clock())
    return clock


def rows(open_session, model):
    with open_session() as session:
        return list(session.exec(select(model).order_by(model.id)))


def test_export_has_every_complaint_and_note_of_the_customer_and_is_recorded(open_session, history):
    with unit_of_work(open_session) as session:
        data = privacy.export_customer(session, customer="Jane.Roe@example.com", actor="cli:test", now=history())
    assert [c["reference"] for c in data["complaints"]] == ["C-1", "C-2"]
    assert "Called Jane Roe back" in [event["note"] for event in data["complaints"][0]["history"]]
    json.dumps(data)
    [record] = rows(open_session, PrivacyRecord)
    assert (record.action, record.actor, record.complaint_ids) == ("export", "cli:test", "C-1,C-2")
    assert "jane" not in record.customer_fingerprint and record.customer_fingerprint.startswith("sha256:")


def test_erase_redacts_the_customer_everywhere_and_keeps_the_figures(open_session, history):
    with unit_of_work(open_session) as session:
        erasure = privacy.erase_customer(session, customer="jane.roe@example.com", actor="cli:test", now=history())
    assert erasure.references == ["C-1", "C-2"]
    first, second, sam = rows(open_session, Complaint)
    assert (first.customer_name, first.customer_contact, second.customer_name) == ("[redacted]",) * 3
    assert first.description == "[redacted] says [redacted] got no refund"
    assert first.resolution == "Refunded [redacted]"
    assert first.resolved_at is not None and first.status == "resolved"
    notes = [event.note for event in rows(open_session, ComplaintEvent) if event.complaint_id == 1]
    assert "Called [redacted] back" in notes and not any("Jane" in note for note in notes)
    assert (sam.customer_name, sam.description) == ("Sam Lee", "wrong size")
    with open_session() as session:
        assert privacy.customer_complaints(session, customer="jane.roe@example.com") == []
    assert [record.action for record in rows(open_session, PrivacyRecord)] == ["erase"]


def test_retention_redacts_only_complaints_resolved_long_enough_ago_once(open_session, history):
    with unit_of_work(open_session) as session:
        assert privacy.redact_expired(session, now=history() + timedelta(days=29), retention_days=30).complaint_ids == []
    with unit_of_work(open_session) as session:
        assert privacy.redact_expired(session, now=history() + timedelta(days=31), retention_days=30).complaint_ids == [1]
    with unit_of_work(open_session) as session:
        assert privacy.redact_expired(session, now=history() + timedelta(days=32), retention_days=30).complaint_ids == []
    first, second, _ = rows(open_session, Complaint)
    assert first.customer_name == "[redacted]" and "Jane" not in first.description
    assert second.customer_name == "J. Roe"  # still open: kept
    assert [record.action for record in rows(open_session, PrivacyRecord)] == ["retention"]


@pytest.mark.parametrize("customer", ["", "   "])
def test_an_empty_customer_is_refused(open_session, customer):
    with open_session() as session, pytest.raises(InvalidInput):
        privacy.customer_complaints(session, customer=customer)


@pytest.fixture
def environment(monkeypatch, tmp_path, database_url):
    monkeypatch.chdir(tmp_path)
    for name in ("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "SLACK_APP_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DATABASE_URL", database_url)
    return monkeypatch


def test_the_privacy_commands_export_erase_and_log(environment, open_session, history, capsys):
    assert main(["privacy", "export", "--customer", "jane.roe@example.com"]) == 0
    assert [c["reference"] for c in json.loads(capsys.readouterr().out)["complaints"]] == ["C-1", "C-2"]
    assert main(["privacy", "erase", "--customer", "jane.roe@example.com"]) == 1
    assert "C-1, C-2" in capsys.readouterr().err and rows(open_session, Complaint)[0].customer_name == "Jane Roe"
    assert main(["privacy", "erase", "--customer", "jane.roe@example.com", "--yes"]) == 0
    assert "Redacted the customer in C-1, C-2." in capsys.readouterr().out
    assert main(["privacy", "log"]) == 0
    log = capsys.readouterr().out.splitlines()
    assert [line.split()[1] for line in log] == ["erase", "export"] and "jane" not in "".join(log).lower()


def test_privacy_erase_without_a_customer_is_a_usage_error(environment, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["privacy", "erase", "--customer", " "])
    assert exit_info.value.code == 2
