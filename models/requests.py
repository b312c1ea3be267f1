"""Requests already acted on, which make Slack's retries harmless for every feature."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel


class ProcessedRequest(SQLModel, table=True):
    """Keys of Slack requests already acted on (trigger IDs, view IDs, event IDs).

    A unique key inserted in the same transaction as the work means a retried or
    duplicated delivery is recognised by every process sharing the database.
    """

    __tablename__ = "processed_request"

    key: str = Field(primary_key=True, max_length=255)
    at: datetime
    result: str = Field(default="", max_length=255)
