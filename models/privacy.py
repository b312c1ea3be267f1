"""The audit trail of what was done with customers' personal data."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Column, Text
from sqlmodel import Field, SQLModel


class SlackMessage(StrEnum):
    """Which message of a complaint's a pending redaction is to show again."""

    TEAM = "team message"
    REPLY = "thread reply"
    OWNER_DM = "owner DM"


class PrivacyAction(StrEnum):
    EXPORT = "export"
    ERASE = "erase"
    RETENTION = "retention"


class PrivacyRecord(SQLModel, table=True):
    """One export, erasure or retention run. The customer is recorded by a one-way
    fingerprint of their key, so the audit trail does not keep what was erased."""

    __tablename__ = "privacy_record"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(index=True)
    action: str = Field(max_length=20)
    actor: str = Field(default="", max_length=200)
    customer_fingerprint: str = Field(default="", max_length=80)
    complaint_ids: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))


class PendingRedaction(SQLModel, table=True):
    """A message in Slack still to be shown again without a customer that was redacted
    (bot/redactions.py): the complaint's team message (`event_id` 0), the reply in its
    thread of one history entry, or the new owner's DM that an ownership change sent.
    Recorded in the redaction's own transaction; the row
    goes once Slack has the redacted text."""

    __tablename__ = "pending_redaction"

    complaint_id: int = Field(foreign_key="complaint.id", primary_key=True, ondelete="CASCADE")
    event_id: int = Field(default=0, primary_key=True)
    message: str = Field(default=SlackMessage.TEAM.value, max_length=20,
                         sa_column_kwargs={"server_default": SlackMessage.TEAM.value})
    created_at: datetime
    # When it is tried next; a process that claims it moves this on by its lease.
    due_at: datetime = Field(index=True)
    tries: int = 0
    error: str = Field(default="", max_length=255)
