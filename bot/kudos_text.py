"""Parse what people type after `/kudos`, and turn Slack's markup in a reason into plain text."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from bot.complaint_text import HelpRequest, OpenModal, plain_text
from bot.errors import InvalidInput
from bot.mentions import USER_MENTION, as_names

# `#speed` arrives as <#C123|speed> when a channel of that name exists.
CHANNEL_LINK = re.compile(r"<#[CG][A-Z0-9]+(?:\|([^>]*))?>")
LINK = re.compile(r"<((?:https?|mailto):[^|>]+)(?:\|([^>]*))?>")
# @here, @channel, user groups (<!subteam^S1|@support>) and dates: their label, as text.
SPECIAL = re.compile(r"<!([^|>]*)(?:\|([^>]*))?>")
# What may stand before the reason: recipients, a #value and a complaint reference.
LEADING_TOKEN = re.compile(
    rf"\s*(?:{USER_MENTION.pattern}"
    r"|<#[CG][A-Z0-9]+\|(?P<channel>[^>]*)>"
    r"|#(?P<value>[\w-]+)"
    r"|(?P<complaint>[cC]-?\d{1,9}))(?=\s|$)"
)
COMPLAINT_IN_REASON = re.compile(r"(?<![\w-])[cC]-(\d{1,9})(?![\w-])")

USAGE = "`/kudos @sam [@alex] [#value] [C-42] what they did`"


@dataclass(frozen=True)
class KudosRequest:
    """`/kudos @a @b #value C-42 reason`; the reason still in Slack's markup."""

    recipients: tuple[str, ...]
    reason: str
    value: str = ""
    complaint_id: int | None = None


@dataclass(frozen=True)
class StatsRequest:
    pass


Parsed = KudosRequest | StatsRequest | HelpRequest | OpenModal


def parse(text: str, *, values: tuple[str, ...]) -> Parsed:
    text = (text or "").strip()
    if not text:
        return OpenModal()
    word = text.split(None, 1)[0].lower()
    if word == "help":
        return HelpRequest()
    if word == "stats":
        return StatsRequest()

    recipients: list[str] = []
    chosen_values: set[str] = set()
    complaint_id = None
    position = 0
    while match := LEADING_TOKEN.match(text, position):
        position = match.end()
        if match["user"]:
            recipients.append(match["user"])
        elif match["complaint"]:
            complaint_id = int(match["complaint"].lstrip("cC-"))
        else:
            chosen_values.add(_value(match["value"] or match["channel"], values))
    if not recipients:
        raise InvalidInput(f"Start with the people you are recognising: {USAGE}.")
    if len(chosen_values) > 1:
        raise InvalidInput("Give one value only: " + _value_list(values) + ".")
    reason = text[position:].strip()
    if complaint_id is None and (in_reason := COMPLAINT_IN_REASON.search(reason)):
        complaint_id = int(in_reason.group(1))
    return KudosRequest(
        recipients=tuple(dict.fromkeys(recipients)),
        reason=reason,
        value=chosen_values.pop() if chosen_values else "",
        complaint_id=complaint_id,
    )


def _value(word: str, values: tuple[str, ...]) -> str:
    if word.lower() not in values:
        raise InvalidInput(f"“#{word[:40]}” is not one of our values: {_value_list(values)}.")
    return word.lower()


def _value_list(values: tuple[str, ...]) -> str:
    return ", ".join(f"#{value}" for value in values)


def plain_reason(slack_text: str, *, name_of: Callable[[str], str]) -> str:
    """Slack's markup as the words a person sees: mentions become `@name`, links their text.

    What comes out is stored and later escaped for display, so a mention typed in a
    reason shows as a name and never notifies anyone.
    """
    text = as_names(slack_text, name_of=name_of)
    text = CHANNEL_LINK.sub(lambda m: "#" + (m.group(1) or "channel"), text)
    text = LINK.sub(lambda m: m.group(2) or m.group(1), text)
    text = SPECIAL.sub(_special_as_text, text)
    return " ".join(plain_text(text).split())


def _special_as_text(match: re.Match) -> str:
    name, label = match.group(1).split("^")[0], match.group(2)
    if name in ("here", "channel", "everyone"):
        return "@" + name
    return label or "@" + name


def help_text(hint: str = "", *, values: tuple[str, ...], emoji: str) -> str:
    lines = [hint] if hint else []
    lines += [
        "*Recognise great service*",
        f"• {USAGE} — for example `/kudos @sam #empathy C-42 calmed a furious customer and fixed the refund`",
        f"• Values: {_value_list(values)}. A complaint reference links the kudos to it.",
        "• `/kudos` alone opens a form; `/kudos stats` shows what you gave and received in 30 days.",
        f"• React with :{emoji}: to someone's message to give them kudos for it; remove it to take it back.",
        "• The *Recognise* button on a resolved complaint thanks its owner.",
    ]
    return "\n".join(lines)
