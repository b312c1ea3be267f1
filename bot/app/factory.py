"""The app factory: one Bolt app per call, wired to its database and Web API client."""

from __future__ import annotations

import json
from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import replace

from slack_bolt import App, BoltRequest, BoltResponse
from slack_bolt.middleware import Middleware
from slack_sdk import WebClient
from sqlalchemy.engine import Engine

from bot.app.listener_metrics import count_and_time, count_failure
from bot.app.logs import ContextExecutor
from bot.app.respond import PooledRespond
from bot.app.slack_auth import BotAuthorization
from bot.clock import Clock, system_clock
from bot.config import Settings
from bot.services import Services, build_services, logger, make_client
from bot.web_api_client import PooledWebClient
from handlers import (
    complaint_search, complaints, desk, digest, home, knowledge, knowledge_review, kudos, owner_notice, privacy,
    quality_index, reminders, surveys,
)
from handlers.messaging import apology
from handlers.users import UserDirectory

LISTENER_THREADS = 32
# Every capability's listeners; the timed ones (reminders, digest) add scheduled jobs.
HANDLERS = (
    complaints, complaint_search, owner_notice, knowledge, knowledge_review, kudos, desk, home, reminders, digest,
    quality_index, privacy, surveys,
)


def create_app(
    settings: Settings,
    *,
    client: WebClient | None = None,
    engine: Engine | None = None,
    clock: Clock = system_clock,
    services: Services | None = None,
    listener_executor: Executor | None = None,
    signed_upstream: bool = False,
) -> tuple[App, Services]:
    """Build a Bolt app with every listener registered; nothing is global. Returns it
    with the services its listeners were given (holding the app's one directory of
    people and the scheduled jobs), for the web side served beside it.

    `listener_executor` runs listeners (and the work they do after `ack()`); tests
    pass one they can wait on.

    `signed_upstream`: every request reaches the app through `bot.app.inbound.slack_request`
    (`make_wsgi_app`), which has checked its signature and timestamp already, so Bolt
    does not check them a second time (an HMAC over the body per request).
    """
    if listener_executor is None:
        # Listeners call Slack's Web API after acking, which takes a network round trip
        # or more; Bolt's default of 5 threads would make new requests wait for those
        # calls before they can even be acknowledged. Each runs in the request's context
        # (its log lines carry the request's id).
        listener_executor = ContextExecutor(max_workers=LISTENER_THREADS, thread_name_prefix="listener")
    services = services or build_services(settings, engine=engine, clock=clock)
    client = client or make_client(settings, services.pacer)
    app = App(
        client=client,
        signing_secret=settings.slack_signing_secret,
        request_verification_enabled=not signed_upstream,
        authorize=BotAuthorization(client),
        # The HTTP answer leaves when the listener returns, with no 10 ms polling for
        # the ack; handlers.messaging.guarded moves what follows the ack off the
        # request's thread.
        process_before_response=True,
        logger=logger,
        listener_executor=listener_executor,
    )
    app.use(CountedWithSharedClient(app.client))
    services = replace(services, people=UserDirectory(app.client))
    for handler in HANDLERS:
        handler.register(app, services)
    app.error(answer_failed_request)
    return app, services


class CountedWithSharedClient(Middleware):
    """The one global middleware: counts and times each request (bot/app/listener_metrics.py)
    and gives listeners the app's own client rather than Bolt's new one per request, so
    every call goes over the app's kept-alive connections and honours its pace. Safe: the
    token never changes (one workspace), and the client's pool is made for threads. So
    does `respond` (bot/app/respond.py). One middleware, not two, and a `Middleware`
    object rather than a function: Bolt works out a function's arguments by name on every
    request.
    """

    def __init__(self, client: WebClient) -> None:
        self._client = client
        self._pooled = isinstance(client, PooledWebClient)

    def process(self, *, req: BoltRequest, resp: BoltResponse, next: Callable[[], BoltResponse]) -> None:  # noqa: A002 — Bolt's name
        context = req.context
        context["client"] = self._client
        if self._pooled and context.response_url:
            context["respond"] = PooledRespond(response_url=context.response_url, client=self._client)
        count_and_time(req.body, context, next)


def answer_failed_request(error: Exception, body: dict, response: BoltResponse | None) -> BoltResponse | None:
    """Bolt's answer when a listener or middleware raises: a polite one, never an empty 500.

    A slash command shows the apology to the person; a form keeps its values and shows
    it beside the first field; anything else gets a plain 400. After `ack()` Slack has
    had its answer already (`response` is None) and the log is all there is.
    """
    kind = body.get("command") or body.get("type") or "request"
    count_failure(body)
    logger.error("could not handle a %s: %s", kind, error, exc_info=error)
    if response is None:
        return None
    sorry = apology(error)
    if body.get("command"):
        return BoltResponse(status=200, body=f":warning: {sorry}")
    first_input = next(
        (block.get("block_id") for block in (body.get("view") or {}).get("blocks") or []
         if isinstance(block, dict) and block.get("type") == "input" and block.get("block_id")),
        None,
    )
    if body.get("type") == "view_submission" and first_input:
        errors = {"response_action": "errors", "errors": {first_input: sorry}}
        return BoltResponse(status=200, body=json.dumps(errors), headers={"content-type": "application/json"})
    return BoltResponse(status=400, body="")
