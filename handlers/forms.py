"""Reading what a person submitted in a modal."""

from __future__ import annotations

import json

from handlers.ids import Action


def input_values(view: dict) -> dict[str, str]:
    """The submitted value of every input block in a modal, by block_id."""
    values = {}
    for block_id, elements in (view.get("state") or {}).get("values", {}).items():
        element = elements.get(Action.INPUT) or {}
        values[block_id] = (
            element.get("value")
            or (element.get("selected_option") or {}).get("value")
            or element.get("selected_user")
            or ""
        )
    return values


def choice(enum, value, default):
    """`value` as a member of `enum` (a select's choice), or `default`."""
    try:
        return enum(value)
    except ValueError:
        return default


def private_metadata(view: dict) -> dict:
    """What the modal was opened with (its `private_metadata`, JSON)."""
    return json.loads(view.get("private_metadata") or "{}")
