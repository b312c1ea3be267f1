"""Parse what people type after `/complaint` into a command or a complaint draft."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from rapidfuzz import fuzz, process

from bot.complaint_edits import Edit
from bot.complaints import ComplaintDraft, parse_reference
from bot.errors import InvalidInput
from bot.mentions import USER_MENTION, mentioned_users
from models.complaints import ContactChannel, Severity
from models.customers import contact_key

# A `#word` Slack recognised as a channel arrives as <#C123|word>.
CHANNEL_LINK = re.compile(r"<#[CG][A-Z0-9]+\|([^>]*)>")
SEVERITY_TOKEN = re.compile(r"(?<!\S)!(low|normal|high|urgent)(?!\S)", re.IGNORECASE)
CATEGORY_TOKEN = re.compile(r"(?<!\S)#([\w-]+)(?!\S)")
# Any `!word` is meant as a severity; one that is not a severity is refused, not kept
# in the description (`!critical` would otherwise log a *normal* complaint).
BANG_WORD = re.compile(r"(?<!\S)!([A-Za-z][\w-]*)(?!\S)")
# A complaint reference as the second word means a command was meant (`close C-1`).
REFERENCE_WORD = re.compile(r"^[cC]?-?\d+$")
PREFIXED_REFERENCE = re.compile(r"^[cC]-?\d+$")
# `customer` followed by at most this many words looks a customer up (see parse).
CUSTOMER_LOOKUP_WORDS = 4
# Words people reach for that are not commands, and the command they mean.
LOOKALIKES = {"close": "resolve", "status": "show", "comment": "note", "reassign": "assign"}
# @channel/@here/@everyone arrive as <!channel> etc.; stored as plain words so they
# can never ping anyone when the text is shown again.
SPECIAL_MENTION = re.compile(r"<!(channel|here|everyone)(?:\|[^>]*)?>")
# `/complaint edit C-42 customer Jane Roe; contact jane@example.com; via email`: the
# word that starts each `;`-separated part, and the field it sets. `description` takes
# the rest of the line, `;` and all; so does any text that starts with no such word.
EDIT_FIELDS = {"customer": "customer_name", "contact": "customer_contact", "via": "contact_channel",
               "description": "description"}
CLEARED = "none"
CHANNELS = ", ".join(channel.value for channel in ContactChannel)

SUBCOMMANDS = {
    "list": "`list` — your open complaints; `list open` (or `all`) — everyone's; `list waiting`, `list resolved` "
            "(or `closed`), `list merged` — page through those",
    "search": "`search refund twice status:open owner:@sam #billing !high customer:jane since:2026-11-01 until:2026-11-30`"
              " — find past complaints (typos forgiven); every filter is optional",
    "show": "`show C-42` — details and full history",
    "customer": "`customer jane@example.com` — a customer's complaints (by e-mail, phone or name)",
    "follow": "`follow C-42` — be told when it is resolved or reopened (you follow what you log)",
    "unfollow": "`unfollow C-42` — stop being told",
    "take": "`take C-42` — take ownership",
    "assign": "`assign C-42 @person` — hand it to someone else",
    "responded": "`responded C-42 [note]` — you got back to the customer",
    "note": "`note C-42 <text>` — add a note",
    "resolve": "`resolve C-42 <resolution>` — close it, saying how",
    "reopen": "`reopen C-42` — open it again",
    "rate": "`rate C-42 9 [comment]` — the customer's answer (0–10) to “how likely are you to recommend us?”",
    "survey": "`survey C-42` — the customer's survey link again, to send them (after resolution)",
    "followed-up": "`followed-up C-42 [note]` — you checked back with the customer after resolving it",
    "edit": (
        "`edit C-42 !urgent #billing` — correct it (owner, managers and admins): `!severity`, `#category`, "
        f"then `customer <name>; contact <email or phone>; via <{CHANNELS.replace(', ', '|')}>` "
        f"(`{CLEARED}` clears a customer field), or any other text as the new description "
        "(`description <text>` when it starts with one of those words)"
    ),
    "merge": "`merge C-43 into C-42` — close C-43 as a duplicate of C-42, copying its notes across",
    "waiting": "`waiting C-42 [note]` — waiting on the customer: the resolution clock stops",
    "customer-replied": "`customer-replied C-42 <what they said>` — the customer's answer; the clock runs again",
    "resume": "`resume C-42 [note]` — start the clock again without a reply (`responded` also does)",
    "help": "`help` — this message",
}
# The commands that name one complaint right after the command word; people also type
# the complaint first (`/complaint C-42 note called back`), which means the same.
ABOUT_ONE_COMPLAINT = SUBCOMMANDS.keys() - {"list", "search", "customer", "help"}


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
    if PREFIXED_REFERENCE.match(first):
        return _reference_first(first, rest.strip())
    if word == "customer" and not _is_customer_lookup(rest):
        return parse_draft(text, categories=categories)  # "customer was charged twice ..."
    if word in SUBCOMMANDS:
        if word == "help":
            return HelpRequest()
        return Subcommand(word, rest.split(), rest.strip())
    second = rest.split(" ", 1)[0]
    # `C-42` after any word means a command was meant; a bare `42` only after a word
    # close to a command (`costs 5 euros` is a complaint).
    names_a_complaint = bool(rest) and bool(PREFIXED_REFERENCE.match(second))
    names_by_number = bool(rest) and bool(REFERENCE_WORD.match(second))
    if word in LOOKALIKES:
        # These words start commands far more often than complaints: help, never a complaint.
        return HelpRequest(hint=_did_you_mean(LOOKALIKES[word], second if names_by_number else "C-42", first))
    near = _nearest_subcommand(word)
    if near and (names_by_number or not rest):
        return HelpRequest(hint=_did_you_mean(near, second or "C-42", first))
    if names_a_complaint and not first.startswith(("!", "#", "<")):
        return HelpRequest(hint=f"“{first[:30]}” is not a command I know, so nothing was logged.")
    if " " not in text and not text.startswith(("!", "#", "<")):
        return HelpRequest(hint="To log a complaint, describe it in a few words.")
    return parse_draft(text, categories=categories)


def _reference_first(reference: str, rest: str) -> Subcommand | HelpRequest:
    """`C-42` alone shows it; `C-42 note called back` is `note C-42 called back`. Anything
    else after a complaint's ID is not logged as a new complaint: it was surely meant for C-42."""
    if not rest:
        return Subcommand("show", [reference], reference)
    verb, _, after = rest.partition(" ")
    command = LOOKALIKES.get(verb.lower(), verb.lower())
    if command in ABOUT_ONE_COMPLAINT:
        rest = f"{reference} {after.strip()}".strip()
        return Subcommand(command, rest.split(), rest)
    return HelpRequest(hint=(
        f"To work on {reference[:12]}, start with what to do, e.g. `/complaint note {reference[:12]} {rest[:30]}`. "
        "Nothing was logged; to log a new complaint that starts with a complaint's ID, put its severity first: "
        f"`/complaint !normal {reference[:12]} …`."
    ))


