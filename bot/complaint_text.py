"""Parse what people type after `/complaint` into a command or a complaint draft."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from rapidfuzz import fuzz, process

from bot.complaints import ComplaintDraft
from bot.errors import InvalidInput
from bot.mentions import USER_MENTION, mentioned_users
from models.complaints import Severity

# A `#word` Slack recognised as a channel arrives as <#C123|word>.
CHANNEL_LINK = re.compile(r"<#[CG][A-Z0-9]+\|([^>]*)>")
SEVERITY_TOKEN = re.compile(r"(?<!\S)!(low|normal|high|urgent)(?!\S)", re.IGNORECASE)
CATEGORY_TOKEN = re.compile(r"(?<!\S)#([\w-]+)(?!\S)")
# @channel/@here/@everyone arrive as <!channel> etc.; stored as plain words so they
# can never ping anyone when the text is shown again.
SPECIAL_MENTION = re.compile(r"<!(channel|here|everyone)(?:\|[^>]*)?>")

SUBCOMMANDS = {
    "list": "`list` — your open complaints; `list open` — everyone's open complaints",
    "show": "`show C-42` — details and full history",
    "take": "`take C-42` — take ownership",
    "assign": "`assign C-42 @person` — hand it to someone else",
    "responded": "`responded C-42 [note]` — you got back to the customer",
    "note": "`note C-42 <text>` — add a note",
    "resolve": "`resolve C-42 <resolution>` — close it, saying how",
    "reopen": "`reopen C-42` — open it again",
    "rate": "`rate C-42 9 [comment]` — the customer's answer (0–10) to “how likely are you to recommend us?”",
    "followed-up": "`followed-up C-42 [note]` — you checked back with the customer after resolving it",
    "help": "`help` — this message",
}


@dataclass(frozen=True)
class Subcommand:
    name: str
    args: list[str] = field(default_factory=list)
    rest: str = ""


@dataclass(frozen=True)
class HelpRequest:
    hint: str = ""


@dataclass(frozen=True)
class OpenModal:
    pass


Parsed = Subcommand | HelpRequest | OpenModal | ComplaintDraft


def plain_text(slack_text: str) -> str:
    """Undo Slack's escaping of typed text; special mentions become plain words."""
    text = SPECIAL_MENTION.sub(lambda m: f"@{m.group(1)}", slack_text or "")
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def parse(text: str, *, categories: tuple[str, ...]) -> Parsed:
    text = plain_text(text).strip()
    if not text:
        return OpenModal()
    first, _, rest = text.partition(" ")
    word = first.lower()
    if word in SUBCOMMANDS:
        if word == "help":
            return HelpRequest()
        return Subcommand(word, rest.split(), rest.strip())
    near = process.extractOne(word, SUBCOMMANDS.keys(), scorer=fuzz.ratio, score_cutoff=75)
    looks_like_command = re.match(r"^[cC]-?\d+$", rest.split(" ", 1)[0]) if rest else False
    if near and (looks_like_command or not rest):
        return HelpRequest(hint=f"Did you mean `{near[0]}`?")
    if " " not in text and not text.startswith(("!", "#", "<")):
        return HelpRequest(hint="To log a complaint, describe it in a few words.")
    return parse_draft(text, categories=categories)


def parse_draft(text: str, *, categories: tuple[str, ...]) -> ComplaintDraft:
    """`!high #billing <@U1> customer was charged twice` -> a draft."""
    severities = SEVERITY_TOKEN.findall(text)
    if len({s.lower() for s in severities}) > 1:
        raise InvalidInput("Give one severity only: !low, !normal, !high or !urgent.")
    text = SEVERITY_TOKEN.sub(" ", text)
    text = CHANNEL_LINK.sub(lambda m: f"#{m.group(1)}", text)

    category = None
    for name in CATEGORY_TOKEN.findall(text):
        if name.lower() in categories:
            if category and category != name.lower():
                raise InvalidInput("Give one category only.")
            category = name.lower()
        else:
            raise InvalidInput(
                f"“#{name[:40]}” is not a category. Use one of: "
                + ", ".join(f"#{c}" for c in categories)
            )
    text = CATEGORY_TOKEN.sub(" ", text)

    owners = set(mentioned_users(text))
    if len(owners) > 1:
        raise InvalidInput("Mention one owner only: a complaint has exactly one owner.")
    text = USER_MENTION.sub(" ", text)

    description = " ".join(text.split())
    if not description:
        raise InvalidInput("Please describe the complaint, e.g. `/complaint !high #billing charged twice for order 1182`.")
    return ComplaintDraft(
        description=description,
        severity=Severity(severities[0].lower()) if severities else Severity.NORMAL,
        category=category or ("other" if "other" in categories else categories[-1]),
        owner_id=owners.pop() if owners else None,
    )


def help_text(hint: str = "") -> str:
    lines = [hint] if hint else []
    lines += [
        "*Log a complaint*: `/complaint` opens a form, or type it in one line:",
        "`/complaint !high #billing @owner customer Jane Roe was charged twice for order 1182`",
        "(`!low` `!normal` `!high` `!urgent` set severity, `#category` the category, "
        "a mention the owner; the rest is the description.)",
        "*Work on complaints*:",
    ]
    lines += [f"• {usage}" for usage in SUBCOMMANDS.values()]
    return "\n".join(lines)
