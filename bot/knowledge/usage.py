"""What the knowledge base was asked and how its answers were received.

Plain Python over a SQLModel session. Gaps are the questions the team could not get a
good answer to: those with no confident answer, and those whose answers someone
marked not helpful (and nobody marked helpful).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from bot.errors import NotFound
from bot.metrics import KNOWLEDGE_SEARCHES
from bot.knowledge.articles import Article
from bot.knowledge.documents import SearchOutcome
from bot.knowledge.text import normalise
from models.knowledge import KnowledgeFeedback, KnowledgeSearch

GAP_WINDOW = timedelta(days=30)
MAX_QUERY_STORED = 2000
MAX_GAP_ROWS = 5000
# How many of the window's gaps the weekly digest lists.
DIGEST_GAPS = 5


@dataclass
class Gap:
    question: str  # as it was typed most recently
    times: int
    unanswered: int
    unhelpful: int
    askers: list[str] = field(default_factory=list)
    shown_paths: list[str] = field(default_factory=list)
    last_asked: datetime | None = None

    def as_dict(self) -> dict:
        return {"question": self.question, "times": self.times, "unanswered": self.unanswered,
                "unhelpful": self.unhelpful, "askers": self.askers, "shown": self.shown_paths}


@dataclass(frozen=True)
class GapSummary:
    """The top gaps of a window, with the titles of the articles their answers showed."""

    gaps: list[Gap]
    titles: dict[str, str]  # article path -> title; a path no longer in the library is left out

    def figures(self) -> dict:
        return {"gaps": [gap.as_dict() for gap in self.gaps]}


def record_search(
    session: Session, *, outcome: SearchOutcome, asker_id: str, channel_id: str, now: datetime
) -> KnowledgeSearch:
    query = " ".join((outcome.query or "").split())[:MAX_QUERY_STORED]
    search = KnowledgeSearch(
        query=query,
        query_key=normalise(query)[:300],
        asker_id=asker_id,
        channel_id=channel_id,
        shown_paths="\n".join(hit.key for hit in outcome.hits) if outcome.answered else "",
        top_confidence=outcome.hits[0].confidence if outcome.hits else 0.0,
        answered=outcome.answered,
        at=now,
    )
    session.add(search)
    session.flush()
    KNOWLEDGE_SEARCHES.labels("answered" if outcome.answered else "unanswered").inc()
    return search


def get_search(session: Session, search_id: int) -> KnowledgeSearch:
    search = session.get(KnowledgeSearch, search_id)
    if search is None:
        raise NotFound("That answer is no longer on record; ask `/kb` again.")
    return search


def record_feedback(
    session: Session, *, search_id: int, article_path: str, user_id: str, helpful: bool, now: datetime
) -> KnowledgeFeedback:
    """One vote per person per article shown; voting again replaces the vote."""
    get_search(session, search_id)
    statement = select(KnowledgeFeedback).where(
        KnowledgeFeedback.search_id == search_id,
        KnowledgeFeedback.article_path == article_path,
        KnowledgeFeedback.user_id == user_id,
    )
    vote = session.exec(statement).first()
    if vote is None:
        vote = KnowledgeFeedback(search_id=search_id, article_path=article_path[:500], user_id=user_id, helpful=helpful, at=now)
        session.add(vote)
        try:
            with session.begin_nested():
                session.flush()
        except IntegrityError:  # the same person clicked twice at once: keep one vote
            vote = session.exec(statement).one()
    vote.helpful, vote.at = helpful, now
    session.add(vote)
    session.flush()
    return vote


def knowledge_gaps(session: Session, *, now: datetime, limit: int = 10, window: timedelta = GAP_WINDOW) -> list[Gap]:
    """The most frequent unanswered or unhelpful questions of the window, most frequent first."""
    since = now - window
    searches = list(session.exec(
        select(KnowledgeSearch).where(KnowledgeSearch.at >= since)
        .order_by(col(KnowledgeSearch.at).desc(), col(KnowledgeSearch.id).desc()).limit(MAX_GAP_ROWS)
    ))
    votes: dict[int, set[bool]] = {}
    if searches:
        rows = session.exec(
            select(KnowledgeFeedback.search_id, KnowledgeFeedback.helpful)
            .where(col(KnowledgeFeedback.search_id).in_([s.id for s in searches]))
        )
        for search_id, helpful in rows:
            votes.setdefault(search_id, set()).add(helpful)
    gaps: dict[str, Gap] = {}
    for search in searches:  # newest first
        verdicts = votes.get(search.id, set())
        unhelpful = search.answered and verdicts == {False}
        if search.answered and not unhelpful:
            continue
        gap = gaps.setdefault(search.query_key or search.query, Gap(search.query, 0, 0, 0, last_asked=search.at))
        gap.times += 1
        gap.unanswered += not search.answered
        gap.unhelpful += unhelpful
        _add_new(gap.askers, [search.asker_id])
        _add_new(gap.shown_paths, search.shown_paths.split("\n") if search.shown_paths else [])
    ranked = sorted(gaps.values(), key=lambda g: (-g.times, -g.last_asked.timestamp()))
    return ranked[:limit]


def gap_summary(session: Session, *, now: datetime, articles: Iterable[Article], limit: int = DIGEST_GAPS) -> GapSummary:
    """The `limit` most frequent gaps of the window up to `now`, for the weekly digest."""
    gaps = knowledge_gaps(session, now=now, limit=limit)
    shown = {path for gap in gaps for path in gap.shown_paths}
    return GapSummary(gaps, {article.path: article.title for article in articles if article.path in shown})


def _add_new(items: list[str], new: Iterable[str]) -> None:
    for item in new:
        if item not in items:
            items.append(item)


def due_for_review(articles: Sequence[Article], *, today: date, max_age_days: int) -> dict[str, list[Article]]:
    """Articles not reviewed for `max_age_days` (or never dated), by owner ("" = no owner), oldest first."""
    cutoff = today - timedelta(days=max_age_days)
    due: dict[str, list[Article]] = {}
    for article in sorted(articles, key=lambda a: (a.updated or date.min, a.path)):
        if article.updated is None or article.updated < cutoff:
            due.setdefault(article.owner, []).append(article)
    return due
