"""Small Block Kit builders shared by every feature's views."""

from __future__ import annotations

from handlers.text import truncate

SECTION_TEXT_LIMIT = 3000


def mrkdwn(text: str) -> dict:
    return {"type": "mrkdwn", "text": text}


def plain(text: str, limit: int) -> dict:
    return {"type": "plain_text", "text": truncate(text, limit), "emoji": True}


def section(text: str) -> dict:
    return {"type": "section", "text": mrkdwn(truncate(text, SECTION_TEXT_LIMIT))}


def button(action_id: str, label: str, value: str, style: str | None = None) -> dict:
    element = {"type": "button", "action_id": action_id, "text": plain(label, 75), "value": value}
    if style:
        element["style"] = style
    return element
