"""Complaints and their history."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic_core import PydanticUndefined
from sqlalchemy import Column, Index, Text, text
from sqlalchemy.orm import class_mapper
from sqlmodel import Field, SQLModel


class Severity(StrEnum):
    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"
    URGENT = "urgent"


class ContactChannel(StrEnum):
    PHONE = "phone"
    EMAIL = "email"
    CHAT = "chat"
    SOCIAL = "social"
    IN_PERSON = "in person"
    OTHER = "other"


class Status(StrEnum):
    OPEN = "open"
    # Open, with the resolution clock paused until the customer answers.
    WAITING = "waiting"
    RESOLVED = "resolved"
    # Closed as a duplicate of `merged_into_id`; left out of every figure.
    MERGED = "merged"


# Still being worked on: what lists, reminders and the App Home show.
OPEN_STATUSES = (Status.OPEN.value, Status.WAITING.value)
# Closed, with `resolved_at` saying when: resolved, or merged into another complaint.
CLOSED_STATUSES = (Status.RESOLVED.value, Status.MERGED.value)


class EventKind(StrEnum):
    LOGGED = "logged"
    ASSIGNED = "assigned"
    RESPONDED = "responded"
    NOTED = "noted"
    RESOLVED = "resolved"
    REOPENED = "reopened"
    RATED = "rated"
    FOLLOWED_UP = "followed up"
    EDITED = "edited"
    WAITING = "waiting"
    CUSTOMER_REPLIED = "customer replied"
    RESUMED = "resumed"
    # On the duplicate: merged into another; on the one kept: another merged into it.
    MERGED = "merged"
    MERGED_IN = "merged in"
    # A note of the duplicate, copied into the history of the one kept.
    COPIED_NOTE = "copied note"


class Complaint(SQLModel, table=True):
    """One customer complaint. `owner_id` is never empty: someone always owns it.

    Times are timezone-aware UTC.
    """

    __table_args__ = (
        # By status, with the owner: the owners of open complaints come from the index alone.
        Index("ix_complaint_status_owner_id", "status", "owner_id"),
        # The resolved ones' IDs: the morale report counts kudos linked to a resolved
        # complaint by probing this small index, where PostgreSQL would otherwise hash
        # every resolved complaint to match a few thousand kudos.
        Index(
            "ix_complaint_resolved_id", "id",
            sqlite_where=text("status = 'resolved'"), postgresql_where=text("status = 'resolved'"),
        ),
        # A customer's complaints, newest first (models/customers.py makes the key).
        Index("ix_complaint_customer_key", "customer_key", "created_at"),
        # The few complaints whose resolution clock was paused: the digest's breaches read
        # them by creation time beside the unpaused ones.
        Index(
            "ix_complaint_paused_created_at", "created_at",
            sqlite_where=text("paused_seconds > 0"), postgresql_where=text("paused_seconds > 0"),
        ),
        # The few merged duplicates: the digest checks "not merged" against them (bot.as_of.counted)
        # rather than reading each complaint's row.
        Index(
            "ix_complaint_merged_id", "id",
            sqlite_where=text("merged_into_id IS NOT NULL"), postgresql_where=text("merged_into_id IS NOT NULL"),
        ),
        # Times to a first response from the index alone (the digest's medians and trend);
        # it replaced the index of first_responded_at alone.
        Index("ix_complaint_first_response_times", "first_responded_at", "created_at", "id"),
        # The latest complaint from outside Slack, whose owner the next one's round-robin follows.
        Index(
            "ix_complaint_source_id", "id",
            sqlite_where=text("source != ''"), postgresql_where=text("source != ''"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    description: str = Field(sa_column=Column(Text, nullable=False))
    customer_name: str = Field(default="", max_length=200)
    customer_contact: str = Field(default="", max_length=200)
    # Who the customer is across complaints: their normalised contact, else their name.
    customer_key: str = Field(default="", max_length=200)
    # When the customer's name and contact were redacted (retention or an erasure request).
    customer_redacted_at: datetime | None = None
    contact_channel: str = Field(default=ContactChannel.OTHER.value, max_length=20)
    category: str = Field(default="other", max_length=40, index=True)
    severity: str = Field(default=Severity.NORMAL.value, max_length=10)
    status: str = Field(default=Status.OPEN.value, max_length=10)
    owner_id: str = Field(max_length=32, index=True)
    reporter_id: str = Field(max_length=32)
    source_permalink: str = Field(default="", max_length=1000)
    # Where a complaint from outside Slack came from ("web form", "e-mail"); empty for Slack.
    source: str = Field(default="", max_length=40, sa_column_kwargs={"server_default": ""})
    resolution: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    created_at: datetime = Field(index=True)
    # Indexed with the creation time (ix_complaint_first_response_times).
    first_responded_at: datetime | None = Field(default=None)
    resolved_at: datetime | None = Field(default=None, index=True)
    updated_at: datetime
    # The customer's latest answer to "how likely are you to recommend us?" (0-10);
    # every answer is also kept as a `rated` event.
    satisfaction_score: int | None = None
    satisfaction_comment: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    satisfaction_at: datetime | None = Field(default=None, index=True)
    # When the owner checked back with the customer after resolving it.
    followed_up_at: datetime | None = None
    # Waiting on the customer: since when (None when not waiting), and the seconds of
    # earlier waits, by which the resolution target moves (bot/sla.py).
    waiting_since: datetime | None = None
    paused_seconds: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    # A duplicate points at the complaint it was merged into.
    merged_into_id: int | None = None
    # Where the team's copy of the complaint was posted, so it can be updated in place.
    slack_channel: str = Field(default="", max_length=32)
    slack_ts: str = Field(default="", max_length=32)
    # Posting the team's copy (bot/team_copies.py): until when one process holds the
    # post (None: the process that logged it, for its first try), how many later tries
    # were claimed, and how many tries Slack surely refused (an unknown outcome, a
    # crash or a timeout, is not one: that copy may be in the channel).
    copy_lease_until: datetime | None = None
    copy_tries: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    copy_refusals: int = Field(default=0, sa_column_kwargs={"server_default": "0"})

    @property
    def reference(self) -> str:
        return f"C-{self.id}"

    @property
    def is_open(self) -> bool:
        """Still being worked on, waiting on the customer or not."""
        return self.status in OPEN_STATUSES

    @property
    def is_waiting(self) -> bool:
        return self.status == Status.WAITING

    @property
    def is_merged(self) -> bool:
        return self.status == Status.MERGED


def saved_complaint(values: dict) -> Complaint:
    """The complaint just saved with `values` (checked already), built the way the ORM
    builds one it reads back: no validation, which would cost 20 times as much, on the
    hot path of every complaint logged. It is in no session."""
    complaint = class_mapper(Complaint).class_manager.new_instance()
    complaint.__dict__.update(_COMPLAINT_DEFAULTS)
    complaint.__dict__.update(values)
    return complaint


_COMPLAINT_DEFAULTS = {
    name: field.default for name, field in Complaint.model_fields.items() if field.default is not PydanticUndefined
}


class ComplaintEvent(SQLModel, table=True):
    """One change to a complaint, with who made it and when."""

    __tablename__ = "complaint_event"
    # The morale report reads who resolved or was given complaints in a window of days
    # from this index alone.
    __table_args__ = (Index("ix_complaint_event_at", "at", "kind", "owner_id", "actor_id", "complaint_id"),)

    id: int | None = Field(default=None, primary_key=True)
    complaint_id: int = Field(foreign_key="complaint.id", index=True)
    kind: str = Field(max_length=20)
    actor_id: str = Field(max_length=32)
    at: datetime
    owner_id: str = Field(default="", max_length=32)
    note: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    # The ts of this event's reply in the team message's thread, once posted, so that
    # redacting the note redacts the reply too (bot/privacy.py).
    reply_ts: str = Field(default="", max_length=32, sa_column_kwargs={"server_default": ""})
    # Where the new owner's DM of an ownership change went (it says how to reach the
    # customer), so that redacting the customer redacts the DM too.
    notice_channel: str = Field(default="", max_length=32, sa_column_kwargs={"server_default": ""})
    notice_ts: str = Field(default="", max_length=32, sa_column_kwargs={"server_default": ""})


class ComplaintFollower(SQLModel, table=True):
    """Someone who is told when a complaint is resolved or reopened; the person who
    logged it follows it from the start."""

    __tablename__ = "complaint_follower"

    # Cascades: the row means nothing without its complaint (or event, below), and must
    # not stop a complaint from being deleted.
    complaint_id: int = Field(foreign_key="complaint.id", primary_key=True, ondelete="CASCADE")
    user_id: str = Field(max_length=32, primary_key=True)
    since: datetime


class PendingThreadReply(SQLModel, table=True):
    """A note, response or resolution still to be posted in the thread of the complaint's
    team message (bot/thread_replies.py); the row goes once the reply is posted."""

    __tablename__ = "pending_thread_reply"

    event_id: int = Field(foreign_key="complaint_event.id", primary_key=True, ondelete="CASCADE")
    complaint_id: int = Field(foreign_key="complaint.id", index=True, ondelete="CASCADE")
    created_at: datetime
    # When the latest try began (None: not tried yet, the team message was not there).
    tried_at: datetime | None = None
    tries: int = 0
    error: str = Field(default="", max_length=255)
