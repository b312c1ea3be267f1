"""Telling one person something privately, wherever they are."""

from __future__ import annotations

import inspect
import logging
import threading
from collections.abc import Callable

from slack_bolt import Ack, BoltContext, Respond, Say
from slack_sdk import WebClient
from sqlalchemy.exc import DBAPIError, TimeoutError as PoolTimeout

logger = logging.getLogger(__name__)

SORRY = "Sorry, something went wrong on my side and I couldn't do that. Please try again in a moment."
STORE_DOWN = "I couldn't save that just now — please try again in a moment."
# Slack waits this long for an acknowledgement, then shows the person an error.
ACK_WAIT_SECONDS = 3.0


def apology(error: Exception) -> str:
    """What to tell the person when their request failed: the database being unreachable
    (it is restarting, say) is worth saying, since trying again will work."""
    return STORE_DOWN if isinstance(error, DBAPIError | PoolTimeout) else SORRY


def tell(
    client: WebClient, user_id: str, channel_id: str, text: str, blocks: list[dict] | None = None, *,
    respond: Respond | None = None,
) -> None:
    """An ephemeral note where the person is, or a DM when that is not possible.

    `respond` (a button's response_url) answers beside the message they pressed, which
    works even where the bot may not post; otherwise the note goes to `channel_id`.
    """
    if respond is not None:
        try:
            respond(text=text, blocks=blocks, response_type="ephemeral", replace_original=False)
            return
        except Exception as exc:  # noqa: BLE001 — try the channel next
            logger.info("could not answer %s through the response URL: %s", user_id, exc)
    if channel_id:
        try:
            client.chat_postEphemeral(channel=channel_id, user=user_id, text=text, blocks=blocks)
            return
        except Exception as exc:  # noqa: BLE001 — a DM next
            logger.info("could not tell %s in %s: %s", user_id, channel_id, exc)
    try:
        client.chat_postMessage(channel=user_id, text=text, blocks=blocks)
    except Exception as exc:  # noqa: BLE001 — nothing more can be done than log it
        logger.warning("could not tell %s: %s", user_id, exc)


def replace_answer(respond: Respond, text: str, blocks: list[dict] | None = None) -> bool:
    """Replace the ephemeral answer a slash command got (through its response_url);
    False, logged in one line, when that is not possible."""
    try:
        respond(text=text, blocks=blocks, replace_original=True)
    except Exception as exc:  # noqa: BLE001 — the caller decides whether to tell another way
        logger.warning("could not update an answer through the response URL: %s", exc)
        return False
    return True


def guarded(listener: Callable, *, on_request_thread: bool = False) -> Callable:
    """`listener` with failures after its `ack()` told to the person and logged once,
    run so that Slack gets its answer as soon as the listener has acked.

    Bolt runs with `process_before_response` (bot/app/factory.py): the HTTP answer
    leaves when the listener returns. So a listener runs on Bolt's listener threads and
    the request's thread returns the moment it acks (woken by the ack itself, no
    polling), while whatever the listener does after acking carries on there. A
    listener that hands all its work after the ack to `Services.after_ack` passes
    `on_request_thread` and saves the hand-off.

    Before the ack, a failure goes to Bolt's error handler, which answers the request
    itself. After it, Slack has had its answer, so the person hears of it through the
    response URL (or a DM). Catching it here also keeps Bolt from turning the ack it
    has not sent yet into an error answer.
    """
    wanted = [name for name in inspect.getfullargspec(listener).args if name != "self"]

    def call(ack: Ack, given: dict):
        try:
            return listener(**{name: ack if name == "ack" else given[name] for name in wanted})
        except Exception as exc:
            if ack.response is None:
                raise
            logger.error("%s failed after acknowledging: %s", listener.__name__, exc, exc_info=exc)
            body, respond = given["body"], given["respond"]
            user_id = (body.get("user") or {}).get("id") or body.get("user_id") or ""
            if respond is not None or user_id:
                tell(given["client"], user_id, "", f":warning: {apology(exc)}", respond=respond)

    def run(ack: Ack, body: dict, respond: Respond, client: WebClient, context: BoltContext, say: Say,
            command: dict, action: dict, view: dict, shortcut: dict, event: dict):
        given = {"body": body, "respond": respond, "client": client, "context": context, "say": say,
                 "command": command, "action": action, "view": view, "shortcut": shortcut, "event": event}
        if on_request_thread:
            return call(ack, given)
        if event is not None:
            ack()  # events are acknowledged before any work, as Bolt does for them
        signalling = _SignallingAck(ack)
        work = context.listener_runner.listener_executor.submit(call, signalling, given)
        work.add_done_callback(lambda _: signalling.done.set())
        signalling.done.wait(ACK_WAIT_SECONDS)
        # Done already: a failure before the ack is raised here, for Bolt's error handler.
        return work.result() if work.done() else None

    run.__name__ = getattr(listener, "__name__", "listener")
    return run


class _SignallingAck:
    """Bolt's `ack`, which also wakes the request's thread waiting for it."""

    def __init__(self, ack: Ack) -> None:
        self._ack = ack
        self.done = threading.Event()

    @property
    def response(self):
        return self._ack.response

    def __call__(self, *args, **kwargs):
        try:
            return self._ack(*args, **kwargs)
        finally:
            self.done.set()
