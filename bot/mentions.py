"""How Slack writes a mention of a person in typed text, for every parser of it."""

from __future__ import annotations

import re

# A mention arrives as <@U123> or, from a command with should_escape, <@U123|name>.
USER_MENTION = re.compile(r"<@(?P<user>[UW][A-Z0-9]{2,})(?:\|(?P<label>[^>]*))?>")


def mentioned_users(text: str) -> list[str]:
    """The user IDs mentioned in `text`, in order (repeats kept)."""
    return [match["user"] for match in USER_MENTION.finditer(text or "")]
