"""Complaints from outside Slack (web forms, e-mail gateways, other tools), through the API.

`read_intake` checks a decoded JSON body and names each field that is wrong;
`log_from_api` logs the complaint exactly as `/complaint` does (bot.complaints), owned
by INTAKE_OWNER or the next of INTAKE_OWNERS in turn, under an Idempotency-Key: the
key is stored with the result in the same transaction (bot.request_dedup), so a retry
gets the first complaint back and never creates a second one.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from sqlmodel import Session, col, select

from bot import complaints
from bot.complaints import MAX_DESCRIPTION, ComplaintDraft
from bot.errors import DuplicateRequest, NotFound
from bot.request_dedup import run_once
from models.complaints import Complaint, ContactChannel, Severity
from models.db import SessionFactory

MAX_SOURCE = 40
MAX_IDEMPOTENCY_KEY = 200
DEFAULT_SOURCE = "api"
TEXT_FIELDS = {"customer_name": 200, "customer_contact": 200}
FIELDS = ("description", "customer_name", "customer_contact", "contact_channel", "category", "severity", "source")
REPORTER_PREFIX = "api:"


@dataclass(frozen=True)
class FieldProblem:
    field: str
    message: str


class IntakeRejected(Exception):
    def __init__(self, problems: Sequence[FieldProblem]) -> None:
        super().__init__("; ".join(f"{p.field}: {p.message}" for p in problems))
        self.problems = list(problems)


class IdempotencyConflict(Exception):
    """The Idempotency-Key was used before for a different body."""


@dataclass(frozen=True)
class Logged:
    complaint: Complaint
    # A retry with the same Idempotency-Key: the complaint logged the first time.
    replayed: bool


def token_id(token: str) -> str:
    """A short fingerprint naming an API token in the database (the token itself is never stored)."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()[:16]


def matching_token(given: str, tokens: Sequence[str]) -> str | None:
    """The configured token equal to `given`, compared in constant time against every one."""
    found = None
    for token in tokens:
        if hmac.compare_digest(given.encode("utf-8", "replace"), token.encode("utf-8")):
            found = token
    return found


def reporter_for(token: str) -> str:
    return REPORTER_PREFIX + token_id(token)


def read_intake(payload: object, *, categories: Sequence[str]) -> ComplaintDraft:
    """The complaint in a decoded JSON body; IntakeRejected naming every field that is wrong."""
    if not isinstance(payload, dict):
        raise IntakeRejected([FieldProblem("body", "send a JSON object, e.g. {\"description\": \"…\"}")])
    problems = [FieldProblem(name, f"unknown field; the fields are {', '.join(FIELDS)}")
                for name in payload if name not in FIELDS]
    for name in FIELDS:
        if name in payload and not isinstance(payload[name], str):
            problems.append(FieldProblem(name, "must be a string"))
    text = {name: payload.get(name, "").strip() if isinstance(payload.get(name, ""), str) else "" for name in FIELDS}
    if not text["description"] and "description" not in {p.field for p in problems}:
        problems.append(FieldProblem("description", "required: what the customer complains about"))
    if len(text["description"]) > MAX_DESCRIPTION:
        problems.append(FieldProblem("description", f"at most {MAX_DESCRIPTION:,} characters"))
    for name, limit in {**TEXT_FIELDS, "source": MAX_SOURCE}.items():
        if len(text[name]) > limit:
            problems.append(FieldProblem(name, f"at most {limit} characters"))
    choices = {"contact_channel": [c.value for c in ContactChannel], "category": list(categories),
               "severity": [s.value for s in Severity]}
    for name, allowed in choices.items():
        if text[name] and text[name].lower() not in allowed:
            problems.append(FieldProblem(name, f"one of {', '.join(allowed)}"))
    if problems:
        raise IntakeRejected(problems)
    return ComplaintDraft(
        description=text["description"],
        severity=Severity(text["severity"].lower() or Severity.NORMAL),
        category=text["category"].lower() or ("other" if "other" in categories else categories[-1]),
        customer_name=text["customer_name"], customer_contact=text["customer_contact"],
        contact_channel=ContactChannel(text["contact_channel"].lower() or ContactChannel.OTHER),
        source=" ".join(text["source"].split()) or DEFAULT_SOURCE,
    )


def check_idempotency_key(key: str) -> str | None:
    """The header's problem, or None: printable ASCII of a sensible length."""
    if len(key) > MAX_IDEMPOTENCY_KEY or not key.isascii() or not key.isprintable():
        return f"Idempotency-Key must be printable ASCII of at most {MAX_IDEMPOTENCY_KEY} characters"
    return None


def next_owner(session: Session, *, owner: str, owners: Sequence[str]) -> str:
    """INTAKE_OWNER, or the one of INTAKE_OWNERS after whoever got the latest complaint from outside.

    Two complaints arriving at the same instant may go to the same person; the turn goes on from there.
    """
    if not owners:
        return owner
    latest = session.exec(
        select(Complaint.owner_id).where(col(Complaint.source) != "").order_by(col(Complaint.id).desc()).limit(1)
    ).first()
    if latest not in owners:
        return owners[0]
    return owners[(list(owners).index(latest) + 1) % len(owners)]


def log_from_api(
    open_session: SessionFactory, *, draft: ComplaintDraft, token: str, idempotency_key: str | None, body_hash: str,
    owner: str, owners: Sequence[str], now: datetime,
) -> Logged:
    """Log the complaint (or, for a key already used with the same body, find the first one).

    IdempotencyConflict when the key was used with another body.
    """
    key = f"api:{token_id(token)}:{idempotency_key}" if idempotency_key else None

    def work(session: Session) -> Complaint:
        owned = replace(draft, owner_id=next_owner(session, owner=owner, owners=owners))
        return complaints.log_complaint(session, draft=owned, reporter_id=reporter_for(token), now=now,
                                        reporter_follows=False)

    try:
        return Logged(run_once(open_session, key=key, now=now, work=work,
                               summary=lambda complaint: f"{complaint.id} {body_hash}"), replayed=False)
    except DuplicateRequest as repeat:
        complaint_id, _, first_hash = repeat.result.partition(" ")
        if first_hash != body_hash:
            raise IdempotencyConflict() from None
        with open_session() as session:
            return Logged(complaints.get_complaint(session, int(complaint_id)), replayed=True)


def complaint_for_token(session: Session, *, complaint_id: int, token: str) -> Complaint:
    """A complaint this token logged; NotFound for any other (another tool's are not its business)."""
    complaint = session.get(Complaint, complaint_id)
    if complaint is None or complaint.reporter_id != reporter_for(token):
        raise NotFound(f"There is no complaint C-{complaint_id} logged with this token.")
    return complaint