def _is_customer_lookup(rest: str) -> bool:
    """`customer jane@example.com` or `customer Jane Roe` looks a customer up; a longer
    sentence starting with "customer" is a complaint."""
    words = rest.split()
    return len(words) <= CUSTOMER_LOOKUP_WORDS or bool(contact_key(rest).startswith(("email:", "phone:")))


def _did_you_mean(command: str, reference: str, typed: str) -> str:
    return (
        f"Did you mean `{command}`? For example `/complaint {command} {reference[:12]}`. Nothing was logged; "
        f"to log a complaint that starts with “{typed[:30]}”, put its severity first: `/complaint !normal {typed[:30]} …`."
    )


def _nearest_subcommand(word: str) -> str | None:
    near = process.extractOne(word, SUBCOMMANDS.keys(), scorer=fuzz.ratio, score_cutoff=75)
    return near[0] if near else None


def _take_severity(text: str) -> tuple[Severity | None, str]:
    """The `!severity` in `text` (refusing unknown and conflicting ones), and the text without it."""
    for word in BANG_WORD.findall(text):
        if word.lower() not in {severity.value for severity in Severity}:
            raise InvalidInput(
                f"“!{word[:30]}” is not a severity. Use one of: " + ", ".join(f"!{s.value}" for s in Severity) + "."
            )
    severities = SEVERITY_TOKEN.findall(text)
    if len({s.lower() for s in severities}) > 1:
        raise InvalidInput("Give one severity only: !low, !normal, !high or !urgent.")
    return (Severity(severities[0].lower()) if severities else None), SEVERITY_TOKEN.sub(" ", text)


