"""`/complaint help` and the README's command table name exactly the subcommands the
parser accepts, and the same `list` words the handler pages through: nothing missing,
nothing extra (issue 12 point 10)."""

from __future__ import annotations

import re
from pathlib import Path

from bot.complaint_text import SUBCOMMANDS, HelpRequest, Subcommand, help_text, parse
from handlers.complaints import LISTED_BY_SEARCH, LISTED_OPEN

README = Path(__file__).resolve().parent.parent / "README.md"
CATEGORIES = ("billing", "other")
CODE = re.compile(r"`([^`]+)`")


def accepted_subcommands() -> set[str]:
    """Every first word the parser takes as a command, rather than a complaint."""
    accepted = set()
    for word in SUBCOMMANDS:
        parsed = parse(f"{word} C-1", categories=CATEGORIES)
        if isinstance(parsed, Subcommand) or parsed == HelpRequest():
            accepted.add(word)
    return accepted


def readme_rows() -> list[str]:
    """The first cell of each row of the table under "Logging and owning complaints"."""
    section = README.read_text(encoding="utf-8").split("## Logging and owning complaints", 1)[1].split("\n#", 1)[0]
    return [line.split("|")[1] + "|" + line.split("|")[2] for line in section.splitlines() if line.startswith("| `")]


def named(texts: list[str]) -> set[str]:
    """The subcommand each `/complaint word …` or `word …` in backticks names."""
    names = set()
    for text in texts:
        for code in CODE.findall(text):
            words = code.removeprefix("/complaint").split()
            if words and words[0][0].isalpha() and words[0].lower() in SUBCOMMANDS.keys() | {"list"}:
                names.add(words[0].lower())
    return names


def list_words(text: str) -> set[str]:
    """`list open`, `list resolved` (or `closed`)… -> {"open", "resolved", "closed"}."""
    return {code.split()[-1] for code in CODE.findall(text) if code.split()[-1] not in ("list", "/complaint")}


def test_help_names_every_subcommand_the_parser_accepts_and_nothing_else():
    lines = [line for line in help_text().splitlines() if line.startswith("• ")]
    first_words = [CODE.findall(line)[0].split()[0] for line in lines]
    assert sorted(first_words) == sorted(accepted_subcommands())
    assert len(first_words) == len(set(first_words))


def test_the_readme_table_names_every_subcommand_the_parser_accepts_and_nothing_else():
    rows = readme_rows()
    firsts = [CODE.findall(row.split("|")[0])[0].removeprefix("/complaint").split() for row in rows]
    # Rows that are not subcommands: the form (`/complaint`), a one-line complaint, the message menu.
    commands = [words[0] for words in firsts if words and words[0][0].isalpha() and "Log as complaint" not in words]
    assert sorted(set(commands)) == sorted(accepted_subcommands())
    # A command written in a row's first cell is one the parser takes; the rest describe.
    unknown = {words[0] for words in firsts if words and words[0][0].isalpha()} - accepted_subcommands()
    assert unknown == set()
    assert named(rows) <= accepted_subcommands()


def test_help_and_readme_name_the_same_list_words_the_handler_accepts():
    accepted = set(LISTED_BY_SEARCH) | set(LISTED_OPEN)
    [help_line] = [line for line in help_text().splitlines() if line.startswith("• `list`")]
    [readme_row] = [row for row in readme_rows() if row.startswith(" `/complaint list`")]
    assert list_words(help_line) == accepted
    assert list_words(readme_row) == accepted


def test_the_parser_refuses_a_word_neither_lists():
    parsed = parse("frobnicate C-1", categories=CATEGORIES)
    assert isinstance(parsed, HelpRequest) and "not a command I know" in parsed.hint
