"""Customers' personal data: what is held about one customer, erasing it on request,
and redacting it a set time after a complaint is resolved (CUSTOMER_DATA_RETENTION_DAYS).

Redaction keeps every figure (times, owners, severities, scores, the survey's ratings):
it replaces the customer's name and contact, and every occurrence of them in free text
(description, resolution, the customer's comment, the history's notes), with
`[redacted]`. The comment a customer wrote on their survey (bot/surveys.py) is theirs
alone and is replaced whole; one written after its complaint was redacted for retention
(a link works SURVEY_DAYS, and `/complaint survey` gives a fresh one) goes on the next
run. Every export, erasure and retention run is recorded in `privacy_record`, which
names the customer only by a one-way fingerprint.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlmodel import Session, col, select

from bot import redactions
from bot.complaint_edits import earlier_customer_details
from bot.errors import InvalidInput
from bot.survey_links import address_fingerprint
from models.complaints import CLOSED_STATUSES, Complaint, ComplaintEvent, EventKind
from models.customers import keys_for
from models.privacy import PrivacyAction, PrivacyRecord, SlackMessage
from models.surveys import CallBack, SurveyAnswer, Unsubscribe

REDACTED = "[redacted]"
# Each retention run redacts at most this many complaints, so one run stays short.
RETENTION_BATCH = 500


@dataclass(frozen=True)
class Erasure:
    complaint_ids: list[int]

    @property
    def references(self) -> list[str]:
        return [f"C-{complaint_id}" for complaint_id in self.complaint_ids]


def fingerprint(customer: str) -> str:
    keys = keys_for(customer)
    return "sha256:" + hashlib.sha256((keys[0] if keys else "").encode()).hexdigest()[:32]


def customer_complaints(session: Session, *, customer: str) -> list[Complaint]:
    """Every complaint from the customer with this contact (or, if it is not a contact, name)."""
    keys = keys_for(customer)
    if not keys:
        raise InvalidInput("Say which customer: their e-mail address, phone number or name.")
    statement = select(Complaint).where(col(Complaint.customer_key).in_(keys)).order_by(col(Complaint.id))
    return list(session.exec(statement))


def _iso(moment: datetime | None) -> str | None:
    return moment.astimezone(UTC).isoformat() if moment else None


def export_customer(session: Session, *, customer: str, actor: str, now: datetime) -> dict:
    """Everything held about the customer, as JSON-able data; the export is recorded."""
    complaints = customer_complaints(session, customer=customer)
    ids = [complaint.id for complaint in complaints]
    events = _events(session, ids)
    answers, call_backs = _rows_of(session, SurveyAnswer, ids), _rows_of(session, CallBack, ids)
    addresses = {complaint.customer_contact.strip().lower() for complaint in complaints if complaint.customer_contact}
    data = {
        "customer": customer,
        "exported_at": _iso(now),
        # Their addresses that asked for no more survey e-mails (the list holds fingerprints).
        "unsubscribed_from_surveys": sorted(
            address for address in addresses if session.get(Unsubscribe, address_fingerprint(address)) is not None),
        "complaints": [
            {
                "reference": complaint.reference,
                "status": complaint.status,
                "customer_name": complaint.customer_name,
                "customer_contact": complaint.customer_contact,
                "contact_channel": complaint.contact_channel,
                "category": complaint.category,
                "severity": complaint.severity,
                "description": complaint.description,
                "resolution": complaint.resolution,
                "satisfaction_score": complaint.satisfaction_score,
                "satisfaction_comment": complaint.satisfaction_comment,
                "created_at": _iso(complaint.created_at),
                "resolved_at": _iso(complaint.resolved_at),
                "history": [
                    {"kind": event.kind, "at": _iso(event.at), "by": event.actor_id, "note": event.note}
                    for event in events.get(complaint.id, [])
                ],
                "survey_answer": _answer_data(answers.get(complaint.id)),
                "call_back": _call_back_data(call_backs.get(complaint.id)),
            }
            for complaint in complaints
        ],
    }
    _audit(session, PrivacyAction.EXPORT, actor=actor, customer=customer, complaint_ids=ids, now=now)
    return data


def _answer_data(answer: SurveyAnswer | None) -> dict | None:
    """The customer's own survey answer, as they gave it (last changed at `answered_at`)."""
    if answer is None:
        return None
    return {"score": answer.score, "ratings": dict(answer.ratings), "comment": answer.comment,
            "first_answered_at": _iso(answer.first_answered_at), "answered_at": _iso(answer.answered_at)}


def _call_back_data(call_back: CallBack | None) -> dict | None:
    if call_back is None:
        return None
    return {"requested_at": _iso(call_back.requested_at), "due_at": _iso(call_back.due_at),
            "called_back_by": call_back.called_back_by or None, "called_back_at": _iso(call_back.called_back_at)}


def erase_customer(session: Session, *, customer: str, actor: str, now: datetime) -> Erasure:
    """Redact the customer everywhere; the erasure is recorded (without what was erased)."""
    complaints = customer_complaints(session, customer=customer)
    _redact(session, complaints, also=[customer], now=now)
    ids = [complaint.id for complaint in complaints]
    _record_slack_messages(session, ids, now=now)
    _audit(session, PrivacyAction.ERASE, actor=actor, customer=customer, complaint_ids=ids, now=now)
    return Erasure(ids)


