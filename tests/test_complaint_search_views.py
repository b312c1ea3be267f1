"""Search results as Block Kit: valid for Slack, escaped, and the More button round-trips."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from bot.app.console.blockkit import block_kit_problems
from bot.complaint_search import SearchMatch, SearchQuery, SearchResults, parse_search
from bot.errors import InvalidInput
from handlers.complaint_search_views import more_value, read_more_value, search_results, search_summary
from handlers.ids import Action

CATEGORIES = ("billing", "other")
WHEN = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)


def match(number: int, snippet: str = "charged twice for order 1182", **changes) -> SearchMatch:
    values = dict(id=number, status="open", owner_id="UBOB00002", severity="high", category="billing",
                  customer_name="Jane Roe", created_at=WHEN, resolved_at=None, snippet=snippet)
    return SearchMatch(**(values | changes))


def results(matches, *, query=None, page=1, page_size=10, total=None, has_more=False, **extra) -> SearchResults:
    query = query or parse_search("charged twice status:open", categories=CATEGORIES)
    return SearchResults(query, page, page_size, list(matches), len(matches) if total is None else total,
                         extra.pop("total_is_lower_bound", False), has_more, **extra)


def more_button(blocks):
    actions = [b for b in blocks if b["type"] == "actions"]
    return actions[0]["elements"][0] if actions else None


def test_a_page_of_results_is_valid_and_says_who_owns_what():
    blocks = search_results(results([match(42), match(7, resolved_at=WHEN, status="resolved")], total=23, has_more=True))
    assert block_kit_problems(blocks=blocks) == []
    text = json.dumps(blocks)
    assert "*C-42*" in text and "<@UBOB00002>" in text and "#billing" in text and "high" in text
    assert "charged twice for order 1182" in text and "resolved" in text
    assert "Complaints 1–2 of 23" in blocks[0]["text"]["text"]


def test_more_carries_the_query_and_the_next_page():
    query = parse_search('refund status:open owner:<@UBOB00002> #billing !high customer:"Jane Roe" since:2026-11-01',
                         categories=CATEGORIES)
    button = more_button(search_results(results([match(1)], query=query, page=2, total=30, has_more=True)))
    assert button["action_id"] == Action.SEARCH_MORE
    typed, page = read_more_value(button["value"])
    assert page == 3 and parse_search(typed, categories=CATEGORIES) == query


def test_no_more_button_on_the_last_page():
    assert more_button(search_results(results([match(1)], has_more=False))) is None


def test_user_text_is_escaped_and_cannot_ping():
    hostile = match(3, snippet="<!channel> <@U999> & <https://evil.example|click>", customer_name="<!here>")
    blocks = search_results(results([hostile], query=SearchQuery(words=("channel",))))
    assert block_kit_problems(blocks=blocks) == []
    text = json.dumps(blocks)
    assert "<!channel>" not in text and "<!here>" not in text and "<@U999>" not in text
    assert "&lt;!channel&gt;" in text and "&amp;" in text


def test_longest_query_and_snippets_stay_within_limits():
    words = " ".join(f"{'w' * 21}{n:02d}" for n in range(16))  # 16 words: with the filters, 500 characters
    query = parse_search(f'{words} customer:"{"x" * 55}" owner:<@UBOB00002> #billing !urgent', categories=CATEGORIES)
    many = [match(n, snippet="ü" * 2000, customer_name="n" * 200) for n in range(1, 51)]
    blocks = search_results(results(many, query=query, page_size=50, total=1000, has_more=True,
                                    total_is_lower_bound=True))
    assert block_kit_problems(blocks=blocks) == []
    assert len(blocks) <= 50
    assert len(more_button(blocks)["value"]) <= 2000
    assert "1,000+" in blocks[0]["text"]["text"] and "best of the newest 1,000" in json.dumps(blocks)


def test_nothing_found_says_what_was_searched_and_corrected():
    none = results([], query=SearchQuery(words=("refnd", "xylophone")), corrections={"refnd": ("refund",)},
                   unmatched=("xylophone",))
    blocks = search_results(none)
    assert block_kit_problems(blocks=blocks) == []
    text = json.dumps(blocks, ensure_ascii=False)
    assert "No complaints match “refnd xylophone”" in text
    assert "*refund*" in text and "“xylophone”" in text


def test_past_the_last_page():
    assert "all 12 were on the earlier pages" in search_summary(results([], page=3, total=12))


@pytest.mark.parametrize("value", ["", "nonsense", "{}", '{"query": 3, "page": 2}', '{"query": "x", "page": 0}',
                                   '{"query": "x", "page": true}', "[1, 2]", '{"query": "x"}'])
def test_a_forged_more_value_is_bad_input(value):
    with pytest.raises(InvalidInput, match="out of date"):
        read_more_value(value)


def test_a_value_too_long_for_a_button_gives_no_button():
    assert more_value("x" * 2000, 2) is None
    assert read_more_value(more_value("refund", 2)) == ("refund", 2)
