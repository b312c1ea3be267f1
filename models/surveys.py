"""The customers' own voice: survey answers, call-backs to detractors, unsubscribed
addresses, and the request counts that rate-limit the pages strangers can reach."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Column, Text
from sqlmodel import Field, SQLModel


class SurveyAnswer(SQLModel, table=True):
    """A customer's own answer to the survey of a complaint (not a score staff typed in,
    which stays on `Complaint.satisfaction_score`). One per complaint, changed in place
    until the link expires; `revision` counts the changes, so each version is told once."""

    __tablename__ = "survey_answer"

    complaint_id: int = Field(primary_key=True, foreign_key="complaint.id")
    # 0-10: how likely are you to recommend us?
    score: int
    # {value: 1-5} for each of SURVEY_VALUES when the customer answered.
    ratings: dict[str, int] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    comment: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    first_answered_at: datetime = Field(index=True)
    answered_at: datetime = Field(index=True)
    revision: int = 1


class CallBack(SQLModel, table=True):
    """A detractor (0-6) to be called back: requested when they answered, due
    CALLBACK_HOURS later, done when someone pressed Call back on the managers' alert."""

    __tablename__ = "call_back"

    complaint_id: int = Field(primary_key=True, foreign_key="complaint.id")
    score: int
    requested_at: datetime = Field(index=True)
    due_at: datetime = Field(index=True)
    called_back_by: str = Field(default="", max_length=32)
    called_back_at: datetime | None = None
    # Where the managers' alert was posted, so pressing its button can update it.
    alert_channel: str = Field(default="", max_length=32)
    alert_ts: str = Field(default="", max_length=32)


class Unsubscribe(SQLModel, table=True):
    """An e-mail address that must never be sent a survey again, kept as a one-way
    fingerprint so the list does not outlive the customer data it refers to."""

    __tablename__ = "unsubscribe"

    address_fingerprint: str = Field(primary_key=True, max_length=64)
    at: datetime


class RateWindow(SQLModel, table=True):
    """Requests counted per key (a fingerprint of an address or an API token) and minute,
    shared by every process."""

    __tablename__ = "rate_window"

    key: str = Field(primary_key=True, max_length=64)
    window_start: datetime = Field(primary_key=True, index=True)
    hits: int = 0
