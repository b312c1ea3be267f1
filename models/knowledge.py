"""What staff asked the knowledge base, what they were shown, and what they thought of it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Text, UniqueConstraint
from sqlmodel import Field, SQLModel


class KnowledgeSearch(SQLModel, table=True):
    """One question asked with `/kb`; unanswered ones are knowledge gaps."""

    __tablename__ = "knowledge_search"

    id: int | None = Field(default=None, primary_key=True)
    query: str = Field(sa_column=Column(Text, nullable=False))
    # The normalised question, so the same question typed differently counts together.
    query_key: str = Field(max_length=300, index=True)
    asker_id: str = Field(max_length=32)
    channel_id: str = Field(default="", max_length=32)
    # Paths of the articles shown, best first, one per line.
    shown_paths: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    top_confidence: float = 0.0
    answered: bool
    at: datetime = Field(index=True)


class KnowledgeFeedback(SQLModel, table=True):
    """Helpful or not, per person, per article shown for one search (the latest vote counts)."""

    __tablename__ = "knowledge_feedback"
    __table_args__ = (UniqueConstraint("search_id", "article_path", "user_id"),)

    id: int | None = Field(default=None, primary_key=True)
    search_id: int = Field(foreign_key="knowledge_search.id", index=True)
    article_path: str = Field(max_length=500)
    user_id: str = Field(max_length=32)
    helpful: bool
    at: datetime
