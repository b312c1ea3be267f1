"""The real bot running in-process, driven by requests signed exactly as Slack signs them.

Used by `servicedesk console` (try the bot with no workspace) and by the end-to-end
tests, so both exercise the same path a real Slack request takes:

* `SignedClient` builds Slack-shaped requests (slash commands, button clicks, modal
  submissions, shortcuts, events) and signs them (v0 HMAC-SHA256 over
  `v0:timestamp:body`);
* `LoopbackDesk` serves the WSGI app that gunicorn serves, on a threaded local HTTP
  server, with a listener executor that can wait until the work each listener does
  after `ack()` is finished.

The Web API side is `bot.app.console.slack_emulator.SlackEmulator`.
"""

from __future__ import annotations

import itertools
import json
import secrets
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from socketserver import ThreadingMixIn
from typing import Any
from urllib.error import HTTPError
from urllib.parse import urlencode
from urllib.request import Request, urlopen
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from slack_sdk.signature import SignatureVerifier

from bot.app.factory import create_app
from bot.app.logs import ContextExecutor
from bot.app.metrics_endpoint import metrics_endpoint
from bot.services import build_services
from bot.clock import Clock
from bot.config import Settings
from bot.scheduler import run_jobs
from bot.app.server import make_wsgi_app, web_side
from models.db import make_engine, session_factory

TEAM = "T0SERVICE"
BUTTON_BLOCK = "complaint_actions"


