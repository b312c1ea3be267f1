"""Which articles to suggest to whoever just logged a complaint."""

from __future__ import annotations

from bot.knowledge.articles import Article
from bot.knowledge.library import KnowledgeLibrary

SUGGESTIONS = 3


def articles_for_complaint(library: KnowledgeLibrary, description: str) -> list[Article]:
    """The matches for a complaint's description that are more likely right than not,
    by the same calibrated gate as `/kb` (bot.knowledge.calibration): no suggestion is
    better than an irrelevant one. The first is kept when the answer as a whole passes
    the gate, so a description that two articles share still gets both."""
    library.refresh_if_due()
    snapshot = library.snapshot
    outcome = snapshot.index.search(description, limit=SUGGESTIONS)
    if not outcome.answered:
        return []
    gate = library.weights.min_confidence
    articles = [snapshot.article(hit.key) for number, hit in enumerate(outcome.hits)
                if number == 0 or hit.confidence >= gate]
    return [article for article in articles if article]
