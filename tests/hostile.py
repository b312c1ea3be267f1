"""The hostile corpus: crafted requests sent as raw bytes, and the helpers that send them.

Used by tests/e2e/test_hostile_requests.py. Signatures are computed here independently
of the bot (Slack's v0 HMAC-SHA256 over `v0:timestamp:body`, on the raw bytes).
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import json
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlencode

from sqlalchemy import func, inspect, select, table
from sqlalchemy.engine import Engine

from bot.app.inbound import MAX_BODY_BYTES
from tests.harness import ALICE, COMPLAINTS, GENERAL, SIGNING_SECRET


QUICK = 1.0  # seconds; generous for a loaded machine (the target is 100 ms)
FORM = "application/x-www-form-urlencoded"


# ----- raw requests -----------------------------------------------------------------------
@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes
    seconds: float


def signed(body: bytes, *, secret: str = SIGNING_SECRET, timestamp: int | str | None = None) -> dict[str, str]:
    """Slack's v0 signature over the raw bytes, computed here independently of the bot."""
    timestamp = str(int(time.time()) if timestamp is None else timestamp)
    digest = hmac.new(secret.encode(), b"v0:" + timestamp.encode() + b":" + body, hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": timestamp, "X-Slack-Signature": f"v0={digest}"}


def send(host: str, port: int, method: str, path: str, body: bytes | None, headers: dict[str, str]) -> Answer:
    """One request exactly as given: no header is added but Host (and Content-Length when
    `headers` has none and there is a body)."""
    connection = http.client.HTTPConnection(host, port, timeout=10)
    started = time.monotonic()
    connection.putrequest(method, path, skip_accept_encoding=True)
    if body is not None and not any(name.lower() in ("content-length", "transfer-encoding") for name in headers):
        headers = {**headers, "Content-Length": str(len(body))}
    for name, value in headers.items():
        connection.putheader(name, value)
    connection.endheaders(body)
    response = connection.getresponse()
    payload = response.read()
    seconds = time.monotonic() - started
    connection.close()
    return Answer(response.status, dict(response.headers), payload, seconds)


def send_raw(host: str, port: int, data: bytes) -> tuple[bytes, float]:
    """Write `data` to the socket from a thread (the server may stop reading) and read the answer."""
    started = time.monotonic()
    with socket.create_connection((host, port), timeout=10) as sock:
        def write() -> None:
            try:
                sock.sendall(data)
            except OSError:
                pass  # the server answered and closed before reading it all, as it should

        writer = threading.Thread(target=write, daemon=True)
        writer.start()
        answer = b""
        while b"\r\n\r\n" not in answer:
            chunk = sock.recv(65536)
            if not chunk:
                break
            answer += chunk
        seconds = time.monotonic() - started
    return answer, seconds


# ----- the corpus ---------------------------------------------------------------------------
@dataclass
class Hostile:
    name: str
    expect: int
    body: bytes | None = b""
    content_type: str | None = FORM
    # How the request is signed: True (properly), False (not at all) or a function
    # from the body to its signature headers.
    sign: bool | Callable[[bytes], dict[str, str]] = True
    method: str = "POST"
    path: str = "/slack/events"
    headers: dict[str, str] = field(default_factory=dict)

    def request_headers(self) -> dict[str, str]:
        headers = {"Content-Type": self.content_type} if self.content_type else {}
        if self.sign is True:
            headers.update(signed(self.body or b""))
        elif callable(self.sign):
            headers.update(self.sign(self.body or b""))
        return {**headers, **self.headers}


def command(**changes: str | None) -> bytes:
    """A /complaint slash command as Slack sends it, with fields changed (None: left out)."""
    fields = {
        "token": "legacy", "team_id": "T0SERVICE", "team_domain": "service", "channel_id": GENERAL,
        "channel_name": "general", "user_id": ALICE, "user_name": "alice", "command": "/complaint",
        "text": "#billing charged twice", "api_app_id": "A0SERVICE", "is_enterprise_install": "false",
        "response_url": "http://127.0.0.1:9/hooks", "trigger_id": "13345224609.738474920.trigger",
    }
    for name, value in changes.items():
        if value is None:
            fields.pop(name, None)
        else:
            fields[name] = value
    return urlencode(fields).encode()


def payload(value: object) -> bytes:
    return urlencode({"payload": value if isinstance(value, str) else json.dumps(value)}).encode()


USER = {"id": ALICE, "team_id": "T0SERVICE"}
ACTION = {"type": "button", "action_id": "complaint_take", "block_id": "complaint_actions", "value": "C-1"}


def block_actions(**changes: object) -> bytes:
    body = {"type": "block_actions", "user": USER, "trigger_id": "1.2.trigger", "team": {"id": "T0SERVICE"},
            "actions": [ACTION], "channel": {"id": COMPLAINTS}}
    body.update(changes)
    return payload({name: value for name, value in body.items() if value is not None})


def view_submission(**view_changes: object) -> bytes:
    view = {"id": "V1", "type": "modal", "callback_id": "complaint_log", "state": {"values": {}}, "blocks": []}
    view.update(view_changes)
    return payload({"type": "view_submission", "user": USER, "team": {"id": "T0SERVICE"},
                    "view": {name: value for name, value in view.items() if value is not None}})


def event(value: object) -> bytes:
    return json.dumps({"type": "event_callback", "team_id": "T0SERVICE", "event_id": "Ev1", "event": value}).encode()


NOT_UTF8 = b"payload=\xff\xfe\xfd\x00\x81"
GARBAGE = bytes(range(256)) * 4


def corpus() -> list[Hostile]:
    stale = int(time.time()) - 6 * 60
    return [
        # --- where and how
        Hostile("unknown path", 404, path="/nowhere"),
        Hostile("events path with a trailing slash", 404, path="/slack/events/"),
        Hostile("events path in capitals", 404, path="/SLACK/EVENTS"),
        Hostile("root", 404, method="GET", path="/", body=None, sign=False),
        Hostile("GET the events path", 405, method="GET", body=None, sign=False),
        Hostile("PUT the events path", 405, method="PUT", body=command()),
        Hostile("DELETE the events path", 405, method="DELETE", body=None, sign=False),
        Hostile("made-up method", 405, method="BREW", body=None, sign=False),
        Hostile("POST the health check", 405, path="/healthz", body=b"x", sign=False),
        # --- signatures
        Hostile("no signature at all", 401, body=command(), sign=False),
        Hostile("garbage bytes, unsigned", 401, body=GARBAGE, content_type="application/octet-stream", sign=False),
        Hostile("non-UTF-8, unsigned", 401, body=NOT_UTF8, sign=False),
        Hostile("invalid JSON, unsigned", 401, body=b'{"type": ', content_type="application/json", sign=False),
        Hostile("forged signature", 401, body=command(),
                sign=lambda body: {**signed(body), "X-Slack-Signature": "v0=" + "0" * 64}),
        Hostile("signed with another secret", 401, body=command(), sign=lambda body: signed(body, secret="not-the-secret")),
        Hostile("signature of another body", 401, body=command(text="tampered"), sign=lambda body: signed(command())),
        Hostile("signature without v0=", 401, body=command(),
                sign=lambda body: {**signed(body), "X-Slack-Signature": signed(body)["X-Slack-Signature"][3:]}),
        Hostile("signature but no timestamp", 401, body=command(),
                sign=lambda body: {"X-Slack-Signature": signed(body)["X-Slack-Signature"]}),
        Hostile("replayed six minutes later", 401, body=command(), sign=lambda body: signed(body, timestamp=stale)),
        Hostile("timestamp six minutes ahead", 401, body=command(),
                sign=lambda body: signed(body, timestamp=int(time.time()) + 6 * 60)),
        Hostile("timestamp not a number", 401, body=command(), sign=lambda body: signed(body, timestamp="soon")),
        Hostile("timestamp in far-away digits", 401, body=command(), sign=lambda body: signed(body, timestamp="9" * 40)),
        # --- sizes
        Hostile("Content-Length over the limit, body not sent", 413, body=None,
                headers={"Content-Length": str(MAX_BODY_BYTES + 1)}),
        Hostile("Content-Length not a number", 400, body=b"", headers={"Content-Length": "lots"}),
        Hostile("no Content-Length", 411, body=None),
        # --- signed, but not a Slack payload
        Hostile("non-UTF-8, signed", 400, body=NOT_UTF8),
        Hostile("garbage bytes, signed", 400, body=GARBAGE, content_type="application/octet-stream"),
        Hostile("invalid JSON, signed", 400, body=b'{"type": ', content_type="application/json"),
        Hostile("form body under a JSON content type", 400, body=command(), content_type="application/json"),
        Hostile("JSON array", 400, body=b"[1, 2]", content_type="application/json"),
        Hostile("JSON string", 400, body=b'"hello"', content_type="application/json"),
        Hostile("payload= not JSON", 400, body=payload("not json")),
        Hostile("payload= a JSON list", 400, body=payload("[1]")),
        Hostile("payload= null", 400, body=payload("null")),
        Hostile("JSON under a form content type", 400, body=json.dumps({"type": "block_actions", "actions": []}).encode()),
        Hostile("type is a number", 400, body=payload({"type": 7, "user": USER})),
        # --- slash commands without what Slack always sends
        Hostile("slash command without user_id", 400, body=command(user_id=None)),
        Hostile("slash command with an empty user_id", 400, body=command(user_id="")),
        Hostile("slash command without trigger_id", 400, body=command(trigger_id=None, text="")),
        Hostile("/kudos without trigger_id", 400, body=command(trigger_id=None, command="/kudos", text="")),
        Hostile("/kb without user_id", 400, body=command(user_id=None, command="/kb", text="refund")),
        Hostile("/desk without user_id", 400, body=command(user_id=None, command="/desk", text="")),
        Hostile("unknown slash command", 404, body=command(command="/nope")),
        # --- buttons
        Hostile("actions not a list", 400, body=block_actions(actions="complaint_take")),
        Hostile("actions an object", 400, body=block_actions(actions=ACTION)),
        Hostile("actions empty", 400, body=block_actions(actions=[])),
        Hostile("an action that is a number", 400, body=block_actions(actions=[1])),
        Hostile("an action without action_id", 400, body=block_actions(actions=[{"value": "C-1"}])),
        Hostile("an action whose value is a number", 400, body=block_actions(actions=[{**ACTION, "value": 1}])),
        Hostile("button press without a user", 400, body=block_actions(user=None)),
        Hostile("button press whose user is text", 400, body=block_actions(user=ALICE)),
        Hostile("button press without trigger_id", 400, body=block_actions(trigger_id=None)),
        Hostile("team is text", 400, body=block_actions(team="T0SERVICE")),
        Hostile("unknown button", 404, body=block_actions(actions=[{**ACTION, "action_id": "self_destruct"}])),
        # --- forms
        Hostile("view is text", 400, body=payload({"type": "view_submission", "user": USER, "view": "V1"})),
        Hostile("view without type", 400, body=view_submission(type=None)),
        Hostile("view without id", 400, body=view_submission(id=None)),
        Hostile("view without callback_id", 400, body=view_submission(callback_id=None)),
        Hostile("view without state", 400, body=view_submission(state=None)),
        Hostile("view whose state values are a list", 400, body=view_submission(state={"values": []})),
        Hostile("unknown form", 404, body=view_submission(callback_id="launch_rockets")),
        # --- shortcuts and events
        Hostile("message shortcut without callback_id", 400,
                body=payload({"type": "message_action", "user": USER, "trigger_id": "1.2.t", "message": {}})),
        Hostile("event that is text", 400, body=event("reaction_added"), content_type="application/json"),
        Hostile("event without type", 400, body=event({"user": ALICE}), content_type="application/json"),
        Hostile("event_callback without an event", 400, body=json.dumps({"type": "event_callback"}).encode(),
                content_type="application/json"),
        Hostile("authorizations not a list", 400, content_type="application/json",
                body=json.dumps({"type": "event_callback", "event": {"type": "app_mention"}, "authorizations": "x"}).encode()),
        Hostile("url_verification without a challenge", 400, body=b'{"type": "url_verification"}',
                content_type="application/json"),
        Hostile("empty signed body", 404, body=b""),
    ]


def row_counts(engine: Engine) -> dict[str, int]:
    names = [name for name in inspect(engine).get_table_names() if name != "alembic_version"]
    with engine.connect() as connection:
        return {name: connection.execute(select(func.count()).select_from(table(name))).scalar_one() for name in names}


def slack_writes(slack) -> list[str]:
    # auth.test is Bolt checking its own token on the first request; it changes nothing.
    return [call.method for call in slack.calls if call.method != "auth.test"]


def chunked(body: bytes, *, headers: dict[str, str], size: int = 65536) -> bytes:
    lines = [b"POST /slack/events HTTP/1.1", b"Host: servicedesk", b"Transfer-Encoding: chunked"]
    lines += [f"{name}: {value}".encode() for name, value in headers.items()]
    chunks = b"".join(b"%x\r\n%s\r\n" % (len(body[at:at + size]), body[at:at + size]) for at in range(0, len(body), size))
    return b"\r\n".join(lines) + b"\r\n\r\n" + chunks + b"0\r\n\r\n"
