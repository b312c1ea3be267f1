"""Which articles to suggest to whoever just logged a complaint."""

from __future__ import annotations

from bot.knowledge.articles import Article
from bot.knowledge.library import KnowledgeLibrary

SUGGESTIONS = 3


def articles_for_complaint(library: KnowledgeLibrary, description: str) -> list[Article]:
    """The best matches for a complaint's description, none when the search is unsure;
    a match at less than half the best one's confidence is left out as noise."""
    library.refresh_if_due()
    snapshot = library.snapshot
    outcome = snapshot.index.search(description, limit=SUGGESTIONS)
    if not outcome.answered:
        return []
    best = outcome.hits[0].confidence
    articles = [snapshot.article(hit.key) for hit in outcome.hits if hit.confidence >= best / 2]
    return [article for article in articles if article]
