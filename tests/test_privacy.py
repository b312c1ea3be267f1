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
from bot.survey_links import address_fingerprint
from bot.surveys import AnswerDraft, save_answer
from models.complaints import Complaint, ComplaintEvent
from models.customers import contact_key, customer_key
from models.db import unit_of_work
from models.privacy import PrivacyRecord
from models.surveys import SurveyAnswer, Unsubscribe
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


def answer_survey(open_session, complaint_id: int, comment: str, *, now, score: int = 4) -> None:
    draft = AnswerDraft(score, {"speed": 2, "care": 5}, comment)
    save_answer(open_session, complaint_id=complaint_id, draft=draft, now=now, call_back_within=timedelta(hours=48))


def survey_answer(open_session, complaint_id: int) -> SurveyAnswer:
    with open_session() as session:
        return session.get(SurveyAnswer, complaint_id)


def test_the_customers_survey_answer_call_back_and_unsubscribe_are_in_their_export(open_session, history):
    answer_survey(open_session, 1, "Jane here: nobody called me on 0123 456", now=history())
    with unit_of_work(open_session) as session:
        session.add(Unsubscribe(address_fingerprint=address_fingerprint("jane.roe@example.com"), at=history()))
    with unit_of_work(open_session) as session:
        data = privacy.export_customer(session, customer="jane.roe@example.com", actor="cli:test", now=history())
    first, second = data["complaints"]
    assert first["survey_answer"] == {
        "score": 4, "ratings": {"speed": 2, "care": 5}, "comment": "Jane here: nobody called me on 0123 456",
        "first_answered_at": first["survey_answer"]["answered_at"], "answered_at": history().isoformat()}
    assert first["call_back"]["requested_at"] == history().isoformat() and first["call_back"]["called_back_at"] is None
    assert second["survey_answer"] is None and second["call_back"] is None
    assert data["unsubscribed_from_surveys"] == ["jane.roe@example.com"]
    json.dumps(data)


def test_erase_replaces_the_customers_survey_comment_whole_and_keeps_their_scores(open_session, history):
    answer_survey(open_session, 1, "Jane here: nobody called me on 0123 456", now=history())
    answer_survey(open_session, 3, "Sam: fine", now=history(), score=9)
    with unit_of_work(open_session) as session:
        privacy.erase_customer(session, customer="jane.roe@example.com", actor="cli:test", now=history())
    janes = survey_answer(open_session, 1)
    assert (janes.comment, janes.score, janes.ratings) == ("[redacted]", 4, {"speed": 2, "care": 5})
    assert survey_answer(open_session, 3).comment == "Sam: fine"
    with unit_of_work(open_session) as session:
        exported = privacy.export_customer(session, customer="+1 555 0100 200", actor="cli:test", now=history())
    assert exported["complaints"][0]["survey_answer"]["comment"] == "Sam: fine"


def test_retention_redacts_survey_comments_with_their_complaint_and_those_written_after(open_session, history):
    answer_survey(open_session, 1, "Jane here, still no refund", now=history())
    with unit_of_work(open_session) as session:
        assert privacy.redact_expired(session, now=history() + timedelta(days=29), retention_days=30).complaint_ids == []
    assert survey_answer(open_session, 1).comment == "Jane here, still no refund"
    with unit_of_work(open_session) as session:
        assert privacy.redact_expired(session, now=history() + timedelta(days=31), retention_days=30).complaint_ids == [1]
    assert survey_answer(open_session, 1).comment == "[redacted]"
    # A fresh link (`/complaint survey C-1`) let her change her answer after the redaction.
    answer_survey(open_session, 1, "Jane again: it came", now=history() + timedelta(days=31, hours=1), score=8)
    with unit_of_work(open_session) as session:
        assert privacy.redact_expired(session, now=history() + timedelta(days=32), retention_days=30).complaint_ids == [1]
    assert (survey_answer(open_session, 1).comment, survey_answer(open_session, 1).score) == ("[redacted]", 8)
    with unit_of_work(open_session) as session:
        assert privacy.redact_expired(session, now=history() + timedelta(days=33), retention_days=30).complaint_ids == []
    assert [record.action for record in rows(open_session, PrivacyRecord)] == ["retention", "retention"]


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
