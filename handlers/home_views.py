"""Block Kit for the App Home tab: a pure function of what the person should see."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bot.complaint_search_query import FILTER_HELP, MAX_QUERY_LENGTH
from bot.sla import SlaStatus
from handlers.blocks import button, plain, section
from handlers.complaint_views import SLA_ICON, title_line
from handlers.ids import Action, Block, View
from handlers.text import escape, truncate
from models.complaints import Complaint

HOME_LIST_LIMIT = 20
# The Search complaints button carries the last search, to refine it: `q:` and the text
# (a button's value may not be empty, and holds 2000 characters; a search is at most 500).
SEARCH_VALUE_PREFIX = "q:"


@dataclass(frozen=True)
class HomeItem:
    """A complaint as the Home tab lists it, with its SLA status."""

    complaint: Complaint
    sla: SlaStatus


def _line(item: HomeItem, *, with_owner: bool = False) -> str:
    complaint = item.complaint
    owner = f" · <@{complaint.owner_id}>" if with_owner else ""
    return (
        f"{SLA_ICON[item.sla.state]} *{complaint.reference}* {item.sla.state}{owner} · {title_line(complaint)}\n"
        f"      {escape(truncate(complaint.description, 150))}"
    )


def _list(heading: str, items: Sequence[HomeItem], total: int, empty: str, *, with_owner: bool = False) -> dict:
    if not items:
        return section(f"*{heading}*\n{empty}")
    more = f"\n…and {total - len(items)} more: `/complaint list`" if total > len(items) else ""
    return section(f"*{heading}* ({total})\n" + "\n".join(_line(i, with_owner=with_owner) for i in items) + more)


def home_view(
    *,
    mine: Sequence[HomeItem],
    mine_total: int,
    kudos: Sequence[str],
    breaches: Sequence[HomeItem] | None,
    breaches_total: int = 0,
    search: Sequence[dict] = (),
    searched: str = "",
) -> dict:
    """`breaches` is None for people who are not managers; `search` is a page of complaint
    search results (handlers/complaint_search_views.py) for `searched`, shown under the buttons."""
    blocks = [
        {"type": "header", "text": plain("Your service desk", 150)},
        {
            "type": "actions",
            "block_id": Block.HOME_ACTIONS,
            "elements": [
                button(Action.HOME_LOG, "Log a complaint", "log", "primary"),
                button(Action.HOME_SEARCH_COMPLAINTS, "Search complaints", search_button_value(searched)),
                button(Action.HOME_SEARCH_KB, "Search the knowledge base", "search"),
            ],
        },
        *search,
        *([{"type": "divider"}] if search else []),
        _list("My open complaints", mine[:HOME_LIST_LIMIT], mine_total, "Nothing open. 🎉"),
        section("*Kudos you received recently*\n" + ("\n".join(kudos) if kudos else "None yet.")),
    ]
    if breaches is not None:
        blocks.append({"type": "divider"})
        blocks.append(_list("Team SLA breaches", breaches[:HOME_LIST_LIMIT], breaches_total, "None. 👏", with_owner=True))
    return {"type": "home", "callback_id": View.HOME, "blocks": blocks}


def search_button_value(searched: str) -> str:
    return SEARCH_VALUE_PREFIX + truncate(searched, MAX_QUERY_LENGTH)


def searched_from_button(value: str) -> str:
    return value.removeprefix(SEARCH_VALUE_PREFIX) if value.startswith(SEARCH_VALUE_PREFIX) else ""


def complaint_search_modal(typed: str = "") -> dict:
    """Words and filters, as `/complaint search` takes them; `typed` is the last search, to refine."""
    element = {"type": "plain_text_input", "action_id": Action.INPUT, "max_length": MAX_QUERY_LENGTH,
               "placeholder": plain("refund twice status:open #billing", 150)}
    if typed:
        element["initial_value"] = truncate(typed, MAX_QUERY_LENGTH)
    return {
        "type": "modal",
        "callback_id": View.COMPLAINT_SEARCH,
        "title": plain("Search complaints", 24),
        "submit": plain("Search", 24),
        "close": plain("Close", 24),
        "blocks": [{
            "type": "input",
            "block_id": Block.QUERY,
            "label": plain("Words and filters", 2000),
            "hint": plain(FILTER_HELP.replace("`", ""), 2000),
            "element": element,
        }],
    }


def search_problem(problem: str) -> list[dict]:
    """In place of results, when a More button on the tab can't be followed."""
    return [section(f":warning: {problem}")]


def search_modal() -> dict:
    return {
        "type": "modal",
        "callback_id": View.KB_SEARCH,
        "title": plain("Knowledge base", 24),
        "submit": plain("Search", 24),
        "close": plain("Close", 24),
        "blocks": [{
            "type": "input",
            "block_id": Block.QUERY,
            "label": plain("What are you looking for?", 2000),
            "element": {"type": "plain_text_input", "action_id": Action.INPUT, "max_length": 500},
        }],
    }


def search_results_modal(query: str, results: Sequence[str]) -> dict:
    """`results` are mrkdwn lines from the knowledge base (already escaped)."""
    found = "\n".join(results[:10]) if results else "Nothing found. Try other words."
    view = search_modal()
    view["blocks"] = [section(f"*Results for* “{escape(truncate(query, 200))}”\n{found}"), *view["blocks"]]
    return view
