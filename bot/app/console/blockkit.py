"""Check Block Kit payloads with slack_sdk's own models and Slack's documented limits.

Used by the Slack emulator (so every test validates every payload the bot sends) and
usable on its own. Returns problems as sentences; an empty list means valid.
"""

from __future__ import annotations

from typing import Any

from slack_sdk.errors import SlackObjectFormationError
from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View

MAX_MESSAGE_BLOCKS = 50
MAX_VIEW_BLOCKS = 100
MAX_SECTION_FIELD = 2000  # per field; slack_sdk does not check this one


def block_kit_problems(*, blocks: list[dict] | None = None, view: dict | None = None) -> list[str]:
    if view is not None:
        return _view_problems(view)
    return _blocks_problems(blocks or [], limit=MAX_MESSAGE_BLOCKS, where="message")


def _view_problems(view: Any) -> list[str]:
    if not isinstance(view, dict):
        return ["view is not a JSON object"]
    problems = _blocks_problems(view.get("blocks") or [], limit=MAX_VIEW_BLOCKS, where=f"{view.get('type')} view")
    try:
        View(**view).validate_json()
    except (SlackObjectFormationError, TypeError, ValueError) as exc:
        problems.append(f"invalid view: {exc}")
    return problems


def _blocks_problems(blocks: Any, *, limit: int, where: str) -> list[str]:
    if not isinstance(blocks, list):
        return ["blocks is not a JSON array"]
    problems = []
    if len(blocks) > limit:
        problems.append(f"{len(blocks)} blocks in a {where}; Slack allows {limit}")
    for index, (raw, parsed) in enumerate(zip(blocks, Block.parse_all(blocks))):
        if parsed is None:
            problems.append(f"block {index} has an unknown type {raw.get('type') if isinstance(raw, dict) else raw!r}")
            continue
        try:
            parsed.validate_json()
        except (SlackObjectFormationError, TypeError, ValueError) as exc:
            problems.append(f"block {index} ({raw.get('type')}): {exc}")
        for field in raw.get("fields") or []:
            if len(field.get("text", "")) > MAX_SECTION_FIELD:
                problems.append(f"block {index}: a section field is over {MAX_SECTION_FIELD} characters")
    return problems
