"""The end-to-end harness: the real app over HTTP, Slack faked only at the network edge.

* `SlackEmulator` (bot/slack_emulator.py) plays Slack's Web API and checks every call
  against Slack's OpenAPI spec and every Block Kit payload against slack_sdk's models.
* `SignedClient` sends requests into the running app signed exactly as Slack signs
  them (v0 HMAC-SHA256 over `v0:timestamp:body`), shaped like Slack's payloads.
* `Desk` is one running bot: the WSGI app (the same one gunicorn serves) on a
  threaded local HTTP server, its settings, database sessions and a clock tests move.

Listeners finish their work after `ack()`; `Desk.settle()` waits for that work, so
tests never sleep.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from socketserver import ThreadingMixIn
from typing import Any
from urllib.error import HTTPError
from urllib.parse import urlencode
from urllib.request import Request, urlopen
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from slack_sdk.signature import SignatureVerifier

from bot.app import create_app
from bot.blockkit import block_kit_problems
from bot.config import Settings
from bot.server import make_wsgi_app
from bot.slack_emulator import PING, SlackEmulator
from models.db import make_engine, session_factory

SIGNING_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
TEAM = "T0SERVICE"
ALICE, BOB, CAROL, MANAGER, ADMIN, BOT_USER, GONE = (
    "UALICE0001", "UBOB00002", "UCAROL0003", "UMANAGER04", "UADMIN0005", "UROBOT0006", "UGONE00007",
)
GENERAL, COMPLAINTS = "CGENERAL01", "CCOMPLAIN1"


def add_staff(slack: SlackEmulator) -> None:
    for user_id, name in ((ALICE, "Alice"), (BOB, "Bob"), (CAROL, "Carol"), (MANAGER, "Mona"), (ADMIN, "Adam")):
        slack.add_user(user_id, name)
    slack.add_user(BOT_USER, "Helperbot", is_bot=True)
    slack.add_user(GONE, "Gone", deleted=True)


class FakeClock:
    """A clock tests move by hand; aware UTC like the system clock."""

    def __init__(self, start: datetime = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


class TrackingExecutor(ThreadPoolExecutor):
    """Runs listeners like Bolt's default executor, and can wait until they are done."""

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

    def wait_idle(self, timeout: float = 10.0) -> None:
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


