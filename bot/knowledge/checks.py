"""Problems that only show across articles: duplicate titles or questions, broken links."""

from __future__ import annotations

import posixpath
import re
from collections.abc import Collection, Sequence
from urllib.parse import unquote

from bot.knowledge.articles import Article, Problem
from bot.knowledge.text import normalise_many

# [text](target) and ![alt](target), with an optional "title"; targets with a scheme
# (https:, mailto:) or only an #anchor are not files and are not checked.
_LINK = re.compile(r"\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+[\"'][^\"']*[\"'])?\s*\)")
_SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")
_FENCE = re.compile(r"^\s*(```|~~~)")


def across_articles(articles: Sequence[Article], files: Collection[str]) -> list[Problem]:
    """Duplicates and broken internal links; `files` are every file's relative path."""
    problems: list[Problem] = []
    titles: dict[str, Article] = {}
    questions: dict[str, tuple[Article, int]] = {}
    ordered = sorted(articles, key=lambda a: a.path)
    for article, key in zip(ordered, normalise_many([article.title for article in ordered])):
        if key in titles:
            problems.append(Problem(article.path, article.title_line,
                                    f"the same title as {titles[key].path}; titles must differ", article.owner))
        else:
            titles[key] = article
        for question, key, line in zip(article.questions, article.question_keys, article.question_lines):
            if not key:
                continue
            if key in questions:
                first, first_line = questions[key]
                problems.append(Problem(article.path, line,
                                        f"duplicate question “{question[:80]}” (also {first.path}:{first_line})", article.owner))
            else:
                questions[key] = (article, line)
        problems += broken_links(article, files)
    return problems


def broken_links(article: Article, files: Collection[str]) -> list[Problem]:
    problems: list[Problem] = []
    if "](" not in article.body:
        return problems  # most articles link nowhere: no need to look at each line
    folder = posixpath.dirname(article.path)
    in_code = False
    for offset, line in enumerate(article.body.split("\n")):
        if _FENCE.match(line):
            in_code = not in_code
            continue
        if in_code or "](" not in line:
            continue
        for match in _LINK.finditer(line):
            target = match.group(1)
            if _SCHEME.match(target) or target.startswith(("#", "/")):
                continue
            relative = unquote(target.split("#", 1)[0].split("?", 1)[0])
            resolved = posixpath.normpath(posixpath.join(folder, relative))
            if resolved not in files:
                problems.append(Problem(article.path, article.body_line + offset,
                                        f"broken link: {target} does not exist", article.owner))
    return problems