class TrackingExecutor(ContextExecutor):
    """Runs listeners like the app's own executor, and can wait until they are done."""

    def __init__(self) -> None:
        super().__init__(max_workers=8)
        self._pending: set[Future] = set()
        self._lock = threading.Lock()

    def submit(self, fn, /, *args, **kwargs) -> Future:
        future = super().submit(fn, *args, **kwargs)
        with self._lock:
            self._pending.add(future)
        future.add_done_callback(self._forget)
        return future

    def _forget(self, future: Future) -> None:
        with self._lock:
            self._pending.discard(future)

    # `/desk digest` draws its chart after ack(); matplotlib's first import alone took 16 s
    # on a 2-core machine shared by several test runs (load average 30), so allow for that.
    def wait_idle(self, timeout: float = 45.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if not self._pending:
                    return
            time.sleep(0.005)
        raise TimeoutError("listeners still running after ack()")


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8")

    def json(self) -> Any:
        return json.loads(self.body or b"null")

    def header(self, name: str) -> str:
        return next((v for k, v in self.headers.items() if k.lower() == name.lower()), "")


@dataclass
class SignedClient:
    base_url: str
    signing_secret: str
    response_url: str
    # Who is acting, and in which channel, unless a request says otherwise.
    user: str = ""
    channel: str = ""
    # Called with every reply (tests check ack bodies against Slack's rules).
    on_reply: Callable[[Reply], None] | None = None
    # Slack never repeats a trigger, view or event ID, and the request de-duplication
    # keys on them: so neither may a later client (the next console session on the same
    # database), hence a random part per client before the count.
    _run: str = field(default_factory=lambda: secrets.token_hex(5).upper())
    _ids: itertools.count = field(default_factory=lambda: itertools.count(1))

    def next_id(self, prefix: str) -> str:
        return f"{prefix}{self._run}{next(self._ids):06d}"

    # ----- the raw request -------------------------------------------------------------
    def post(
        self,
        body: str,
        *,
        content_type: str = "application/x-www-form-urlencoded",
        timestamp: int | None = None,
        signature: str | None = None,
        headers: dict[str, str] | None = None,
        path: str = "/slack/events",
    ) -> Reply:
        timestamp = int(time.time()) if timestamp is None else timestamp
        if signature is None:
            signature = SignatureVerifier(self.signing_secret).generate_signature(timestamp=str(timestamp), body=body)
        all_headers = {
            "Content-Type": content_type,
            "X-Slack-Request-Timestamp": str(timestamp),
            "X-Slack-Signature": signature,
            **(headers or {}),
        }
        # An empty header value means "leave the header out" (tests of missing headers).
        all_headers = {name: value for name, value in all_headers.items() if value}
        return self._send(Request(self.base_url + path, data=body.encode("utf-8"), headers=all_headers, method="POST"))

    def get(self, path: str, *, headers: dict[str, str] | None = None) -> Reply:
        return self._send(Request(self.base_url + path, headers=headers or {}, method="GET"))

    def _send(self, request: Request) -> Reply:
        try:
            with urlopen(request, timeout=10) as response:
                reply = Reply(response.status, dict(response.headers), response.read())
        except HTTPError as error:
            return Reply(error.code, dict(error.headers), error.read())
        if self.on_reply:
            self.on_reply(reply)
        return reply

    # ----- Slack-shaped requests -----------------------------------------------------------
    @staticmethod
    def _user(user: str) -> dict:
        return {"id": user, "username": user.lower(), "name": user.lower(), "team_id": TEAM}

    def command_body(self, text: str, *, user: str, command: str, channel: str) -> str:
        return urlencode({
            "token": "legacy-verification-token", "team_id": TEAM, "team_domain": "service",
            "channel_id": channel, "channel_name": "general", "user_id": user,
            "user_name": user.lower(), "command": command, "text": text, "api_app_id": "A0SERVICE",
            "is_enterprise_install": "false", "response_url": self.response_url,
            "trigger_id": self.next_id("13345224609.738474920.trigger"),
        })

    def command(self, text: str = "", *, command: str = "/complaint", user: str | None = None,
                channel: str | None = None, headers: dict[str, str] | None = None) -> Reply:
        body = self.command_body(text, user=user or self.user, command=command, channel=channel or self.channel)
        return self.post(body, headers=headers)

    def interactive(self, payload: dict, **kwargs) -> Reply:
        return self.post(urlencode({"payload": json.dumps(payload)}), **kwargs)

    def action(self, action_id: str, value: str = "", *, user: str | None = None, channel: str | None = None,
               message_ts: str = "", block_id: str = BUTTON_BLOCK, trigger_id: str | None = None) -> Reply:
        user, channel = user or self.user, channel or self.channel
        return self.interactive({
            "type": "block_actions", "team": {"id": TEAM, "domain": "service"}, "user": self._user(user),
            "api_app_id": "A0SERVICE", "token": "legacy-verification-token",
            "container": {"type": "message", "message_ts": message_ts, "channel_id": channel, "is_ephemeral": False},
            "trigger_id": trigger_id or self.next_id("13345224609.738474920.trigger"),
            "channel": {"id": channel, "name": "complaints"},
            "message": {"type": "message", "ts": message_ts, "text": "", "blocks": []},
            "response_url": self.response_url,
            "actions": [{
                "type": "button", "action_id": action_id, "block_id": block_id, "value": value,
                "text": {"type": "plain_text", "text": action_id}, "action_ts": f"{time.time():.6f}",
            }],
        })

    def submit_view(self, view: dict, values: dict[str, str], *, user: str | None = None,
                    view_id: str | None = None) -> Reply:
        """Submit `view` (as the bot opened it) with `values` typed into its inputs, by block_id."""
        state = {}
        for block in view.get("blocks", []):
            if block.get("type") != "input":
                continue
            element = block["element"]
            value = values.get(block["block_id"])
            state[block["block_id"]] = {element["action_id"]: element_state(element, value)}
        return self.interactive({
            "type": "view_submission", "team": {"id": TEAM, "domain": "service"}, "user": self._user(user or self.user),
            "api_app_id": "A0SERVICE", "token": "legacy-verification-token",
            "trigger_id": self.next_id("13345224609.738474920.trigger"),
            "view": {
                "id": view_id or self.next_id("VSUBMIT"), "team_id": TEAM, "type": view.get("type", "modal"),
                "callback_id": view.get("callback_id", ""), "private_metadata": view.get("private_metadata", ""),
                "blocks": view.get("blocks", []), "state": {"values": state}, "hash": "156772938.1827394",
                "title": view.get("title"), "app_id": "A0SERVICE", "bot_id": "B0SERVICE",
            },
            "response_urls": [],
        })

    def message_shortcut(self, callback_id: str, message: dict, *, user: str | None = None,
                         channel: str | None = None) -> Reply:
        return self.interactive({
            "type": "message_action", "callback_id": callback_id, "team": {"id": TEAM, "domain": "service"},
            "user": self._user(user or self.user), "channel": {"id": channel or self.channel, "name": "general"},
            "message": message,
            "message_ts": message.get("ts", ""), "response_url": self.response_url,
            "trigger_id": self.next_id("13345224609.738474920.trigger"), "token": "legacy-verification-token",
        })

    def event(self, event: dict, *, event_id: str | None = None, retry_num: int | None = None) -> Reply:
        headers = {}
        if retry_num is not None:
            headers = {"X-Slack-Retry-Num": str(retry_num), "X-Slack-Retry-Reason": "http_timeout"}
        body = {
            "token": "legacy-verification-token", "team_id": TEAM, "api_app_id": "A0SERVICE",
            "event": event, "type": "event_callback", "event_id": event_id or self.next_id("Ev"),
            "event_time": int(time.time()),
            "authorizations": [{"team_id": TEAM, "user_id": "UBOTSELF01", "is_bot": True, "is_enterprise_install": False}],
        }
        return self.post(json.dumps(body), content_type="application/json", headers=headers)


def element_state(element: dict, value: str | None) -> dict:
    """The `state.values` entry Slack sends for an input `element` holding `value`."""
    kind = element["type"]
    if kind == "static_select":
        return {"type": kind, "selected_option": _option(element, value) if value else None}
    if kind == "users_select":
        return {"type": kind, "selected_user": value}
    if kind == "multi_users_select":
        return {"type": kind, "selected_users": value.split(",") if value else []}
    return {"type": kind, "value": value}


def _option(element: dict, value: str) -> dict:
    for option in element.get("options", []):
        if option["value"] == value:
            return option
    choices = ", ".join(option["value"] for option in element.get("options", []))
    raise ValueError(f"{value!r} is not one of the choices ({choices})")


class _ThreadingWSGIServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, *args) -> None:
        pass


