"""One knowledge-base article: a Markdown file with YAML front matter.

    ---
    title: Taking ownership of a complaint        (required)
    tags: [complaints, ownership]                 (a list, or words separated by commas)
    questions:                                    (how people ask for this, one per line)
      - who owns this complaint
    owner: U012ABCDEF                             (the admin who keeps it current)
    updated: 2026-11-23                           (when it was last checked)
    ---
    The article, in Markdown.

`parse_article` never raises on bad input: it returns what it could read and the
problems it found, each with the line they are on.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from datetime import date, datetime

import yaml

from bot.knowledge.text import normalise_many
from bot.mentions import SLACK_USER_ID

KNOWN_KEYS = ("title", "tags", "questions", "owner", "updated")
_TOP_LEVEL_KEY = re.compile(r"^([^\s#:][^:]*?)\s*:(?:\s|$)")
_OWNER_LINE = re.compile(r"^owner\s*:\s*['\"]?([UW][A-Z0-9]{2,20})", re.MULTILINE)
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
MAX_TITLE = 200


@dataclass(frozen=True)
class Problem:
    """Something wrong in a file, at a line (1-based); `owner` is who to tell, if known."""

    path: str
    line: int
    message: str
    owner: str = field(default="", compare=False)

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}"


@dataclass(frozen=True)
class Article:
    path: str  # relative to the knowledge folder, with forward slashes
    title: str
    body: str
    tags: tuple[str, ...] = ()
    questions: tuple[str, ...] = ()
    owner: str = ""
    updated: date | None = None
    # Lines in the file, for problems found across articles (duplicates, links).
    title_line: int = 1
    question_lines: tuple[int, ...] = ()
    # Normalised questions, for finding duplicates across articles.
    question_keys: tuple[str, ...] = ()
    body_line: int = 1

    @property
    def category(self) -> str:
        """The sub-folder the article is in ("" at the top of the knowledge folder)."""
        return self.path.rpartition("/")[0]


def parse_article(path: str, data: bytes) -> tuple[Article | None, list[Problem]]:
    """The article in `data` (a file's bytes), or None when it is unusable, and its problems."""
    if b"\x00" in data:
        return None, [Problem(path, 1, "this is a binary file, not Markdown text")]
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        return None, [Problem(path, line, f"not UTF-8 text (byte 0x{data[exc.start]:02x}); save the file as UTF-8")]
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    owner_match = _OWNER_LINE.search(text[:4000])
    owner = owner_match.group(1) if owner_match else ""

    def problem(line: int, message: str) -> Problem:
        return Problem(path, line, message, owner)

    if not lines or lines[0].strip() != "---":
        return None, [problem(1, "no front matter: start the file with a line `---`, then `title: ...`, then `---`")]
    end = next((i for i in range(1, len(lines)) if lines[i].rstrip() in ("---", "...")), None)
    if end is None:
        return None, [problem(1, "the front matter is never closed: add a line `---` after it")]
    front_matter = "\n".join(lines[1:end])
    try:
        meta = yaml.load(front_matter, Loader=_Loader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        reason = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        return None, [problem(mark.line + 2 if mark else 1, f"bad YAML in the front matter: {reason}")]
    if meta is None:
        meta = {}
    if not isinstance(meta, dict):
        return None, [problem(2, "the front matter must be `key: value` lines (title, tags, questions, owner, updated)")]

    key_lines = _key_lines(lines[1:end])
    problems: list[Problem] = []
    for key in meta:
        if key not in KNOWN_KEYS:
            close = difflib.get_close_matches(str(key), KNOWN_KEYS, n=1)
            hint = f"; did you mean `{close[0]}`?" if close else f" (known keys: {', '.join(KNOWN_KEYS)})"
            problems.append(problem(key_lines.get(str(key), 2), f"unknown key `{key}`{hint}"))

    title = meta.get("title")
    title = "" if title is None else " ".join(str(title).split())
    if not title:
        problems.append(problem(key_lines.get("title", 1), "missing title: add `title: ...` to the front matter"))
    elif len(title) > MAX_TITLE:
        problems.append(problem(key_lines["title"], f"the title is {len(title)} characters; keep it under {MAX_TITLE}"))

    tags = _string_list(meta.get("tags"), split_on=",")
    if tags is None:
        problems.append(problem(key_lines.get("tags", 2), "tags must be a list or words separated by commas"))
    questions = _string_list(meta.get("questions"), split_on="\n")
    if questions is None:
        problems.append(problem(key_lines.get("questions", 2), "questions must be a list, one question per item"))

    owner_value = meta.get("owner")
    owner_id = "" if owner_value is None else str(owner_value).strip()
    if owner_id and not SLACK_USER_ID.match(owner_id):
        problems.append(problem(key_lines.get("owner", 2), f"owner `{owner_id[:40]}` is not a Slack user ID like U012ABCDEF"))
        owner_id = ""

    updated = _date(meta.get("updated"))
    if updated is False:
        problems.append(problem(key_lines.get("updated", 2), "updated must be a date like 2026-11-23"))
        updated = None

    first = end + 1
    while first < len(lines) and not lines[first].strip():
        first += 1
    body = "\n".join(lines[first:]).rstrip()
    body_line = first + 1
    if not body.strip():
        problems.append(problem(end + 2, "the article has no text below the front matter"))
    if not title:
        return None, problems
    question_tuple = tuple(questions or ())
    article = Article(
        path=path,
        title=title,
        body=body,
        tags=tuple(tags or ()),
        questions=question_tuple,
        owner=owner_id,
        updated=updated,
        title_line=key_lines.get("title", 2),
        question_keys=tuple(normalise_many(question_tuple)),
        question_lines=tuple(_line_of(q, front_matter, key_lines.get("questions", 2)) for q in question_tuple),
        body_line=body_line,
    )
    return article, problems


def _key_lines(front_matter: list[str]) -> dict[str, int]:
    """File line of each top-level key (the front matter starts on line 2)."""
    found = {}
    for offset, line in enumerate(front_matter):
        match = _TOP_LEVEL_KEY.match(line)
        if match:
            found.setdefault(match.group(1).strip("'\""), offset + 2)
    return found


def _line_of(text: str, front_matter: str, default: int) -> int:
    """The file line where `text` (its start; one line of it) first appears in the front matter."""
    found = front_matter.find(text[:40])
    if found < 0:
        return default
    return front_matter.count("\n", 0, found) + 2


def _string_list(value: object, *, split_on: str) -> list[str] | None:
    """A list of non-empty strings, from a YAML list or a string; None if it is neither."""
    if value is None:
        return []
    if isinstance(value, str):
        items = value.split(split_on)
    elif isinstance(value, list) and all(isinstance(item, (str, int, float)) for item in value):
        items = [str(item) for item in value]
    else:
        return None
    return [" ".join(item.split()) for item in items if item.strip()]


def _date(value: object) -> date | None | bool:
    """A date, None when absent, False when it is not a date."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError:
        return False
