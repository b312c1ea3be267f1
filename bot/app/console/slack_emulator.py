"""A local stand-in for Slack's Web API, for the console and the tests.

It listens on 127.0.0.1 (port 0 by default), answers the Web API methods the bot
uses with Slack-shaped responses, keeps the messages it was sent (so `chat.update`
really updates them), records every call with its arguments, and records *problems*:

* a method or argument that Slack's OpenAPI spec does not know, or a required
  argument that is missing (when a spec file is given);
* Block Kit that slack_sdk's own models reject, or that breaks Slack's limits;
* text that would ping a whole channel (`<!channel>`, `<!here>`, `<!everyone>`).

Faults can be injected to prove the bot copes with them (slack_faults.py): a method
failing, stalling, or acting and then cutting the connection unanswered, or the whole
Web API at once; `refuse_connections()` stops accepting any connection until
`accept_connections()`.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import re
import secrets
import socket
import sys
import threading
import time
from dataclasses import dataclass, field
from functools import lru_cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from bot.app.console.blockkit import block_kit_problems
from bot.app.console.slack_faults import FaultControls

# Methods newer than the 2020 OpenAPI spec (see shared/slack/SOURCE.md), with their
# arguments as slack_sdk sends them.
EXTRA_METHODS = {
    "apps.connections.open": (set(), set()),
    "files.getUploadURLExternal": ({"filename", "length"}, {"filename", "length", "alt_txt", "snippet_type"}),
    "files.completeUploadExternal": (
        {"files"},
        {"files", "channel_id", "channels", "initial_comment", "thread_ts"},
    ),
}
JSON_ARGUMENTS = {"blocks", "view", "attachments", "files", "metadata"}
# slack_sdk adds `team_id` to every call made from a request's context (org-wide apps).
ALWAYS_ALLOWED = {"team_id"}
PING = re.compile(r"<!(channel|here|everyone)(\|[^>]*)?>")


@dataclass
class ApiCall:
    method: str
    args: dict[str, Any]
    token: str | None
    at: float = field(default_factory=time.time)


@lru_cache(maxsize=4)
def load_contract(spec_path: str) -> dict[str, tuple[set[str], set[str]]]:
    """method -> (required argument names, allowed argument names), from the spec."""
    spec = json.loads(Path(spec_path).read_text(encoding="utf-8"))
    contract = {}
    for path, operations in spec["paths"].items():
        for operation in operations.values():
            params = [p for p in operation.get("parameters", []) if p.get("name") != "token"]
            contract[path.lstrip("/")] = (
                {p["name"] for p in params if p.get("required")},
                {p["name"] for p in params},
            )
    contract.update(EXTRA_METHODS)
    return contract


class _Server(ThreadingHTTPServer):
    # The default listen backlog of 5 drops connections when many bot threads call at
    # once, and a dropped SYN costs a 1 s retransmit: Slack itself does not do that.
    request_queue_size = 128

    def handle_error(self, request, client_address) -> None:
        # A caller that went away mid-answer (a bot process killed by the fault run) is no
        # problem of the emulator's; anything else is printed as usual.
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class SlackEmulator(FaultControls):
    def __init__(self, *, spec_path: str | Path | None = None, team_id: str = "T0SERVICE",
                 latency: float = 0.0) -> None:
        # Seconds each Web API answer takes, to play Slack across a network (benchmarks).
        self.latency = latency
        self.contract = load_contract(str(spec_path)) if spec_path else None
        self.team_id = team_id
        self.calls: list[ApiCall] = []
        self.problems: list[str] = []
        self.users: dict[str, dict] = {}
        self.messages: dict[tuple[str, str], dict] = {}
        self.members: dict[str, list[str]] = {}
        self.uploads: dict[str, bytes] = {}
        self._init_faults()
        self._port = 0
        # IDs Slack would never repeat, even for another emulator on the same database.
        self._run = secrets.token_hex(5).upper()
        self._ids = itertools.count(1)
        self._last_ts = 0
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        # Open connections, and how many were ever accepted (keep-alive reuses them).
        self.connections: set[socket.socket] = set()
        self.connections_accepted = 0

    # ----- lifecycle -------------------------------------------------------------------
    def start(self, port: int = 0) -> SlackEmulator:
        self._listen(port)
        return self

    def _listen(self, port: int) -> None:
        emulator = self

        class Handler(BaseHTTPRequestHandler):
            # Keep-alive, as Slack's own servers: a client may send many calls over one
            # connection (and no Nagle delay between an answer's headers and its body).
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True

            def setup(self) -> None:
                super().setup()
                with emulator._lock:
                    emulator.connections.add(self.connection)
                    emulator.connections_accepted += 1

            def finish(self) -> None:
                with emulator._lock:
                    emulator.connections.discard(self.connection)
                super().finish()

            def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
                emulator._handle(self)

            do_GET = do_POST

            def log_message(self, *args) -> None:
                pass

        self._server = _Server(("127.0.0.1", port), Handler)
        self._server.daemon_threads = True
        self._port = self._server.server_address[1]
        threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True, name="slack-emulator"
        ).start()

    def stop(self) -> None:
        if self._server:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        with self._lock:
            kept_open = list(self.connections)
        for connection in kept_open:  # refused means refused, also on a kept-alive connection
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._port}"

    @property
    def api_url(self) -> str:
        return f"{self.base_url}/api/"

    def response_url(self, name: str = "hooks") -> str:
        return f"{self.base_url}/respond/{name}"

    # ----- test controls -----------------------------------------------------------------
    def add_user(self, user_id: str, name: str, *, is_bot: bool = False, deleted: bool = False) -> None:
        self.users[user_id] = {
            "id": user_id, "team_id": self.team_id, "name": name.lower(), "real_name": name,
            "deleted": deleted, "is_bot": is_bot, "tz": "Europe/London",
            "profile": {"display_name": name, "real_name": name},
        }

    def add_message(self, channel: str, text: str, *, user: str) -> str:
        """A message a person posted (not the bot); returns its ts."""
        ts = self._next_ts()
        with self._lock:
            self.messages[(channel, ts)] = {"type": "message", "user": user, "ts": ts, "text": text}
        return ts

    def refuse_connections(self) -> None:
        """Stop listening: connections are refused (what was recorded is kept)."""
        self.stop()

    def accept_connections(self) -> None:
        """Listen again, on the same port."""
        self._listen(self._port)

    def calls_to(self, method: str) -> list[ApiCall]:
        with self._lock:
            return [call for call in self.calls if call.method == method]

    def wait_for(self, method: str, count: int = 1, timeout: float = 5.0) -> list[ApiCall]:
        """Poll until `count` calls to `method` arrived (the bot works after ack())."""
        deadline = time.monotonic() + timeout
        while True:
            calls = self.calls_to(method)
            if len(calls) >= count or time.monotonic() > deadline:
                return calls
            time.sleep(0.01)

    def reset(self) -> None:
        with self._lock:
            self.calls.clear()
            self.problems.clear()

    # ----- the HTTP side -------------------------------------------------------------------
    def _handle(self, request: BaseHTTPRequestHandler) -> None:
        declared = int(request.headers.get("Content-Length") or 0)
        raw = request.rfile.read(declared)
        if len(raw) < declared:  # the caller died mid-request (a fault run's SIGKILL): no call was made
            request.close_connection = True
            return None
        path = request.path.split("?", 1)[0]
        if path == "/socket-mode":
            return self._send(request, 404, {"ok": False, "error": "no_websocket_here"})
        if path.startswith("/upload/"):
            self.uploads[path.rsplit("/", 1)[1]] = raw
            return self._send(request, 200, {"ok": True}, text="OK - " + str(len(raw)))
        args = self._parse_args(request.headers.get("Content-Type", ""), raw, request.path)
        if path.startswith("/respond/"):
            self._record("response_url", args, None)
            return self._send(request, 200, {"ok": True}, text="ok")
        method = path.removeprefix("/api/")
        token = (request.headers.get("Authorization") or "").removeprefix("Bearer ") or args.pop("token", None)
        self._record(method, args, token)
        faults = self._take_faults(method)
        if faults.stall:
            faults.stall.hold()
        elif faults.stall_seconds:
            time.sleep(faults.stall_seconds)
        if failure := faults.failure:
            headers = {"Retry-After": str(failure.retry_after)} if failure.retry_after is not None else {}
            return self._send(request, failure.status, {"ok": False, "error": failure.error}, headers=headers)
        if self.latency:
            time.sleep(self.latency)
        answer = self._respond(method, args)
        if faults.cut:  # acted on, and the connection closed before any answer
            request.close_connection = True
            return None
        self._send(request, 200, answer)

    @staticmethod
    def _parse_args(content_type: str, raw: bytes, full_path: str) -> dict[str, Any]:
        if "json" in content_type:
            args = json.loads(raw or b"{}")
        else:
            query = raw.decode("utf-8") or full_path.partition("?")[2]
            args = {key: values[-1] for key, values in parse_qs(query, keep_blank_values=True).items()}
        for name in JSON_ARGUMENTS & args.keys():
            if isinstance(args[name], str):
                try:
                    args[name] = json.loads(args[name])
                except ValueError:
                    pass
        return args

    @staticmethod
    def _send(request, status: int, body: dict, *, headers: dict | None = None, text: str | None = None) -> None:
        payload = (text if text is not None else json.dumps(body)).encode()
        request.send_response(status)
        request.send_header("Content-Type", "text/plain" if text is not None else "application/json")
        request.send_header("Content-Length", str(len(payload)))
        for name, value in (headers or {}).items():
            request.send_header(name, value)
        request.end_headers()
        request.wfile.write(payload)

    def _record(self, method: str, args: dict, token: str | None) -> None:
        problems = self._check(method, args, token)
        with self._lock:
            self.calls.append(ApiCall(method, args, token))
            self.problems.extend(f"{method}: {problem}" for problem in problems)

    def _check(self, method: str, args: dict, token: str | None) -> list[str]:
        problems = []
        if method != "response_url":
            if not token:
                problems.append("no token sent")
            if self.contract is not None:
                if method not in self.contract:
                    problems.append("not a Slack Web API method")
                else:
                    required, allowed = self.contract[method]
                    problems += [f"missing required argument {name!r}" for name in sorted(required - args.keys())]
                    problems += [f"unknown argument {name!r}" for name in sorted(args.keys() - allowed - ALWAYS_ALLOWED)]
        if args.get("link_names") not in (None, False, "0", "false", 0):
            problems.append("link_names would turn @here in user text into a ping")
        if PING.search(json.dumps(args, ensure_ascii=False)):
            problems.append("text would ping a whole channel: " + PING.search(json.dumps(args)).group(0))
        if "view" in args:
            problems += block_kit_problems(view=args["view"])
        elif "blocks" in args:
            problems += block_kit_problems(blocks=args["blocks"])
        return problems

    # ----- Slack-shaped answers ------------------------------------------------------------
    def _next_ts(self) -> str:
        """A message timestamp as Slack writes them (seconds.microseconds), later than any
        this emulator gave before, so messages of successive sessions never share one."""
        with self._lock:
            self._last_ts = max(time.time_ns() // 1000, self._last_ts + 1)
            seconds, micros = divmod(self._last_ts, 1_000_000)
        return f"{seconds}.{micros:06d}"

    def _next_id(self, prefix: str) -> str:
        return f"{prefix}{self._run}{next(self._ids):06d}"

    def _respond(self, method: str, args: dict) -> dict:
        channel = args.get("channel", "")
        if method == "chat.postMessage":
            channel = "D" + channel[1:] if channel.startswith(("U", "W")) else channel
            ts = self._next_ts()
            message = {"type": "message", "ts": ts, "text": args.get("text", ""), "blocks": args.get("blocks", [])}
            if args.get("thread_ts"):
                message["thread_ts"] = args["thread_ts"]
            with self._lock:
                self.messages[(channel, ts)] = message
            return {"ok": True, "channel": channel, "ts": ts, "message": message}
        if method == "chat.update":
            with self._lock:
                message = self.messages.get((channel, args.get("ts", "")))
                if message is None:
                    return {"ok": False, "error": "message_not_found"}
                message.update(text=args.get("text", ""), blocks=args.get("blocks", []))
            return {"ok": True, "channel": channel, "ts": args["ts"], "text": args.get("text", "")}
        if method == "chat.delete":
            with self._lock:
                if self.messages.pop((channel, args.get("ts", "")), None) is None:
                    return {"ok": False, "error": "message_not_found"}
            return {"ok": True, "channel": channel, "ts": args["ts"]}
        if method == "conversations.history":
            # Newest first, at or before `latest`, as Slack pages them; replies in a thread
            # are not in the channel's history (conversations.replies has them).
            # The cursor (opaque to callers) is the last ts of the page before.
            latest, oldest = float(args.get("latest") or "inf"), float(args.get("oldest") or 0)
            before = float(args.get("cursor") or "inf")
            with self._lock:
                found = sorted(
                    (m for (c, ts), m in self.messages.items()
                     if c == channel and oldest <= float(ts) <= latest and float(ts) < before
                     and m.get("thread_ts", ts) == ts),
                    key=lambda m: float(m["ts"]), reverse=True,
                )
            page = found[: int(args.get("limit") or 100)]
            more = len(found) > len(page)
            return {"ok": True, "messages": page, "has_more": more,
                    "response_metadata": {"next_cursor": page[-1]["ts"] if more else ""}}
        if method == "conversations.members":
            if channel not in self.members:
                return {"ok": False, "error": "channel_not_found"}
            return {"ok": True, "members": self.members[channel], "response_metadata": {"next_cursor": ""}}
        if method == "chat.postEphemeral":
            return {"ok": True, "message_ts": self._next_ts()}
        if method == "chat.getPermalink":
            ts = args.get("message_ts", "").replace(".", "")
            return {"ok": True, "channel": channel, "permalink": f"https://example.slack.com/archives/{channel}/p{ts}"}
        if method.startswith("views."):
            view = dict(args.get("view") or {}, id=self._next_id("V"), team_id=self.team_id)
            return {"ok": True, "view": view}
        if method == "users.info":
            user = self.users.get(args.get("user", ""))
            return {"ok": True, "user": user} if user else {"ok": False, "error": "user_not_found"}
        if method == "conversations.open":
            return {"ok": True, "channel": {"id": "D" + args.get("users", "U")[1:]}}
        if method == "files.getUploadURLExternal":
            file_id = self._next_id("F")
            return {"ok": True, "upload_url": f"{self.base_url}/upload/{file_id}", "file_id": file_id}
        if method == "files.completeUploadExternal":
            files = args.get("files") or []
            return {"ok": True, "files": [{"id": f.get("id"), "title": f.get("title", "")} for f in files]}
        if method == "apps.connections.open":
            # Socket Mode: no WebSocket server here, so the client keeps retrying.
            return {"ok": True, "url": f"ws://127.0.0.1:{self._port}/socket-mode"}
        if method == "auth.test":
            return {"ok": True, "team_id": self.team_id, "user_id": "UBOT", "bot_id": "BBOT"}
        return {"ok": True}