class LoopbackDesk:
    """One running servicedesk (app, HTTP server, database) and a client signed for it."""

    def __init__(self, settings: Settings, *, clock: Clock, response_url: str, user: str = "", channel: str = "",
                 on_reply: Callable[[Reply], None] | None = None) -> None:
        self.settings = settings
        self.clock = clock
        self.engine = make_engine(settings.database_url)
        self.open_session = session_factory(self.engine)
        self.executor = TrackingExecutor()
        self.app, self.services = create_app(
            settings, services=build_services(settings, engine=self.engine, clock=clock, publisher=self.executor),
            listener_executor=self.executor,
        )
        self._server = make_server(
            "127.0.0.1", 0,
            make_wsgi_app(self.app, self.engine, signing_secret=settings.slack_signing_secret,
                          metrics=metrics_endpoint(self.services), web=web_side(self.app, self.services)),
            server_class=_ThreadingWSGIServer, handler_class=_QuietHandler,
        )
        threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True, name="desk-http"
        ).start()
        self.client = SignedClient(
            base_url=f"http://127.0.0.1:{self._server.server_address[1]}",
            signing_secret=settings.slack_signing_secret,
            response_url=response_url,
            user=user,
            channel=channel,
            on_reply=on_reply,
        )

    def tick(self) -> None:
        """One scheduler tick at the clock's time: send whatever reminders and digests are due."""
        run_jobs(self.services.scheduled_jobs)

    def settle(self) -> None:
        """Wait until every listener finished the work it does after ack(), publishing included."""
        self.executor.wait_idle()

    def stop(self) -> None:
        self.settle()
        self._server.shutdown()
        self._server.server_close()
        self.executor.shutdown(wait=True)
        for engine in {self.engine, self.services.report_engine}:
            engine.dispose()
