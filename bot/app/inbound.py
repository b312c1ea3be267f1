"""What an HTTP request to /slack/events must be before Bolt sees it.

Anyone on the internet can reach the bot's URL, so each check here refuses a bad
request with a 4xx and one log line, cheapest check first: the signature headers and
their timestamp (no body read), the declared length (a body over the limit is never
read), the HMAC over the raw bytes (nothing from a stranger is decoded or parsed),
then UTF-8, the payload's encoding and the parts of its shape that Bolt and the
listeners take for granted. Slack always sends those parts, so a request without
them did not come from Slack as Slack documents it, even if it is signed.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Callable
from http import HTTPStatus

from slack_bolt.adapter.wsgi.http_request import WsgiHttpRequest
from slack_bolt.request import BoltRequest

MAX_BODY_BYTES = 1024 * 1024
# Slack's replay window: a request signed more than five minutes ago (or ahead) is refused.
REPLAY_WINDOW_SECONDS = 5 * 60


class Refused(Exception):
    """The request gets `status` and a one-line plain-text `reason`."""

    def __init__(self, status: HTTPStatus, reason: str, *, headers: tuple[tuple[str, str], ...] = ()) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason
        self.headers = headers


def slack_request(
    environ: dict, *, signing_secret: str, max_body_bytes: int = MAX_BODY_BYTES,
    now: Callable[[], float] = time.time,
) -> BoltRequest:
    """The request as Bolt takes it, or `Refused` saying what is wrong with it."""
    timestamp = _fresh_timestamp(environ, now())
    raw = _read_body(environ, max_body_bytes)
    _check_signature(raw, timestamp, environ.get("HTTP_X_SLACK_SIGNATURE", ""), signing_secret)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise Refused(HTTPStatus.BAD_REQUEST, "the body is not UTF-8") from None
    request = WsgiHttpRequest(environ)
    try:
        bolt_request = BoltRequest(body=text, query=request.query_string, headers=request.get_headers())
    except Exception as exc:  # noqa: BLE001 — Bolt's parser fails on bad input in many ways
        raise Refused(HTTPStatus.BAD_REQUEST, f"the body is not a Slack payload ({type(exc).__name__})") from None
    problem = payload_problem(bolt_request.body)
    if problem:
        raise Refused(HTTPStatus.BAD_REQUEST, problem)
    return bolt_request


def _fresh_timestamp(environ: dict, now: float) -> str:
    timestamp = environ.get("HTTP_X_SLACK_REQUEST_TIMESTAMP", "")
    if not environ.get("HTTP_X_SLACK_SIGNATURE") or not timestamp:
        raise Refused(HTTPStatus.UNAUTHORIZED, "not signed by Slack (no X-Slack-Signature or timestamp)")
    if not timestamp.isascii() or not timestamp.isdigit():
        raise Refused(HTTPStatus.UNAUTHORIZED, "X-Slack-Request-Timestamp is not a number of seconds")
    if abs(now - int(timestamp)) > REPLAY_WINDOW_SECONDS:
        raise Refused(HTTPStatus.UNAUTHORIZED, "X-Slack-Request-Timestamp is more than five minutes off")
    return timestamp


def _read_body(environ: dict, limit: int) -> bytes:
    too_large = Refused(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, f"the body is over {limit:,} bytes")
    declared = environ.get("CONTENT_LENGTH") or ""
    stream = environ["wsgi.input"]
    if declared:
        if not declared.isascii() or not declared.isdigit():
            raise Refused(HTTPStatus.BAD_REQUEST, "Content-Length is not a number")
        if int(declared) > limit:
            raise too_large
        return stream.read(int(declared))
    # No length: only a server that ends the stream itself (gunicorn decodes a chunked
    # body and says so) can be read to its end; read one byte past the limit at most.
    if not environ.get("wsgi.input_terminated"):
        raise Refused(HTTPStatus.LENGTH_REQUIRED, "Content-Length is required")
    raw = stream.read(limit + 1)
    if len(raw) > limit:
        raise too_large
    return raw


def _check_signature(raw: bytes, timestamp: str, signature: str, signing_secret: str) -> None:
    # Slack signs the raw bytes: "v0:" + timestamp + ":" + body, HMAC-SHA256 with the secret.
    expected = "v0=" + hmac.new(
        signing_secret.encode("utf-8"), b"v0:" + timestamp.encode("ascii") + b":" + raw, hashlib.sha256
    ).hexdigest()
    if not hmac.compare_digest(expected.encode("ascii"), signature.encode("utf-8", "replace")):
        raise Refused(HTTPStatus.UNAUTHORIZED, "the signature does not match")


# ----- the shape of a payload ---------------------------------------------------------------
# Parts that are objects or lists wherever they appear (Bolt reads into them unchecked).
OBJECT_PARTS = ("user", "team", "channel", "container", "view", "message", "event", "enterprise")
LIST_PARTS = ("actions", "authorizations")
# What each kind of request carries, by dotted path; the listeners take these for granted.
REQUIRED_TEXT = {
    "block_actions": ("user.id", "trigger_id"),
    "shortcut": ("user.id", "trigger_id", "callback_id"),
    "message_action": ("user.id", "trigger_id", "callback_id"),
    "view_submission": ("user.id", "view.id", "view.type", "view.callback_id"),
    "view_closed": ("user.id", "view.id", "view.type", "view.callback_id"),
    "event_callback": ("event.type",),
    "url_verification": ("challenge",),
}


def payload_problem(body: object) -> str | None:
    """What is missing or mistyped in a parsed Slack payload, or None if it will do."""
    if not isinstance(body, dict):
        return "the payload is not a JSON object"
    for name in OBJECT_PARTS:
        if name in body and not isinstance(body[name], dict):
            return f"`{name}` is not an object"
    for name in LIST_PARTS:
        if name in body and not isinstance(body[name], list):
            return f"`{name}` is not a list"
    if "command" in body:
        required: tuple[str, ...] = ("command", "user_id", "trigger_id")
    else:
        kind = body.get("type")
        if kind is not None and not isinstance(kind, str):
            return "`type` is not text"
        required = REQUIRED_TEXT.get(kind or "", ())
    for path in required:
        if not isinstance(_dig(body, path), str) or not _dig(body, path):
            return f"{body.get('type') or 'slash command'} payload without `{path}`"
    if body.get("type") == "block_actions":
        return _actions_problem(body.get("actions"))
    if body.get("type") == "view_submission" and not isinstance(_dig(body, "view.state.values"), dict):
        return "view_submission payload without `view.state.values`"
    return None


def _actions_problem(actions: object) -> str | None:
    if not actions:
        return "block_actions payload without `actions`"
    for action in actions:
        if not isinstance(action, dict) or not isinstance(action.get("action_id"), str):
            return "an action without `action_id`"
        if not isinstance(action.get("value", ""), str) or not isinstance(action.get("block_id", ""), str):
            return "an action whose `value` or `block_id` is not text"
    return None


def _dig(body: dict, path: str) -> object:
    value: object = body
    for key in path.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(key)
    return value
