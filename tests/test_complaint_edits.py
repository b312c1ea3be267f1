"""Edits in the domain: what the history keeps, and that erasing a customer finds the
names and contacts they had before an edit."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlmodel import select

from bot import complaints, privacy
from bot.complaint_edits import Edit, edit_complaint
from bot.complaints import ComplaintDraft
from bot.permissions import Permissions
from models.complaints import ComplaintEvent
from models.db import unit_of_work

OWNER = "UALICE0001"
T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def test_erasing_a_customer_also_redacts_the_name_and_contact_they_had_before_an_edit(open_session):
    with unit_of_work(open_session) as session:
        draft = ComplaintDraft(description="Jane Roe was charged twice", customer_name="Jane Roe",
                               customer_contact="jane.roe@example.com")
        complaint_id = complaints.log_complaint(session, draft=draft, reporter_id=OWNER, now=T0).id
        edit_complaint(session, complaint_id=complaint_id, actor_id=OWNER, now=T0, permissions=Permissions(),
                       edit=Edit(customer_name="Jane Doe", customer_contact="jane.doe@example.com"))
    with open_session() as session:
        [edited] = session.exec(select(ComplaintEvent.note).where(ComplaintEvent.kind == "edited")).all()
    assert edited == ("customer: “Jane Roe” → “Jane Doe”; "
                      "contact: “jane.roe@example.com” → “jane.doe@example.com”")

    with unit_of_work(open_session) as session:
        assert privacy.erase_customer(session, customer="jane.doe@example.com", actor="cli:test", now=T0).complaint_ids
    with open_session() as session:
        notes = " ".join(session.exec(select(ComplaintEvent.note)).all())
        saved = complaints.get_complaint(session, complaint_id)
    assert "Jane" not in notes and "example.com" not in notes
    assert "Jane" not in saved.description
