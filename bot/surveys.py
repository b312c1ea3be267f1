"""The customer's own answers to a complaint's survey, and the call-backs they ask for.

Plain Python over a session. The page (bot/app/web/) reads a form into an
`AnswerDraft` with `read_answer`, which names what is wrong field by field, and saves
it with `save_answer`: a customer may change their answer until the link expires, and
a detractor (0-6) is put on the call-back list once, due CALLBACK_HOURS later.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from bot.errors import InvalidInput, NotFound
from models.complaints import Complaint
from models.db import SessionFactory, unit_of_work
from models.surveys import CallBack, SurveyAnswer

MAX_COMMENT = 2_000
DETRACTOR_MAX = 6
RATINGS = range(1, 6)
SCORES = range(0, 11)


@dataclass(frozen=True)
class AnswerDraft:
    score: int
    ratings: dict[str, int]
    comment: str


@dataclass(frozen=True)
class FormProblems:
    """What the customer typed (to show it again) and a message per field that is wrong."""

    typed: dict[str, str]
    problems: dict[str, str] = field(default_factory=dict)


def value_field(index: int) -> str:
    """The form field of the `index`th value (from 1): values are labels with spaces."""
    return f"value-{index}"


def read_answer(form: Mapping[str, str], *, values: Sequence[str]) -> AnswerDraft | FormProblems:
    """The answer in a submitted form, or what is wrong with it field by field."""
    typed = {name: str(form.get(name, "")) for name in ("score", "comment", *map(value_field, range(1, len(values) + 1)))}
    problems: dict[str, str] = {}
    score = _number(typed["score"], SCORES)
    if score is None:
        problems["score"] = "Choose a number from 0 to 10."
    ratings = {}
    for index, value in enumerate(values, start=1):
        given = typed[value_field(index)]
        if not given:
            continue  # a value the customer would rather not rate
        rating = _number(given, RATINGS)
        if rating is None:
            problems[value_field(index)] = f"Rate {value} from 1 to 5, or leave it unrated."
        else:
            ratings[value] = rating
    comment = typed["comment"].strip()
    if len(comment) > MAX_COMMENT:
        problems["comment"] = f"Your comment is {len(comment):,} characters long; please keep it under {MAX_COMMENT:,}."
    if problems:
        return FormProblems(typed, problems)
    return AnswerDraft(score, ratings, comment)


def _number(text: str, allowed: range) -> int | None:
    text = text.strip()
    if not (text.isascii() and text.isdigit()) or int(text) not in allowed:
        return None
    return int(text)


@dataclass(frozen=True)
class SurveySubject:
    """What the page may show about the complaint: never its description, notes or contact."""

    complaint_id: int
    owner_id: str
    logged_at: datetime
    answer: SurveyAnswer | None


def survey_subject(session: Session, *, complaint_id: int) -> SurveySubject:
    complaint = session.get(Complaint, complaint_id)
    if complaint is None:
        raise NotFound(f"There is no complaint C-{complaint_id}.")
    return SurveySubject(complaint.id, complaint.owner_id, complaint.created_at, session.get(SurveyAnswer, complaint_id))


@dataclass(frozen=True)
class Saved:
    answer: SurveyAnswer
    call_back_requested: bool


def save_answer(open_session: SessionFactory, *, complaint_id: int, draft: AnswerDraft, now: datetime,
                call_back_within: timedelta) -> Saved:
    """Store (or change) the customer's answer; a detractor goes on the call-back list once.

    Two submissions at once both try to insert the first answer; the loser tries again
    and changes the answer the winner stored.
    """
    try:
        return _save(open_session, complaint_id, draft, now, call_back_within)
    except IntegrityError:
        return _save(open_session, complaint_id, draft, now, call_back_within)


def _save(open_session: SessionFactory, complaint_id: int, draft: AnswerDraft, now: datetime,
          call_back_within: timedelta) -> Saved:
    with unit_of_work(open_session) as session:
        if session.get(Complaint, complaint_id) is None:
            raise NotFound(f"There is no complaint C-{complaint_id}.")
        answer = session.get(SurveyAnswer, complaint_id)
        if answer is None:
            answer = SurveyAnswer(complaint_id=complaint_id, score=draft.score, ratings=draft.ratings,
                                  comment=draft.comment, first_answered_at=now, answered_at=now)
        else:
            answer.score, answer.ratings, answer.comment = draft.score, dict(draft.ratings), draft.comment
            answer.answered_at, answer.revision = now, answer.revision + 1
        session.add(answer)
        requested = draft.score <= DETRACTOR_MAX and session.get(CallBack, complaint_id) is None
        if requested:
            session.add(CallBack(complaint_id=complaint_id, score=draft.score, requested_at=now,
                                 due_at=now + call_back_within))
        session.flush()
        session.expunge(answer)
        return Saved(answer, requested)


# ----- call-backs ---------------------------------------------------------------------------
def record_call_back(session: Session, *, complaint_id: int, actor_id: str, now: datetime) -> CallBack:
    """`actor_id` called the customer back; InvalidInput if someone already did."""
    call_back = session.get(CallBack, complaint_id)
    if call_back is None:
        raise NotFound(f"C-{complaint_id} has no call-back to record.")
    if call_back.called_back_at is not None:
        raise InvalidInput(f"<@{call_back.called_back_by}> already called back the customer of C-{complaint_id}.")
    call_back.called_back_by, call_back.called_back_at = actor_id, now
    session.add(call_back)
    return call_back


def set_alert_location(session: Session, *, complaint_id: int, channel: str, ts: str) -> None:
    call_back = session.get(CallBack, complaint_id)
    if call_back is not None:
        call_back.alert_channel, call_back.alert_ts = channel, ts
        session.add(call_back)


def call_backs_requested_since(session: Session, *, since: datetime) -> list[CallBack]:
    statement = select(CallBack).where(col(CallBack.requested_at) >= since).order_by(col(CallBack.requested_at))
    return list(session.exec(statement))


def overdue_call_backs(session: Session, *, now: datetime, since: datetime) -> list[CallBack]:
    """Nobody called back, and the due time (after `since`) has passed."""
    statement = select(CallBack).where(
        col(CallBack.called_back_at).is_(None), col(CallBack.due_at) <= now, col(CallBack.due_at) >= since,
    ).order_by(col(CallBack.due_at))
    return list(session.exec(statement))


def answers_changed_since(session: Session, *, since: datetime) -> list[SurveyAnswer]:
    statement = select(SurveyAnswer).where(col(SurveyAnswer.answered_at) >= since).order_by(col(SurveyAnswer.answered_at))
    return list(session.exec(statement))


def open_call_back_count(session: Session) -> int:
    return session.exec(select(func.count()).select_from(CallBack).where(col(CallBack.called_back_at).is_(None))).one()
