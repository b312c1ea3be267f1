"""Recognitions: one person's kudos to another, from a command, a form, a button or a reaction."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import Column, Index, Text, UniqueConstraint, text
from sqlmodel import Field, SQLModel


class KudosSource(StrEnum):
    COMMAND = "command"
    MODAL = "modal"
    BUTTON = "button"
    REACTION = "reaction"


class Recognition(SQLModel, table=True):
    """Kudos from `giver_id` to `recipient_id`; a `/kudos` for three people is three rows.

    `dedup_key` names the Slack request (or, for a reaction, the giver and message), so
    a retried request, a duplicated event or a second identical reaction hits the unique
    constraint instead of counting twice. `day` is the giver's calendar day in TZ when
    it was given: the daily limit and the weekly report count by it. A removed reaction
    sets `revoked_at`; revoked rows count nowhere.
    """

    __table_args__ = (
        UniqueConstraint("dedup_key", "recipient_id", name="uq_recognition_dedup_key_recipient"),
        # The morale report reads the live kudos of a window of days. Partial indexes that
        # hold every column it needs (revoked_at too, or SQLite reads the rows to check
        # it) let it read them alone, never the wide rows: one by day, and one by pair,
        # where it looks for kudos answered in kind.
        Index(
            "ix_recognition_live_day", "day", "giver_id", "recipient_id", "value", "complaint_id", "created_at", "revoked_at",
            sqlite_where=text("revoked_at IS NULL"), postgresql_where=text("revoked_at IS NULL"),
        ),
        Index(
            "ix_recognition_live_pair", "giver_id", "recipient_id", "day", "created_at", "id", "revoked_at",
            sqlite_where=text("revoked_at IS NULL"), postgresql_where=text("revoked_at IS NULL"),
        ),
        # The daily limit and `/kudos stats` for a giver, and for a recipient, read from
        # the index alone; the report's distinct recipients come from the second too.
        Index("ix_recognition_giver_day", "giver_id", "day", "value", "revoked_at"),
        Index("ix_recognition_recipient_day", "recipient_id", "day", "value", "revoked_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    giver_id: str = Field(max_length=32)
    recipient_id: str = Field(max_length=32)
    value: str = Field(default="", max_length=40)
    reason: str = Field(sa_column=Column(Text, nullable=False))
    complaint_id: int | None = Field(default=None, foreign_key="complaint.id", index=True)
    source: str = Field(max_length=10)
    dedup_key: str = Field(max_length=255)
    # The message a reaction was added to.
    message_channel: str = Field(default="", max_length=32)
    message_ts: str = Field(default="", max_length=32)
    # The announcement in KUDOS_CHANNEL, deleted when the kudos is taken back.
    post_channel: str = Field(default="", max_length=32)
    post_ts: str = Field(default="", max_length=32)
    created_at: datetime
    day: date
    revoked_at: datetime | None = None


class KudosGiverDay(SQLModel, table=True):
    """A row per giver per day, locked while that day's kudos are counted against the
    daily limit: two kudos given at the same moment are counted one after the other,
    so they cannot both fit under it."""

    __tablename__ = "kudos_giver_day"

    giver_id: str = Field(primary_key=True, max_length=32)
    day: date = Field(primary_key=True)
