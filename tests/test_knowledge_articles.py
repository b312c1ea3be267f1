"""Parsing articles, the checks across them, and Markdown to mrkdwn."""

from __future__ import annotations

from datetime import date

import pytest

from bot.knowledge.articles import Article, parse_article
from bot.knowledge.checks import across_articles
from bot.knowledge.markup import excerpt, pages, to_mrkdwn
from bot.knowledge.text import normalise, normalise_many, normalised_words, stem, terms


def parse(text: str, path: str = "a.md"):
    return parse_article(path, text.encode("utf-8"))


def messages(problems) -> list[str]:
    return [str(p) for p in problems]


def test_a_complete_article():
    article, problems = parse(
        "---\ntitle: Returns\ntags: returns, exchange\nquestions:\n  - can I return it\n  - swap size\n"
        "owner: U012ABCDEF\nupdated: 2026-01-10\n---\n\nBody **here**.\n",
        path="shop/returns.md",
    )
    assert problems == []
    assert article.title == "Returns" and article.category == "shop"
    assert article.tags == ("returns", "exchange")
    assert article.questions == ("can I return it", "swap size")
    assert article.owner == "U012ABCDEF" and article.updated == date(2026, 1, 10)
    assert article.question_lines == (5, 6) and article.body_line == 11
    assert article.body == "Body **here**."


def test_questions_may_be_one_per_line_in_a_block():
    article, problems = parse("---\ntitle: T\nquestions: |\n  first one\n  second one\n---\nbody\n")
    assert problems == [] and article.questions == ("first one", "second one")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("no front matter\n", "a.md:1: no front matter"),
        ("---\ntitle: x\n", "a.md:1: the front matter is never closed"),
        ("---\ntitle: [unclosed\n---\nbody\n", "a.md:3: bad YAML"),
        ("---\n- a list\n---\nbody\n", "a.md:2: the front matter must be `key: value` lines"),
        ("---\ntags: [a]\n---\nbody\n", "a.md:1: missing title"),
        ("---\ntitle: x\n---\n\n  \n", "a.md:4: the article has no text"),
        ("---\ntitle: x\nquestion: [a]\n---\nbody\n", "a.md:3: unknown key `question`; did you mean `questions`?"),
        ("---\ntitle: x\nowner: alice\n---\nbody\n", "a.md:3: owner `alice` is not a Slack user ID"),
        ("---\ntitle: x\nupdated: last week\n---\nbody\n", "a.md:3: updated must be a date"),
        ("---\ntitle: x\ntags: {a: 1}\n---\nbody\n", "a.md:3: tags must be a list"),
        ("---\ntitle: x\nquestions: 7\n---\nbody\n", "a.md:3: questions must be a list"),
        ("---\ntitle: " + "x" * 300 + "\n---\nbody\n", "a.md:2: the title is 300 characters"),
    ],
)
def test_each_problem_names_its_line(text, expected):
    _, problems = parse(text)
    assert any(message.startswith(expected) for message in messages(problems)), messages(problems)


def test_binary_and_non_utf8_files_are_problems_not_crashes():
    article, problems = parse_article("b.md", b"\x89PNG\r\n\x1a\n\x00\x00")
    assert article is None and "binary file" in str(problems[0])
    article, problems = parse_article("c.md", b"---\ntitle: caf\xe9\n---\nbody")
    assert article is None and str(problems[0]).startswith("c.md:2: not UTF-8 text (byte 0xe9)")


def test_a_bom_and_windows_line_endings_are_fine():
    article, problems = parse_article("w.md", "\ufeff---\r\ntitle: Windows\r\n---\r\nbody\r\n".encode("utf-8"))
    assert problems == [] and article.title == "Windows"


def test_the_owner_of_a_broken_file_is_still_known_so_they_can_be_told():
    _, problems = parse("---\ntitle: [bad\nowner: U0OWNER1\n---\nbody\n")
    assert problems[0].owner == "U0OWNER1"


def article(path: str, title: str, questions=(), body="text", line=2) -> Article:
    return Article(path=path, title=title, body=body, questions=tuple(questions), title_line=line,
                   question_keys=tuple(normalise(q) for q in questions),
                   question_lines=tuple(range(3, 3 + len(questions))), body_line=6)


