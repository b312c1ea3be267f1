"""The ledger of scheduled notifications, and when each owner was last reminded.

Several bot processes may share one database and all of them run the scheduler, so
"has this been sent?" lives here, not in memory: a notification's key is claimed by
inserting its row (the primary key refuses a second claim) in the same transaction
that decided it was due.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlmodel import Field, SQLModel


class Delivery(StrEnum):
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"


class Notification(SQLModel, table=True):
    """One scheduled message: a digest to one recipient, a reminder, an escalation.

    Keys read like `digest:2026-W47:C0123` or `reminder:42:first_response`.
    """

    key: str = Field(primary_key=True, max_length=255)
    kind: str = Field(max_length=20)
    status: str = Field(default=Delivery.SENDING.value, max_length=10)
    attempts: int = 1
    claimed_at: datetime
    sent_at: datetime | None = None
    error: str = Field(default="", max_length=255)


class OwnerReminder(SQLModel, table=True):
    """When an owner was last sent a reminder DM, so they get at most one an hour."""

    __tablename__ = "owner_reminder"

    owner_id: str = Field(primary_key=True, max_length=32)
    last_sent_at: datetime
