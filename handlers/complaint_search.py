"""`/complaint search …`, `/complaint list resolved|waiting|merged` and the More button
under search results: parse the query, search in the domain (bot/complaint_search.py),
render with handlers/complaint_search_views.py."""

from __future__ import annotations

from slack_bolt import Ack, App, Respond

from bot.complaint_search import SearchQuery, parse_search, search_complaints
from bot.errors import UserFacingError
from bot.services import Services
from handlers import complaint_search_views as views
from handlers.ids import Action
from handlers.messaging import guarded

PAGE_SIZE = 10


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