def test_duplicates_and_broken_links_across_articles():
    articles = [
        article("a.md", "Refunds", ["How long does a refund take?"], body="See [b](sub/b.md) and [x](missing.md#top)"),
        article("sub/b.md", "refunds!", ["how long does a refund take"], body="[up](../a.md) [web](https://x.y) [mail](mailto:a@b.c)\n"
                "```\n[not a link](nowhere.md)\n```\n![img](pic.png)"),
    ]
    problems = messages(across_articles(articles, {"a.md", "sub/b.md", "sub/pic.png"}))
    assert problems == [
        "a.md:6: broken link: missing.md#top does not exist",
        "sub/b.md:2: the same title as a.md; titles must differ",
        "sub/b.md:3: duplicate question “how long does a refund take” (also a.md:3)",
    ]


def test_normalising_and_stemming():
    assert normalise("  Café CHARGED twice!!! What's ón?  ") == "cafe charged twice whats on"
    assert normalise("🙂🙂 ???") == ""
    assert normalise("Как дела") == "как дела"
    assert {stem(w) for w in ("charge", "charged", "charges", "charging")} == {"charg"}
    assert stem("transferred") == stem("transfer") == "transf"
    assert stem("verification")[:6] == stem("verify")[:6] or stem("verification") == "verifi"
    assert terms("the cards") == ["card"] and terms("the cards", drop_stopwords=False) == ["the", "card"]


TRICKY_TEXTS = [
    "", "  ", "\n", "x\n\ny", "Héllo\nWörld", "a_b-c foo__bar", "’don't’ it's `ok`", "ǅemal ﬁne", "ΣΑΣ ς",
    "İstanbul", "e\u0301t\u0301e", "日本語 テキスト", "🙂🙂 ???", "tab\tvt\x0bff\x0ccr\r fs\x1c del\x7f",
    "Plain ASCII, with punctuation: (yes) [no] {maybe}!", "Café CHARGED twice!!!",
]


@pytest.mark.parametrize("size", [1, 2, 5, len(TRICKY_TEXTS)])
def test_normalising_many_texts_at_once_is_normalising_each(size):
    for start in range(0, len(TRICKY_TEXTS), size):
        texts = TRICKY_TEXTS[start:start + size]
        assert normalise_many(texts) == [normalise(text) for text in texts]
        assert normalised_words(texts) == [normalise(text).split() for text in texts]
    assert normalise_many([]) == [] and normalised_words([]) == []


def test_markdown_becomes_mrkdwn():
    text = to_mrkdwn(
        "# Heading\n\nSome **bold**, _it_, ~~gone~~ and [a link](https://x.example/a?b=1) and [other](other.md).\n\n"
        "- one\n- two\n  1. nested\n\n```\ncode <b>\n```\n\n> quoted\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n<!channel> & <@U1>"
    )
    assert text.split("\n\n") == [
        "*Heading*",
        "Some *bold*, _it_, ~gone~ and <https://x.example/a?b=1|a link> and other.",
        "• one\n• two\n    1. nested",
        "```\ncode &lt;b&gt;\n```",
        "> quoted",
        "*a | b*\n1 | 2",
        "&lt;!channel&gt; &amp; &lt;@U1&gt;",
    ]


def test_excerpts_and_pages_respect_limits():
    body = "\n\n".join(f"Paragraph {n} " + "word " * 50 for n in range(100))
    short = excerpt(body, 300)
    assert len(short) <= 300 and short.endswith("…")
    assert excerpt("x" * 1000, 100).endswith("…") and len(excerpt("x" * 1000, 100)) <= 100
    split = pages(body, 2900)
    assert all(len(page) <= 2900 for page in split) and "Paragraph 99" in split[-1]
    code = pages("```\n" + "line of code\n" * 1000 + "```", 2900)
    assert all(len(page) <= 2900 and page.startswith("```\n") and page.endswith("\n```") for page in code)
    assert pages("y" * 7000, 2900) == ["y" * 2900, "y" * 2900, "y" * 1200]
    assert excerpt("", 100) == "" and pages("") == []
