"""Counting Slack requests per listener and timing their acknowledgement (bot/metrics.py).

A Bolt global middleware labels each request by its kind and the command, action,
view or event it is for, and hands the listener an `ack` that records how long the
request waited for it: from when the WSGI app received the request (`RECEIVED_AT`
in the context; in Socket Mode from the middleware) to the ack, on whichever thread
the listener runs.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from slack_bolt import Ack, BoltContext

from bot import metrics
from handlers.ids import Action, Command, Event, Shortcut, View

RECEIVED_AT = "servicedesk_received_at"
KINDS = frozenset({
    "command", "event", "block_actions", "block_suggestion", "view_submission", "view_closed", "shortcut",
    "message_action",
})
LISTENERS = frozenset(str(value) for ids in (Command, Shortcut, Action, View, Event) for value in ids)


def request_labels(body: dict) -> tuple[str, str]:
    """(kind, listener) of a Slack payload, each one of a fixed few values or "other"."""
    if body.get("command"):
        kind, name = "command", body["command"]
    elif body.get("type") == "event_callback":
        kind, name = "event", (body.get("event") or {}).get("type")
    else:
        kind = body.get("type")
        if kind in ("block_actions", "block_suggestion"):
            actions = body.get("actions") or [body]
            name = actions[0].get("action_id") if isinstance(actions[0], dict) else None
        elif kind in ("view_submission", "view_closed"):
            name = (body.get("view") or {}).get("callback_id")
        else:
            name = body.get("callback_id")
    return metrics.bounded(kind, KINDS), metrics.bounded(name, LISTENERS)


class TimedAck(Ack):
    """Bolt's `ack`, telling `on_first_ack` when it is first called."""

    def __init__(self, on_first_ack: Callable[[], None]) -> None:
        super().__init__()
        self._on_first_ack: Callable[[], None] | None = on_first_ack

    def __call__(self, *args, **kwargs):
        response = super().__call__(*args, **kwargs)
        if self._on_first_ack is not None:
            on_first_ack, self._on_first_ack = self._on_first_ack, None
            on_first_ack()
        return response


def count_and_time(body: dict, context: BoltContext, next: Callable[[], None]) -> None:  # noqa: A002 — Bolt's name
    kind, listener = request_labels(body)
    metrics.REQUESTS.labels(kind, listener).inc()
    received_at = context.get(RECEIVED_AT) or time.perf_counter()
    latency = metrics.ACK_SECONDS.labels(kind, listener)
    context["ack"] = TimedAck(lambda: latency.observe(time.perf_counter() - received_at))
    next()


def count_failure(body: dict) -> None:
    metrics.REQUEST_ERRORS.labels(*request_labels(body)).inc()