def _take_category(text: str, categories: tuple[str, ...]) -> tuple[str | None, str]:
    """The `#category` in `text` (refusing unknown and conflicting ones), and the text without it."""
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
    return category, CATEGORY_TOKEN.sub(" ", text)


def parse_draft(text: str, *, categories: tuple[str, ...]) -> ComplaintDraft:
    """`!high #billing <@U1> customer was charged twice` -> a draft."""
    severity, text = _take_severity(text)
    category, text = _take_category(text, categories)

    owners = set(mentioned_users(text))
    if len(owners) > 1:
        raise InvalidInput("Mention one owner only: a complaint has exactly one owner.")
    text = USER_MENTION.sub(" ", text)

    description = " ".join(text.split())
    if not description:
        raise InvalidInput("Please describe the complaint, e.g. `/complaint !high #billing charged twice for order 1182`.")
    return ComplaintDraft(
        description=description,
        severity=severity or Severity.NORMAL,
        category=category or ("other" if "other" in categories else categories[-1]),
        owner_id=owners.pop() if owners else None,
    )


def parse_edit(text: str, *, categories: tuple[str, ...]) -> Edit:
    """What follows `/complaint edit C-42`: `!urgent #billing customer Jane Roe; via phone`."""
    severity, text = _take_severity(text)
    category, text = _take_category(text, categories)
    if mentioned_users(text):
        raise InvalidInput("An edit doesn't change the owner: use `/complaint assign C-42 @person` for that.")
    rest = " ".join(text.split())
    first = rest.partition(" ")[0].lower()
    fields = _edit_fields(rest) if first in EDIT_FIELDS else ({"description": rest} if rest else {})
    if "contact_channel" in fields:
        fields["contact_channel"] = _contact_channel(fields["contact_channel"])
    return Edit(severity=severity, category=category, **fields)


def _edit_fields(text: str) -> dict[str, str]:
    """`customer Jane Roe; contact jane@example.com; description …` -> values by field."""
    values: dict[str, str] = {}
    while text.strip():
        word, _, after = text.strip().partition(" ")
        name = EDIT_FIELDS.get(word.lower())
        if name is None:
            raise InvalidInput(
                f"“{word[:30]}” is not something I can edit. Separate the parts with `;`, e.g. "
                "`customer Jane Roe; contact jane@example.com; via email; description …`."
            )
        if name in values:
            raise InvalidInput(f"Give `{word.lower()}` once only.")
        if name == "description":
            value, text = after, ""
        else:
            value, _, text = after.partition(";")
        value = value.strip()
        if not value:
            raise InvalidInput(f"Give the new value after `{word.lower()}` (`{word.lower()} {CLEARED}` clears it).")
        values[name] = "" if value.lower() == CLEARED and name != "description" else value
    return values


def _contact_channel(text: str) -> ContactChannel:
    try:
        return ContactChannel(text.lower())
    except ValueError:
        raise InvalidInput(f"“{text[:30]}” is not a way of contacting us. Use one of: {CHANNELS}.") from None


def parse_merge(args: list[str]) -> int:
    """What follows `/complaint merge C-43`: `into C-42` (or just `C-42`) -> 42."""
    words = [word for word in args if word.lower() != "into"]
    if len(words) != 1:
        raise InvalidInput("Say which complaint to keep, e.g. `/complaint merge C-43 into C-42`.")
    return parse_reference(words[0])


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
