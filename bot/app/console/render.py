"""Block Kit and Slack mrkdwn as plain text for a terminal.

Pure functions of what the bot sent: the console prints messages, forms and App Home
tabs with them, and `servicedesk digest` prints a digest.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator

from bot.app.console.workspace import CHANNEL_NAMES, NAMES_BY_ID

MAX_CHOICES_SHOWN = 12


def form_values(view: dict) -> dict[str, str]:
    """The current value of each input of a modal, by block_id (what `submit` sends)."""
    values = {}
    for block in view.get("blocks", []):
        if block.get("type") != "input":
            continue
        element = block["element"]
        initial = (
            element.get("initial_value")
            or (element.get("initial_option") or {}).get("value")
            or element.get("initial_user")
            or ",".join(element.get("initial_users", []))
        )
        values[block["block_id"]] = initial or ""
    return values


def render_blocks(blocks: list[dict], number_button) -> Iterator[str]:
    for block in blocks:
        kind = block.get("type")
        if kind == "header":
            yield render_text(block["text"]["text"]).upper()
        elif kind == "section":
            if block.get("text"):
                yield from render_text(block["text"]["text"]).splitlines()
            for item in block.get("fields", []):
                yield " ".join(render_text(item["text"]).splitlines())
            accessory = block.get("accessory") or {}
            if accessory.get("type") == "button" and accessory.get("action_id"):
                yield f"[{number_button(accessory, block.get('block_id', ''))}] {accessory['text']['text']}"
        elif kind == "context":
            parts = [render_text(e.get("text", "")) for e in block.get("elements", []) if "text" in e]
            yield "  " + " · ".join(parts)
        elif kind == "divider":
            yield "─" * 40
        elif kind == "actions":
            labels = []
            for element in block.get("elements", []):
                if element.get("type") == "button" and not element.get("url"):
                    labels.append(f"[{number_button(element, block.get('block_id', ''))}] {element['text']['text']}")
                elif element.get("url"):
                    labels.append(f"{element['text']['text']} <{element['url']}>")
            yield "  ".join(labels)
        elif kind == "input":
            label = block["label"]["text"] + ("" if block.get("optional") else " *")
            yield f"{block['block_id']}: {label}{_what_it_takes(block['element'])}"
        elif kind == "image":
            yield f"[image: {block.get('alt_text', '')}]"


def _what_it_takes(element: dict) -> str:
    """What `submit FIELD=VALUE` accepts for an input, where a label alone would not say."""
    kind = element.get("type")
    if kind == "users_select":
        return " (a person: @alice, @bob, …)"
    if kind == "multi_users_select":
        return " (people: @alice,@bob)"
    if kind == "static_select":
        choices = [option["value"] for option in element.get("options", [])]
        shown = ", ".join(choices[:MAX_CHOICES_SHOWN]) + (", …" if len(choices) > MAX_CHOICES_SHOWN else "")
        return f" (one of: {shown})"
    return ""


def render_text(mrkdwn: str) -> str:
    """Slack mrkdwn as a terminal shows it: names for mentions, dates' fallback text."""
    text = re.sub(r"<@(\w+)(?:\|[^>]*)?>", lambda m: "@" + NAMES_BY_ID.get(m.group(1), m.group(1)), mrkdwn)
    text = re.sub(r"<#(\w+)(?:\|([^>]*))?>", lambda m: "#" + (m.group(2) or CHANNEL_NAMES.get(m.group(1), m.group(1))), text)
    text = re.sub(r"<!date\^[^|>]*\|([^>]*)>", r"\1", text)
    text = re.sub(r"<(https?://[^|>]+)\|([^>]+)>", r"\2 (\1)", text)
    text = re.sub(r"<(https?://[^>]+)>", r"\1", text)
    return html.unescape(text)
