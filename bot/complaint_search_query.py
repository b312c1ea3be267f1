"""What people type after `/complaint search`, parsed into a `SearchQuery`.

`refund twice status:open owner:<@U1> #billing !high customer:"Jane Roe" since:2026-11-01`
Words are searched; the rest are filters. Anything that looks like a filter but is
not one gets a clear answer naming what exists, never a silent empty result.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo

from rapidfuzz import fuzz, process

from bot.complaint_text import CHANNEL_LINK, USER_MENTION, plain_text
from bot.errors import InvalidInput
from models.complaints import Severity, Status

STATUSES = tuple(s.value for s in Status)
SEVERITIES = tuple(s.value for s in Severity)
FILTER_NAMES = ("status", "owner", "customer", "since", "until")
MAX_QUERY_LENGTH = 500
MAX_WORDS = 16
# The words an index holds: runs of letters and digits, as FTS5's unicode61 splits them.
WORD = re.compile(r"[^\W_]+")
TOKEN = re.compile(r'(?P<name>[A-Za-z]+):(?:"(?P<quoted>[^"]*)"?|(?P<value>\S*))|(?P<word>\S+)')
# Slack sends a link as <https://…|label>; its words are the label or the address.
LINK = re.compile(r"<((?:https?|mailto):[^|>]*)(?:\|([^>]*))?>")
FILTER_HELP = (
    "Filters: `status:" + "|".join(STATUSES) + "`, `owner:@person`, `#category`, `!severity` ("
    + ", ".join(f"!{s}" for s in SEVERITIES) + "), `customer:<name or contact>`, "
    "`since:2026-11-01`, `until:2026-11-30`."
)
EXAMPLE = "e.g. `/complaint search refund twice status:open #billing`"


@dataclass(frozen=True)
class SearchQuery:
    """Search words (lower-cased, as indexed) and filters; `until` is exclusive."""

    words: tuple[str, ...] = ()
    status: str | None = None
    owner_id: str | None = None
    category: str | None = None
    severity: str | None = None
    customer: tuple[str, ...] = ()
    since: datetime | None = None
    until: datetime | None = None

    @property
    def uses_index(self) -> bool:
        """Everything but dates is found through the full-text index."""
        return bool(self.words or self.customer or self.status or self.owner_id or self.category or self.severity)

    def as_text(self) -> str:
        """The query as it could be typed again: `parse_search(q.as_text()) == q`."""
        until = self.until and (self.until - timedelta(days=1)).date().isoformat()
        filters = [
            ("status:{}", self.status), ("owner:<@{}>", self.owner_id), ("#{}", self.category), ("!{}", self.severity),
            ('customer:"{}"', " ".join(self.customer)), ("since:{}", self.since and self.since.date().isoformat()),
            ("until:{}", until),
        ]
        return " ".join([*self.words, *(form.format(value) for form, value in filters if value)])


def words_of(text: str) -> list[str]:
    return WORD.findall(text.lower())


def parse_search(text: str, *, categories: tuple[str, ...], zone: tzinfo = UTC) -> SearchQuery:
    """Dates are whole days in `zone` (the team's time zone), both ends included."""
    text = plain_text(text or "").strip()
    if len(text) > MAX_QUERY_LENGTH:
        raise InvalidInput(
            f"That search is {len(text):,} characters long; searches are up to {MAX_QUERY_LENGTH} characters. "
            "Use a few distinctive words."
        )
    text = LINK.sub(lambda m: f" {m.group(2) or m.group(1)} ", text)
    text = CHANNEL_LINK.sub(lambda m: f"#{m.group(1)}", text)
    found: dict[str, object] = {}
    words: list[str] = []
    for token in TOKEN.finditer(text):
        if token["name"] and not (token["value"] or "").startswith("//"):
            name, value = token["name"].lower(), token["quoted"] if token["quoted"] is not None else token["value"]
            _set(found, name, _filter_value(name, value, token[0], zone))
        elif re.fullmatch(r"#[\w-]+", token[0]) and not token[0][1:].isdigit():
            _set(found, "category", _category(token[0][1:], categories))
        elif re.fullmatch(r"![A-Za-z]+", token[0]):
            _set(found, "severity", _severity(token[0][1:]))
        elif USER_MENTION.fullmatch(token[0]):
            _set(found, "owner", USER_MENTION.fullmatch(token[0]).group(1))
        else:
            words += words_of(token[0])
    if len(words) > MAX_WORDS:
        raise InvalidInput(f"That search has {len(words)} words; use up to {MAX_WORDS} distinctive ones.")
    since, until = found.get("since"), found.get("until")
    if since and until and since >= until:
        raise InvalidInput("`since:` must be on or before `until:`.")
    if not words and not found:
        raise InvalidInput(f"What should I look for? Give some words or filters, {EXAMPLE}. {FILTER_HELP}")
    return SearchQuery(
        words=tuple(dict.fromkeys(words)), status=found.get("status"), owner_id=found.get("owner"),
        category=found.get("category"), severity=found.get("severity"), customer=tuple(found.get("customer", ())),
        since=since, until=until,
    )


def _set(found: dict, name: str, value) -> None:
    if name in found and found[name] != value:
        raise InvalidInput(f"Give one `{name}` only.")
    found[name] = value


def _filter_value(name: str, value: str, typed: str, zone: tzinfo):
    if name not in FILTER_NAMES:
        near = process.extractOne(name, FILTER_NAMES, scorer=fuzz.ratio, score_cutoff=60)
        hint = f"Did you mean `{near[0]}:`? " if near else ""
        raise InvalidInput(f"“{typed[:40]}” is not a filter. {hint}{FILTER_HELP}")
    if not value.strip():
        raise InvalidInput(f"`{name}:` needs a value. {FILTER_HELP}")
    if name == "status":
        if value.lower() not in STATUSES:
            raise InvalidInput(f"“{value[:40]}” is not a status. Use one of: " + ", ".join(f"`status:{s}`" for s in STATUSES))
        return value.lower()
    if name == "owner":
        mention = USER_MENTION.fullmatch(value)
        if not mention:
            raise InvalidInput(f"`owner:` takes a mention, like `owner:@jane`; “{value[:40]}” is not one.")
        return mention.group(1)
    if name == "customer":
        terms = words_of(value)
        if not terms:
            raise InvalidInput("`customer:` needs a name or contact with letters or digits in it.")
        return terms
    day = _date(name, value)
    start = datetime.combine(day, time.min, tzinfo=zone)
    return start if name == "since" else start + timedelta(days=1)


def _date(name: str, value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidInput(f"`{name}:{value[:20]}` is not a date; write it like `{name}:2026-11-30`.") from None


def _category(name: str, categories: tuple[str, ...]) -> str:
    if name.lower() not in categories:
        raise InvalidInput(f"“#{name[:40]}” is not a category. Use one of: " + ", ".join(f"#{c}" for c in categories))
    return name.lower()


def _severity(name: str) -> str:
    if name.lower() not in SEVERITIES:
        raise InvalidInput(f"“!{name[:40]}” is not a severity. Use one of: " + ", ".join(f"!{s}" for s in SEVERITIES))
    return name.lower()
