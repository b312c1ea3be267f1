"""Block Kit for complaint search results: pure functions from SearchResults to blocks."""

from __future__ import annotations

import json

from bot.complaint_search import SearchMatch, SearchResults
from bot.errors import InvalidInput
from handlers.blocks import button, mrkdwn, section
from handlers.complaint_views import SEVERITY_ICON
from handlers.ids import Action, Block
from handlers.text import escape, slack_date, truncate

MESSAGE_BLOCKS = 50
BUTTON_VALUE_LIMIT = 2000
# The heading, the notes on corrections and the More button take the rest.
MATCH_BLOCKS = MESSAGE_BLOCKS - 3
QUERY_SHOWN = 200


def more_value(query_text: str, page: int) -> str | None:
    """What the More button carries: the query as typed again and the page to show.

    None when it would not fit in a button's value (a query can be far shorter than that).
    """
    value = json.dumps({"query": query_text, "page": page}, ensure_ascii=False, separators=(",", ":"))
    return value if len(value) <= BUTTON_VALUE_LIMIT else None


def read_more_value(value: str) -> tuple[str, int]:
    """The More button's value back as (query text, page); a forged value is bad input."""
    try:
        data = json.loads(value)
        query_text, page = data["query"], data["page"]
    except (ValueError, TypeError, KeyError):
        raise InvalidInput("That button is out of date; search again.") from None
    if not isinstance(query_text, str) or not isinstance(page, int) or isinstance(page, bool) or page < 1:
        raise InvalidInput("That button is out of date; search again.")
    return query_text, page


def search_summary(results: SearchResults) -> str:
    """One line, also the notification text: how many matched what."""
    typed = escape(truncate(results.query.as_text(), QUERY_SHOWN))
    if not results.matches:
        if results.page > 1 and results.total:
            return f"No more complaints match “{typed}”: all {results.total:,} were on the earlier pages."
        return f"No complaints match “{typed}”."
    first = (results.page - 1) * results.page_size + 1
    last = first + len(results.matches) - 1
    count = f"{results.total:,}+" if results.total_is_lower_bound else f"{results.total:,}"
    return f"Complaints {first}–{last} of {count} matching “{typed}”"


def _notes(results: SearchResults) -> list[str]:
    notes = []
    if results.corrections:
        notes.append("Nothing matched " + ", ".join(
            f"“{escape(typed)}”, so I searched for " + " or ".join(f"*{escape(word)}*" for word in words)
            for typed, words in results.corrections.items()
        ) + ".")
    if results.unmatched:
        notes.append("Nothing matches " + ", ".join(f"“{escape(word)}”" for word in results.unmatched)
                     + " and no indexed word is close: try another word.")
    if results.total_is_lower_bound:
        notes.append(f"More than {results.total:,} match; these are the best of the newest {results.total:,}. "
                     "Add words or a filter (`status:`, `#category`, `since:`) to narrow it.")
    return notes


def match_text(match: SearchMatch) -> str:
    """`*C-42* 🟠 high · #billing · open · <@U1> · logged <date>` and the snippet under it."""
    parts = [f"*{match.reference}* {SEVERITY_ICON.get(match.severity, '')} {match.severity}", f"#{match.category}",
             match.status, f"<@{match.owner_id}>", f"logged {slack_date(match.created_at)}"]
    if match.resolved_at is not None:
        parts.append(f"resolved {slack_date(match.resolved_at)}")
    if match.customer_name:
        parts.append(escape(truncate(match.customer_name, 80)))
    snippet = escape(" ".join(match.snippet.split()))
    return " · ".join(parts) + (f"\n> {truncate(snippet, 300)}" if snippet else "")


def search_results(results: SearchResults, *, more_action: Action = Action.SEARCH_MORE) -> list[dict]:
    """The page of results, notes on what was searched, and More when there is more
    (`more_action`: the More of a message, or of the App Home)."""
    blocks = [section(f"*{search_summary(results)}*")]
    notes = _notes(results)
    if notes:
        blocks.append({"type": "context", "elements": [mrkdwn(truncate(" ".join(notes), 3000))]})
    texts = [match_text(match) for match in results.matches]
    # One section per complaint; a page bigger than the message allows shares sections.
    per_section = max(1, -(-len(texts) // MATCH_BLOCKS))
    blocks += [section("\n\n".join(texts[i:i + per_section])) for i in range(0, len(texts), per_section)]
    value = more_value(results.query.as_text(), results.page + 1) if results.has_more else None
    if value is not None:
        blocks.append({"type": "actions", "block_id": Block.SEARCH_MORE,
                       "elements": [button(more_action, "More", value)]})
    return blocks
