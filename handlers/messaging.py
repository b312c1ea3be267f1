"""Telling one person something privately, wherever they are."""

from __future__ import annotations

import logging

from slack_bolt import Respond
from slack_sdk import WebClient

logger = logging.getLogger(__name__)


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
