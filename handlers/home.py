"""The App Home tab: my open complaints with their SLA state, kudos I received, quick
actions; managers also see the team's SLA breaches. Search complaints opens a form for
the same search as `/complaint search` (handlers/complaint_search.py), whose results,
and their pages (More), are published on the tab above the rest.
"""

from __future__ import annotations

import logging

from slack_bolt import Ack, App
from slack_sdk import WebClient

from bot import complaints as complaint_service
from bot import kudos as kudos_service
from bot.errors import UserFacingError
from bot.services import Services
from bot.sla import breached_open, sla_status
from handlers import complaint_form_views, complaint_search, home_views, knowledge, kudos_views
from handlers.complaint_search_views import read_more_value
from handlers.forms import input_values
from handlers.home_views import HomeItem
from handlers.ids import Action, Block, Event, View
from handlers.messaging import guarded
from models.complaints import Complaint

logger = logging.getLogger(__name__)

class HomeListeners:
    def __init__(self, services: Services) -> None:
        self.services = services

    def on_home_opened(self, event: dict, client: WebClient) -> None:
        if event.get("tab", "home") != "home" or not event.get("user"):
            return
        client.views_publish(user_id=event["user"], view=self.view_for(event["user"]))

    def view_for(self, user_id: str, *, search: list[dict] | None = None, searched: str = "") -> dict:
        settings, now = self.services.settings, self.services.clock()

        def item(complaint: Complaint) -> HomeItem:
            return HomeItem(complaint, sla_status(complaint, now=now, targets=settings.targets, due_soon=settings.due_soon))

        with self.services.open_session() as session:
            mine, mine_total = complaint_service.list_complaints(session, owner_id=user_id, limit=home_views.HOME_LIST_LIMIT)
            kudos = [kudos_views.received_line(gift) for gift in kudos_service.received_recently(session, user_id=user_id)]
            breaches, breaches_total = None, 0
            if self.services.permissions.is_manager(user_id):
                breached, breaches_total = breached_open(
                    session, now=now, targets=settings.targets, limit=home_views.HOME_LIST_LIMIT
                )
                breaches = [item(c) for c in breached]
        return home_views.home_view(
            mine=[item(c) for c in mine], mine_total=mine_total, kudos=kudos,
            breaches=breaches, breaches_total=breaches_total, search=search or (), searched=searched,
        )

    def on_log(self, ack: Ack, body: dict, client: WebClient) -> None:
        ack()
        client.views_open(
            trigger_id=body["trigger_id"],
            view=complaint_form_views.log_complaint_modal(
                categories=self.services.settings.complaint_categories, reporter_id=body["user"]["id"],
            ),
        )

    def on_search(self, ack: Ack, body: dict, client: WebClient) -> None:
        ack()
        client.views_open(trigger_id=body["trigger_id"], view=home_views.search_modal())

    # ----- complaint search on the tab: the same search as `/complaint search` ---------------
    def on_search_complaints(self, ack: Ack, body: dict, action: dict, client: WebClient) -> None:
        ack()
        typed = home_views.searched_from_button(action.get("value", ""))
        client.views_open(trigger_id=body["trigger_id"], view=home_views.complaint_search_modal(typed))

    def on_complaint_search_submitted(self, ack: Ack, body: dict, view: dict, client: WebClient) -> None:
        user_id = body["user"]["id"]
        typed = input_values(view).get(Block.QUERY, "")
        try:
            _, results = complaint_search.search_page(
                self.services, complaint_search.parse(self.services, typed), more_action=Action.HOME_SEARCH_MORE)
        except UserFacingError as exc:
            # The form stays open with what was typed, the problem beside it.
            ack(response_action="errors", errors={Block.QUERY: str(exc)[:2000]})
            return
        ack()
        client.views_publish(user_id=user_id, view=self.view_for(user_id, search=results, searched=typed))

    def on_search_more(self, ack: Ack, body: dict, action: dict, client: WebClient) -> None:
        ack()
        user_id = body["user"]["id"]
        typed = ""
        try:
            typed, page = read_more_value(action.get("value", ""))
            _, results = complaint_search.search_page(
                self.services, complaint_search.parse(self.services, typed), page=page,
                more_action=Action.HOME_SEARCH_MORE)
        except UserFacingError as exc:
            results = home_views.search_problem(str(exc))
        client.views_publish(user_id=user_id, view=self.view_for(user_id, search=results, searched=typed))

    def on_search_submitted(self, ack: Ack, body: dict, view: dict) -> None:
        state = (view.get("state") or {}).get("values", {})
        query = ((state.get(Block.QUERY) or {}).get(Action.INPUT) or {}).get("value") or ""
        results = knowledge.search_lines(self.services, query, user_id=body["user"]["id"])
        ack(response_action="update", view=home_views.search_results_modal(query, results))


def register(app: App, services: Services) -> None:
    listeners = HomeListeners(services)
    app.event(Event.APP_HOME_OPENED.value)(guarded(listeners.on_home_opened))
    app.action(Action.HOME_LOG.value)(guarded(listeners.on_log))
    app.action(Action.HOME_SEARCH_KB.value)(guarded(listeners.on_search))
    app.view(View.KB_SEARCH.value)(guarded(listeners.on_search_submitted))
    app.action(Action.HOME_SEARCH_COMPLAINTS.value)(guarded(listeners.on_search_complaints))
    app.view(View.COMPLAINT_SEARCH.value)(guarded(listeners.on_complaint_search_submitted))
    app.action(Action.HOME_SEARCH_MORE.value)(guarded(listeners.on_search_more))
