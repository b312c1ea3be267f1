"""Articles suggested when a complaint is logged, against the project's own knowledge base:
the right one for a real complaint, and none rather than an irrelevant one (issue 13)."""

from __future__ import annotations

import pytest

from bot.knowledge.library import KnowledgeLibrary
from bot.knowledge.suggestions import articles_for_complaint
from tests.shared import PROJECT_ROOT


@pytest.fixture(scope="module")
def library():
    library = KnowledgeLibrary(PROJECT_ROOT / "knowledge")
    library.refresh()
    library.finish_calibration(timeout=60)
    return library


@pytest.mark.parametrize(
    ("complaint", "expected"),
    [
        ("customer was charged twice for one order", "orders/refunds.md"),
        ("parcel arrived late again", "orders/late-or-missing-delivery.md"),
        ("the product broke after two days", "orders/damaged-or-faulty.md"),
        ("my order never arrived", "orders/late-or-missing-delivery.md"),
        ("customer is elderly and struggling to understand her bill", "customers/recognising-vulnerable-customers.md"),
    ],
)
def test_a_real_complaint_gets_the_article_about_it(library, complaint, expected):
    assert [article.path for article in articles_for_complaint(library, complaint)][:1] == [expected]


def test_a_complaint_that_shares_only_passing_words_of_an_articles_body_gets_no_suggestion(library):
    # "Recognising vulnerable customers" says "Slow down" and "more time" in its body: the
    # only words it shares with this complaint, and it led the other articles by a long way
    # (it was suggested at 65%). Words that only a body mentions are weaker evidence.
    complaint = "checkout page is very slow and times out"
    first = library.search(complaint).hits[0]
    assert first.key == "customers/recognising-vulnerable-customers.md"
    assert articles_for_complaint(library, complaint) == []
