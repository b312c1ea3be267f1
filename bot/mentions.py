"""How Slack writes a mention of a person in typed text, for every parser of it."""

from __future__ import annotations

import re
from collections.abc import Callable

# A mention arrives as <@U123> or, from a command with should_escape, <@U123|name>.
USER_MENTION = re.compile(r"<@(?P<user>[UW][A-Z0-9]{2,})(?:\|(?P<label>[^>]*))?>")


def mentioned_users(text: str) -> list[str]:
    """The user IDs mentioned in `text`, in order (repeats kept)."""
    return [match["user"] for match in USER_MENTION.finditer(text or "")]


def as_names(text: str, *, name_of: Callable[[str], str]) -> str:
    """`text` with each mention written as `@name` (the label Slack sent, else `name_of(id)`),
    so that once escaped for display it shows who was meant and notifies nobody."""
    return USER_MENTION.sub(lambda m: "@" + (m["label"] or name_of(m["user"])), text or "")