def redact_expired(session: Session, *, now: datetime, retention_days: int, limit: int = RETENTION_BATCH) -> Erasure:
    """Redact customers of complaints resolved more than `retention_days` ago (a batch)."""
    cutoff = now - timedelta(days=retention_days)
    complaints = list(session.exec(
        select(Complaint)
        .where(col(Complaint.status).in_(CLOSED_STATUSES), col(Complaint.resolved_at) < cutoff,
               col(Complaint.customer_redacted_at).is_(None))
        .order_by(col(Complaint.resolved_at), col(Complaint.id))
        .limit(limit)
    ))
    _redact(session, complaints, also=[], now=now)
    ids = sorted({complaint.id for complaint in complaints} | set(_redact_late_comments(session, cutoff, limit)))
    _record_slack_messages(session, ids, now=now)
    if ids:
        _audit(session, PrivacyAction.RETENTION, actor="retention", customer="", complaint_ids=ids, now=now)
    return Erasure(ids)


def _redact_late_comments(session: Session, cutoff: datetime, limit: int) -> list[int]:
    """Survey comments written after their complaint was redacted for retention."""
    answers = list(session.exec(
        select(SurveyAnswer).join(Complaint, col(Complaint.id) == SurveyAnswer.complaint_id)
        .where(col(Complaint.status).in_(CLOSED_STATUSES), col(Complaint.resolved_at) < cutoff,
               col(Complaint.customer_redacted_at).is_not(None), col(SurveyAnswer.comment).not_in(("", REDACTED)))
        .order_by(col(SurveyAnswer.complaint_id)).limit(limit)
    ))
    for answer in answers:
        answer.comment = REDACTED
        session.add(answer)
    session.flush()
    return [answer.complaint_id for answer in answers]


def _record_slack_messages(session: Session, complaint_ids: list[int], *, now: datetime) -> None:
    """What Slack shows of these redacted complaints, to be shown again (bot/redactions.py):
    each team message, each thread reply whose note was redacted, and each new owner's DM
    (it gives the customer's name and contact)."""
    if not complaint_ids:
        return
    messages = [(complaint_id, redactions.TEAM_MESSAGE, SlackMessage.TEAM) for complaint_id in session.exec(
        select(Complaint.id).where(col(Complaint.id).in_(complaint_ids), Complaint.slack_ts != ""))]
    messages += [(complaint_id, event_id, SlackMessage.REPLY) for complaint_id, event_id in session.exec(
        select(ComplaintEvent.complaint_id, ComplaintEvent.id)
        .where(col(ComplaintEvent.complaint_id).in_(complaint_ids), ComplaintEvent.reply_ts != "",
               col(ComplaintEvent.note).contains(REDACTED, autoescape=True)))]
    messages += [(complaint_id, event_id, SlackMessage.OWNER_DM) for complaint_id, event_id in session.exec(
        select(ComplaintEvent.complaint_id, ComplaintEvent.id)
        .where(col(ComplaintEvent.complaint_id).in_(complaint_ids), ComplaintEvent.notice_ts != ""))]
    redactions.record(session, messages=messages, now=now)


def privacy_log(session: Session, *, limit: int = 100) -> list[PrivacyRecord]:
    return list(session.exec(select(PrivacyRecord).order_by(col(PrivacyRecord.id).desc()).limit(limit)))


def _rows_of(session: Session, model, complaint_ids: list[int]) -> dict:
    """The rows of a table keyed by complaint (survey answers, call-backs), by complaint id."""
    if not complaint_ids:
        return {}
    return {row.complaint_id: row for row in session.exec(select(model).where(col(model.complaint_id).in_(complaint_ids)))}


def _events(session: Session, complaint_ids: list[int]) -> dict[int, list[ComplaintEvent]]:
    events: dict[int, list[ComplaintEvent]] = {}
    if complaint_ids:
        statement = (select(ComplaintEvent).where(col(ComplaintEvent.complaint_id).in_(complaint_ids))
                     .order_by(col(ComplaintEvent.id)))
        for event in session.exec(statement):
            events.setdefault(event.complaint_id, []).append(event)
    return events


def _pattern(words: Iterable[str]) -> re.Pattern | None:
    # Longest first, so "Jane Roe" is replaced whole rather than leaving "Roe".
    words = sorted({word.strip() for word in words if len(word.strip()) >= 3}, key=len, reverse=True)
    return re.compile("|".join(re.escape(word) for word in words), re.IGNORECASE) if words else None


def _redact(session: Session, complaints: list[Complaint], *, also: list[str], now: datetime) -> None:
    ids = [complaint.id for complaint in complaints]
    events = _events(session, ids)
    for answer in _rows_of(session, SurveyAnswer, ids).values():
        if answer.comment:
            answer.comment = REDACTED
            session.add(answer)
    for complaint in complaints:
        # Earlier names and contacts live on in the history's edits.
        earlier = [detail for event in events.get(complaint.id, []) if event.kind == EventKind.EDITED.value
                   for detail in earlier_customer_details(event.note)]
        pattern = _pattern([complaint.customer_name, complaint.customer_contact, *also, *earlier])
        if pattern is not None:
            for name in ("description", "resolution", "satisfaction_comment"):
                setattr(complaint, name, pattern.sub(REDACTED, getattr(complaint, name)))
            for event in events.get(complaint.id, []):
                if event.note:
                    event.note = pattern.sub(REDACTED, event.note)
                    session.add(event)
        complaint.customer_name = REDACTED if complaint.customer_name else ""
        complaint.customer_contact = REDACTED if complaint.customer_contact else ""
        complaint.customer_key = ""
        complaint.customer_redacted_at = now
        complaint.updated_at = now
        session.add(complaint)
    session.flush()


def _audit(session: Session, action: PrivacyAction, *, actor: str, customer: str, complaint_ids: list[int],
           now: datetime) -> None:
    session.add(PrivacyRecord(
        at=now, action=action.value, actor=actor[:200], customer_fingerprint=fingerprint(customer) if customer else "",
        complaint_ids=",".join(f"C-{complaint_id}" for complaint_id in complaint_ids),
    ))
    session.flush()
