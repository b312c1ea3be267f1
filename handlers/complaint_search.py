"""`/complaint search …`, `/complaint list …` and the More button under search results:
parse the query, search in the domain (bot/complaint_search.py), render with
handlers/complaint_search_views.py (and `list`'s open complaints with complaint_views)."""

from __future__ import annotations

from slack_bolt import Ack, App, Respond

from bot import complaints as service
from bot.complaint_search import SearchQuery, parse_search, search_complaints
from bot.complaint_text import Subcommand
from bot.errors import InvalidInput, UserFacingError
from bot.services import Services
from handlers import complaint_search_views as views
from handlers import complaint_views
from handlers.ids import Action
from handlers.messaging import guarded

PAGE_SIZE = 10
SUBCOMMANDS = ("search", "list")
# `list <word>` that pages through search results; `closed` is what many people call resolved.
LISTED_BY_SEARCH = {"resolved": "resolved", "closed": "resolved", "waiting": "waiting", "merged": "merged"}
# `list open` and `list all`: everyone's open complaints.
LISTED_OPEN = ("open", "all")


def listing(services: Services, sub: Subcommand, *, user_id: str) -> tuple[str, list[dict]]:
    """`/complaint search …` or `/complaint list [word]` as (notification text, blocks)."""
    if sub.name == "search":
        return search_page(services, parse(services, sub.rest))
    word = sub.args[0].lower() if sub.args else ""
    if word in LISTED_BY_SEARCH:
        return search_page(services, SearchQuery(status=LISTED_BY_SEARCH[word]))
    if word and word not in LISTED_OPEN:
        raise InvalidInput("List which complaints? `list` (yours), `list open`, `list waiting`, "
                           "`list resolved` or `list merged`; `search` finds any of them.")
    with services.open_session() as session:
        rows, total = service.list_complaints(session, owner_id=None if word else user_id)
    heading = "Open complaints" if word else "Your open complaints"
    return heading, complaint_views.complaint_list(rows, total, heading)


def search_page(services: Services, query: SearchQuery, *, page: int = 1,
                more_action: Action = Action.SEARCH_MORE) -> tuple[str, list[dict]]:
    """One page of results as (notification text, blocks); `more_action` is the More button's."""
    with services.open_session() as session:
        results = search_complaints(session, query=query, page=page, page_size=PAGE_SIZE, now=services.clock())
    return views.search_summary(results), views.search_results(results, more_action=more_action)


def parse(services: Services, text: str) -> SearchQuery:
    settings = services.settings
    return parse_search(text, categories=settings.complaint_categories, zone=settings.zone)


def register(app: App, services: Services) -> None:
    def on_more(ack: Ack, action: dict, respond: Respond) -> None:
        ack()
        try:
            query_text, page = views.read_more_value(action.get("value", ""))
            text, blocks = search_page(services, parse(services, query_text), page=page)
        except UserFacingError as exc:
            respond(text=f":warning: {exc}", replace_original=False)
            return
        respond(text=text, blocks=blocks, replace_original=True)

    app.action(Action.SEARCH_MORE.value)(guarded(on_more))
