"""The customers' own figures for the weekly digest: how many answered the survey, their
NPS (beside the NPS of the scores staff recorded), each value's average and its change
from the week before, and the call-backs still open."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime

from sqlalchemy import func
from sqlmodel import Session, col, select

from bot.nps import Nps
from bot.surveys import open_call_back_count
from models.complaints import Complaint
from models.surveys import CallBack, SurveyAnswer


@dataclass(frozen=True)
class ValueAverage:
    value: str
    average: float | None
    previous: float | None
    ratings: int

    @property
    def change(self) -> float | None:
        if self.average is None or self.previous is None:
            return None
        return round(self.average - self.previous, 2)


@dataclass(frozen=True)
class SurveyFigures:
    # Complaints resolved in the week (each had a survey link), and how many of them the customer answered.
    surveyed: int
    answered: int
    customer_nps: Nps
    staff_nps: Nps
    values: list[ValueAverage]
    open_call_backs: int
    overdue_call_backs: int

    @property
    def response_rate(self) -> float | None:
        return round(100 * self.answered / self.surveyed, 1) if self.surveyed else None

    def figures(self) -> dict:
        data = asdict(self)
        data["response_rate"] = self.response_rate
        data["customer_nps"]["score"] = self.customer_nps.score
        data["staff_nps"]["score"] = self.staff_nps.score
        for entry, value in zip(data["values"], self.values):
            entry["change"] = value.change
        return data


def _ratings_by_value(session: Session, start: datetime, end: datetime) -> dict[str, list[int]]:
    """The week's answers are few (one per complaint resolved): averaged here, on every database alike."""
    rows = session.exec(select(SurveyAnswer.ratings).where(
        col(SurveyAnswer.first_answered_at) >= start, col(SurveyAnswer.first_answered_at) < end))
    found: dict[str, list[int]] = {}
    for ratings in rows:
        for value, rating in (ratings or {}).items():
            found.setdefault(value, []).append(int(rating))
    return found


def _average(ratings: list[int]) -> float | None:
    return round(sum(ratings) / len(ratings), 2) if ratings else None


def survey_figures(session: Session, *, start: datetime, end: datetime, before_start: datetime, now: datetime,
                   values: tuple[str, ...], staff_nps: Nps) -> SurveyFigures:
    resolved_in_week = (col(Complaint.resolved_at) >= start) & (col(Complaint.resolved_at) < end) & (
        col(Complaint.merged_into_id).is_(None))
    surveyed = session.exec(select(func.count()).select_from(Complaint).where(resolved_in_week)).one()
    answered = session.exec(
        select(func.count()).select_from(Complaint).join(SurveyAnswer, col(SurveyAnswer.complaint_id) == Complaint.id)
        .where(resolved_in_week)
    ).one()
    scores = session.exec(select(SurveyAnswer.score).where(
        col(SurveyAnswer.first_answered_at) >= start, col(SurveyAnswer.first_answered_at) < end))
    this_week, week_before = _ratings_by_value(session, start, end), _ratings_by_value(session, before_start, start)
    # The values asked now, then any that earlier answers rated and SURVEY_VALUES no longer lists.
    shown = list(dict.fromkeys([*values, *this_week]))
    overdue = session.exec(select(func.count()).select_from(CallBack).where(
        col(CallBack.called_back_at).is_(None), col(CallBack.due_at) <= now)).one()
    return SurveyFigures(
        surveyed=surveyed, answered=answered, customer_nps=Nps.of(scores), staff_nps=staff_nps,
        values=[ValueAverage(value, _average(this_week.get(value, [])), _average(week_before.get(value, [])),
                             len(this_week.get(value, []))) for value in shown],
        open_call_backs=open_call_back_count(session), overdue_call_backs=overdue,
    )