@dataclass
class SignedClient:
    base_url: str
    signing_secret: str
    response_url: str
    _ids: itertools.count = field(default_factory=lambda: itertools.count(1))

    def next_id(self, prefix: str) -> str:
        return f"{prefix}{next(self._ids):06d}"

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

    def get(self, path: str) -> Reply:
        return self._send(Request(self.base_url + path, method="GET"))

    @staticmethod
    def _send(request: Request) -> Reply:
        try:
            with urlopen(request, timeout=10) as response:
                reply = Reply(response.status, dict(response.headers), response.read())
        except HTTPError as error:
            return Reply(error.code, dict(error.headers), error.read())
        _check_ack(reply)
        return reply

    # ----- Slack-shaped requests -----------------------------------------------------------
    def command_body(self, text: str, *, user: str, command: str, channel: str) -> str:
        return urlencode({
            "token": "legacy-verification-token", "team_id": TEAM, "team_domain": "service",
            "channel_id": channel, "channel_name": "general", "user_id": user,
            "user_name": user.lower(), "command": command, "text": text, "api_app_id": "A0SERVICE",
            "is_enterprise_install": "false", "response_url": self.response_url,
            "trigger_id": self.next_id("13345224609.738474920.trigger"),
        })

    def command(self, text: str = "", *, user: str = ALICE, command: str = "/complaint",
                channel: str = GENERAL, headers: dict[str, str] | None = None) -> Reply:
        return self.post(self.command_body(text, user=user, command=command, channel=channel), headers=headers)

    def interactive(self, payload: dict, **kwargs) -> Reply:
        return self.post(urlencode({"payload": json.dumps(payload)}), **kwargs)

    def action(self, action_id: str, value: str = "", *, user: str = ALICE, channel: str = COMPLAINTS,
               message_ts: str = "", trigger_id: str | None = None) -> Reply:
        return self.interactive({
            "type": "block_actions", "team": {"id": TEAM, "domain": "service"},
            "user": {"id": user, "username": user.lower(), "name": user.lower(), "team_id": TEAM},
            "api_app_id": "A0SERVICE", "token": "legacy-verification-token",
            "container": {"type": "message", "message_ts": message_ts, "channel_id": channel, "is_ephemeral": False},
            "trigger_id": trigger_id or self.next_id("13345224609.738474920.trigger"),
            "channel": {"id": channel, "name": "complaints"},
            "message": {"type": "message", "ts": message_ts, "text": "", "blocks": []},
            "response_url": self.response_url,
            "actions": [{
                "type": "button", "action_id": action_id, "block_id": "complaint_actions", "value": value,
                "text": {"type": "plain_text", "text": action_id}, "action_ts": str(time.time()),
            }],
        })

    def submit_view(self, view: dict, values: dict[str, str], *, user: str = ALICE, view_id: str | None = None) -> Reply:
        """Submit `view` (as the bot opened it) with `values` typed into its inputs, by block_id."""
        state = {}
        for block in view.get("blocks", []):
            if block.get("type") != "input":
                continue
            element = block["element"]
            value = values.get(block["block_id"])
            state[block["block_id"]] = {element["action_id"]: _element_state(element, value)}
        return self.interactive({
            "type": "view_submission", "team": {"id": TEAM, "domain": "service"},
            "user": {"id": user, "username": user.lower(), "name": user.lower(), "team_id": TEAM},
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

    def message_shortcut(self, callback_id: str, message: dict, *, user: str = ALICE, channel: str = GENERAL) -> Reply:
        return self.interactive({
            "type": "message_action", "callback_id": callback_id, "team": {"id": TEAM, "domain": "service"},
            "user": {"id": user, "username": user.lower(), "name": user.lower(), "team_id": TEAM},
            "channel": {"id": channel, "name": "general"}, "message": message,
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


def _check_ack(reply: Reply) -> None:
    """An ack's body reaches Slack too: hold it to the same rules as Web API calls."""
    assert not PING.search(reply.text), f"the ack would ping a whole channel: {reply.text[:200]}"
    if not reply.headers.get("Content-Type", "").startswith("application/json"):
        return
    body = reply.json() or {}
    problems = []
    if "blocks" in body:
        problems += block_kit_problems(blocks=body["blocks"])
    if "view" in body:
        problems += block_kit_problems(view=body["view"])
    assert problems == [], f"the ack carries invalid Block Kit: {problems}"


def _element_state(element: dict, value: str | None) -> dict:
    kind = element["type"]
    if kind == "static_select":
        return {"type": kind, "selected_option": _option(element, value) if value else None}
    if kind == "users_select":
        return {"type": kind, "selected_user": value}
    if kind == "multi_users_select":
        return {"type": kind, "selected_users": (value or "").split(",") if value else []}
    return {"type": kind, "value": value}


def _option(element: dict, value: str) -> dict:
    for option in element.get("options", []):
        if option["value"] == value:
            return option
    raise AssertionError(f"{value!r} is not an option of {element.get('action_id')}")


class _ThreadingWSGIServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, *args) -> None:
        pass


class Desk:
    """One running servicedesk: app + HTTP server + database, for one test."""

    def __init__(self, settings: Settings, slack: SlackEmulator, clock: FakeClock) -> None:
        self.settings = settings
        self.slack = slack
        self.clock = clock
        self.engine = make_engine(settings.database_url)
        self.open_session = session_factory(self.engine)
        self.executor = TrackingExecutor()
        self.app = create_app(settings, engine=self.engine, clock=clock, listener_executor=self.executor)
        self._server = make_server(
            "127.0.0.1", 0, make_wsgi_app(self.app, self.engine),
            server_class=_ThreadingWSGIServer, handler_class=_QuietHandler,
        )
        threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True, name="desk-http"
        ).start()
        self.client = SignedClient(
            base_url=f"http://127.0.0.1:{self._server.server_address[1]}",
            signing_secret=settings.slack_signing_secret,
            response_url=slack.response_url(),
        )

    def settle(self) -> None:
        """Wait until every listener finished the work it does after ack()."""
        self.executor.wait_idle()

    def opened_view(self, index: int = -1) -> dict:
        return self.slack.calls_to("views.open")[index].args["view"]

    def stop(self) -> None:
        self.settle()
        self._server.shutdown()
        self._server.server_close()
        self.executor.shutdown(wait=True)
        self.engine.dispose()
