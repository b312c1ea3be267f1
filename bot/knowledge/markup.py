"""Article Markdown to Slack mrkdwn, with markdown-it-py doing the parsing.

Slack's mrkdwn has bold (`*b*`), italics (`_i_`), strike (`~s~`), code, quotes and
`<url|text>` links, but no headings, lists or tables: headings become bold lines,
lists get bullets or numbers (indented when nested) and tables become rows of cells
separated by `|`. All text is escaped, so an article can never ping anyone. Links to
other articles (relative paths) become their text, since they have no URL in Slack.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache

from markdown_it import MarkdownIt
from markdown_it.tree import SyntaxTreeNode

_SCHEME = re.compile(r"^(https?|mailto):", re.IGNORECASE)
_parser = MarkdownIt("commonmark", {"html": False}).enable(["strikethrough", "table"])


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _inline(node: SyntaxTreeNode) -> str:
    parts = []
    for child in node.children:
        kind = child.type
        if kind == "text":
            parts.append(_escape(child.content))
        elif kind == "softbreak":
            parts.append(" ")
        elif kind == "hardbreak":
            parts.append("\n")
        elif kind == "code_inline":
            parts.append(f"`{_escape(child.content)}`")
        elif kind == "strong":
            parts.append(_wrap(_inline(child), "*"))
        elif kind == "em":
            parts.append(_wrap(_inline(child), "_"))
        elif kind == "s":
            parts.append(_wrap(_inline(child), "~"))
        elif kind == "link":
            parts.append(_link(str(child.attrs.get("href", "")), _inline(child)))
        elif kind == "image":
            parts.append(_link(str(child.attrs.get("src", "")), _escape(child.content) or "image"))
        else:  # html_inline and anything unknown: shown as text
            parts.append(_escape(child.content) if child.content else _inline(child))
    return "".join(parts)


def _wrap(text: str, marker: str) -> str:
    stripped = text.strip()
    return f"{marker}{stripped}{marker}" if stripped else text


def _link(href: str, text: str) -> str:
    if _SCHEME.match(href) and "|" not in href and ">" not in href:
        return f"<{href.replace(' ', '%20')}|{text or _escape(href)}>"
    return text or _escape(href)


def _blocks(node: SyntaxTreeNode, depth: int = 0) -> list[str]:
    """The mrkdwn of each block-level child of `node`, in order."""
    out = []
    for child in node.children:
        kind = child.type
        if kind == "paragraph":
            out.append(_inline(child.children[0]) if child.children else "")
        elif kind == "heading":
            out.append(_wrap(_inline(child.children[0]), "*"))
        elif kind in ("bullet_list", "ordered_list"):
            out.append("\n".join(_list_lines(child, depth)))
        elif kind in ("fence", "code_block"):
            out.append("```\n" + _escape(child.content.rstrip("\n")) + "\n```")
        elif kind == "blockquote":
            out.append("\n".join("> " + line for block in _blocks(child, depth) for line in block.split("\n")))
        elif kind == "hr":
            out.append("――――――")
        elif kind == "table":
            out.append("\n".join(_table_rows(child)))
        elif kind == "html_block":
            out.append(_escape(child.content.strip()))
        elif child.children:
            out += _blocks(child, depth)
    return [block for block in out if block.strip()]


def _list_lines(node: SyntaxTreeNode, depth: int) -> list[str]:
    lines = []
    start = int(node.attrs.get("start", 1)) if node.type == "ordered_list" else 1
    indent = "    " * depth
    for number, item in enumerate(node.children, start=start):
        marker = f"{number}." if node.type == "ordered_list" else "•"
        first = True
        for child in item.children:
            if child.type in ("bullet_list", "ordered_list"):
                lines += _list_lines(child, depth + 1)
                continue
            for block in _blocks(_Holder(child), depth + 1):
                for line in block.split("\n"):
                    lines.append(f"{indent}{marker} {line}" if first else f"{indent}   {line}")
                    first = False
    return lines


class _Holder:
    """Lets `_blocks` render a single node as if it were a container's only child."""

    def __init__(self, node: SyntaxTreeNode) -> None:
        self.children = [node]


def _table_rows(node: SyntaxTreeNode) -> list[str]:
    rows = []
    for section in node.children:
        for row in section.children:
            cells = [_inline(cell.children[0]) if cell.children else "" for cell in row.children]
            line = " | ".join(cells)
            rows.append(f"*{line}*" if section.type == "thead" else line)
    return rows


@lru_cache(maxsize=512)
def mrkdwn_blocks(markdown: str) -> tuple[str, ...]:
    """Each block of the article (paragraph, list, code, table…) as mrkdwn."""
    return tuple(_blocks(SyntaxTreeNode(_parser.parse(markdown or ""))))


def to_mrkdwn(markdown: str) -> str:
    return "\n\n".join(mrkdwn_blocks(markdown))


def excerpt(markdown: str, limit: int = 300) -> str:
    """The first blocks of the article that fit in `limit` characters (at least one, cut)."""
    taken: list[str] = []
    size = 0
    for block in mrkdwn_blocks(markdown):
        if taken and size + len(block) + 2 > limit:
            taken.append("…")
            break
        if not taken and len(block) > limit:
            return _cut(block, limit)
        taken.append(block)
        size += len(block) + 2
    return "\n".join(taken)


def pages(markdown: str, limit: int = 2900) -> list[str]:
    """The whole article as mrkdwn pieces of at most `limit` characters, split between
    blocks where possible (a Slack section holds 3000)."""
    return _pack((piece for block in mrkdwn_blocks(markdown) for piece in _split_block(block, limit)), limit, "\n\n")


def _split_block(block: str, limit: int) -> list[str]:
    if len(block) <= limit:
        return [block]
    code = block.startswith("```")
    body = block[4:-4] if code else block
    room = limit - 8 if code else limit
    # Lines longer than a piece are cut into pieces of their own.
    lines = (line[start:start + room] for line in body.split("\n") for start in range(0, max(len(line), 1), room))
    pieces = _pack(lines, room, "\n")
    return [f"```\n{piece}\n```" if code else piece for piece in pieces]


def _cut(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    # Do not end inside an escape such as &amp; or a <link|text>.
    cut = re.sub(r"&[a-z]*$|<[^>]*$", "", cut)
    return cut.rstrip() + "…"


def plain_text(markdown: str) -> str:
    """Article text without Markdown syntax or URLs, for search."""
    text = to_mrkdwn(markdown)
    text = re.sub(r"<[^|>]*\|([^>]*)>", r"\1", text)
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _pack(pieces: Iterable[str], limit: int, separator: str) -> list[str]:
    """Join consecutive pieces with `separator` into strings of at most `limit` characters."""
    packed: list[str] = []
    current = ""
    for piece in pieces:
        if current and len(current) + len(separator) + len(piece) > limit:
            packed.append(current)
            current = piece
        else:
            current = f"{current}{separator}{piece}" if current else piece
    if current:
        packed.append(current)
    return packed
