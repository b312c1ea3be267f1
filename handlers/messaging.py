"""Telling one person something privately, wherever they are."""

from __future__ import annotations

import inspect
import logging
from collections.abc import Callable

from slack_bolt import Ack, BoltContext, Respond, Say
from slack_sdk import WebClient
from sqlalchemy.exc import DBAPIError, TimeoutError as PoolTimeout

logger = logging.getLogger(__name__)

SORRY = "Sorry, something went wrong on my side and I couldn't do that. Please try again in a moment."
STORE_DOWN = "I couldn't save that just now — please try again in a moment."


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


def guarded(listener: Callable) -> Callable:
    """`listener` with failures after its `ack()` told to the person and logged once.

    Before the ack, a failure goes to Bolt's error handler, which answers the request
    itself (bot/app/factory.py). After it, Slack has had its answer, so the person hears
    of it through the response URL (or a DM). Catching it here also keeps Bolt from
    clearing the ack it has not sent yet, which would answer Slack with a 404 after 3 s.
    """
    wanted = [name for name in inspect.getfullargspec(listener).args if name != "self"]

    def run(ack: Ack, body: dict, respond: Respond, client: WebClient, context: BoltContext, say: Say,
            command: dict, action: dict, view: dict, shortcut: dict, event: dict):
        given = {"ack": ack, "body": body, "respond": respond, "client": client, "context": context, "say": say,
                 "command": command, "action": action, "view": view, "shortcut": shortcut, "event": event}
        try:
            return listener(**{name: given[name] for name in wanted})
        except Exception as exc:
            if ack.response is None:
                raise
            logger.error("%s failed after acknowledging: %s", listener.__name__, exc, exc_info=exc)
            user_id = (body.get("user") or {}).get("id") or body.get("user_id") or ""
            if respond is not None or user_id:
                tell(client, user_id, "", f":warning: {apology(exc)}", respond=respond)

    run.__name__ = getattr(listener, "__name__", "listener")
    return run
