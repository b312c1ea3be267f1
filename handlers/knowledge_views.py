"""Block Kit for the knowledge base: pure functions from search results and articles."""

from __future__ import annotations

import json
from collections.abc import Sequence

from bot.knowledge.articles import Article, Problem
from bot.knowledge.markup import excerpt, pages
from bot.knowledge.documents import Hit
from bot.knowledge.usage import Gap, GapSummary
from handlers.blocks import SECTION_TEXT_LIMIT, button, mrkdwn, plain, section
from handlers.ids import Action, Block, View
from handlers.text import escape, truncate

EXCERPT_LIMIT = 500
# A modal holds 100 blocks and about 250 kB; keep well inside both.
MODAL_PAGES = 60
MODAL_CHARACTERS = 150_000


def article_value(path: str, search_id: int | None = None) -> str:
    """A button's value: the article, and the search it was shown for (for feedback)."""
    value = {"p": path}
    if search_id is not None:
        value["s"] = search_id
    return json.dumps(value)[:2000]


def category_name(category: str) -> str:
    return category.replace("/", " › ").replace("-", " ").replace("_", " ") or "general"


def _title_line(article: Article) -> str:
    return f"*{escape(article.title)}*  ·  _{escape(category_name(article.category))}_"


def result_line(hit: Hit, article: Article) -> str:
    return f"• {_title_line(article)}  ·  {hit.confidence:.0%} match  ·  `/kb {escape(truncate(article.title, 80))}`"


def answer_blocks(query: str, hits: Sequence[tuple[Hit, Article]], search_id: int) -> list[dict]:
    """The top articles for `/kb <question>`, each with its buttons."""
    blocks = [{"type": "context", "elements": [mrkdwn(f"Best matches for “{escape(truncate(query, 200))}”")]}]
    for number, (hit, article) in enumerate(hits, start=1):
        confidence = f"{round(100 * hit.confidence)}% match"
        text = f"{_title_line(article)}  ·  {confidence}\n{excerpt(article.body, EXCERPT_LIMIT)}"
        value = article_value(article.path, search_id)
        blocks += [
            section(text),
            {
                "type": "actions",
                "block_id": f"{Block.KB_RESULT}_{number}",
                "elements": [
                    button(Action.KB_SHOW, "Show full article", value),
                    button(Action.KB_SHARE, "Share in channel", value),
                    button(Action.KB_HELPFUL, "👍 Helpful", value),
                    button(Action.KB_NOT_HELPFUL, "👎 Not helpful", value),
                ],
            },
        ]
    blocks.append({"type": "context", "elements": [mrkdwn(
        "Not it? Try other words. Questions without a good answer are passed on to the admins."
    )]})
    return blocks


def no_answer_text(query: str, reason: str) -> str:
    shown = escape(truncate(" ".join(query.split()), 200)) or "that"
    return (
        f"I have no confident answer to “{shown}” ({reason}). I've passed the question on "
        "to the admins as a gap in the knowledge base. Try other words, or `/kb` to browse."
    )


def shared_blocks(article: Article, sharer_id: str) -> list[dict]:
    return [
        section(f"<@{sharer_id}> shared an answer from the knowledge base:\n{_title_line(article)}"),
        section(excerpt(article.body, 2500)),
        {"type": "context", "elements": [mrkdwn(f"`{escape(article.path)}` · `/kb` to ask your own question")]},
    ]


def article_modal(article: Article) -> dict:
    """The whole article, split into sections that fit Slack's limits."""
    details = [f"_{escape(category_name(article.category))}_"]
    if article.owner:
        details.append(f"kept by <@{article.owner}>")
    if article.updated:
        details.append(f"updated {article.updated.isoformat()}")
    blocks = [
        {"type": "header", "text": plain(article.title, 150)},
        {"type": "context", "elements": [mrkdwn(" · ".join(details))]},
    ]
    size = 0
    for page in pages(article.body, SECTION_TEXT_LIMIT - 100):
        if len(blocks) - 2 >= MODAL_PAGES or size + len(page) > MODAL_CHARACTERS:
            blocks.append(section(f"_The article is too long to show here; the rest is in `{escape(article.path)}`._"))
            break
        blocks.append(section(page))
        size += len(page)
    return {
        "type": "modal",
        "callback_id": View.KB_ARTICLE,
        "title": plain("Knowledge base", 24),
        "close": plain("Close", 24),
        "blocks": blocks,
    }


def help_blocks(articles: Sequence[Article], problems: int, *, is_admin: bool) -> list[dict]:
    commands = [
        "`/kb your question` — the best articles, with buttons to show, share and rate them",
        "`/kb review` — your articles that are due for review",
    ]
    if is_admin:
        commands += ["`/kb gaps` — questions the knowledge base could not answer (30 days)",
                     "`/kb reload` — read the knowledge folder again now"]
    blocks = [section("*Knowledge base*\n" + "\n".join(f"• {line}" for line in commands))]
    if not articles:
        blocks.append(section("There are no articles yet. Admins add Markdown files to the knowledge folder."))
        return blocks
    by_category: dict[str, list[Article]] = {}
    for article in articles:
        by_category.setdefault(article.category, []).append(article)
    lines = []
    for category in sorted(by_category):
        titles = [escape(a.title) for a in by_category[category]]
        shown = ", ".join(titles[:6]) + (f" and {len(titles) - 6} more" if len(titles) > 6 else "")
        lines.append(f"• *{escape(category_name(category))}* ({len(titles)}): {shown}")
    blocks += _sections(f"*Categories* ({len(articles)} articles)", lines, limit=40)
    if is_admin and problems:
        blocks.append(section(f":warning: {problems} problem(s) in the articles; `servicedesk kb lint` lists them."))
    return blocks


def _sections(heading: str, lines: Sequence[str], *, limit: int) -> list[dict]:
    """`lines` under `heading`, in as many sections as they need (at most `limit`)."""
    blocks, current = [], heading
    for line in lines:
        line = truncate(line, SECTION_TEXT_LIMIT - 200)
        if len(current) + 1 + len(line) > SECTION_TEXT_LIMIT:
            blocks.append(section(current))
            current = line
        else:
            current += "\n" + line
    blocks.append(section(current))
    return blocks[:limit]


GAPS_TITLE = "Knowledge gaps, last 30 days"
NO_GAPS = "None: every question got a confident, helpful answer. 🎉"


def gap_lines(gaps: Sequence[Gap], titles: dict[str, str]) -> list[str]:
    """One line per gap: how often, why, who asked (so an admin can follow up), what was shown."""
    lines = []
    for gap in gaps:
        why = []
        if gap.unanswered:
            why.append(f"{gap.unanswered} unanswered")
        if gap.unhelpful:
            why.append(f"{gap.unhelpful} not helpful")
        askers = ", ".join(f"<@{user}>" for user in gap.askers[:5]) + (" …" if len(gap.askers) > 5 else "")
        shown = ", ".join(escape(titles.get(path, path)) for path in gap.shown_paths[:3])
        line = f"• *{gap.times}×* “{escape(truncate(gap.question, 200))}” ({', '.join(why)}) — asked by {askers}"
        if shown:
            line += f"; shown: {shown}"
        lines.append(line)
    return lines


def gaps_blocks(gaps: Sequence[Gap], titles: dict[str, str]) -> list[dict]:
    if not gaps:
        return [section(f"*{GAPS_TITLE}*\n{NO_GAPS}")]
    return _sections(f"*{GAPS_TITLE}* (most asked first)", gap_lines(gaps, titles), limit=45)


def digest_gap_lines(summary: GapSummary) -> list[str]:
    """The knowledge-gaps part of the weekly digest."""
    return gap_lines(summary.gaps, summary.titles) or [NO_GAPS]


def review_blocks(due: dict[str, list[Article]], *, max_age_days: int, everyone: bool) -> list[dict]:
    heading = f"*Articles due for review* (not updated in {max_age_days} days)"
    if not due:
        return [section(f"{heading}\nNothing is due. 🎉")]
    lines = []
    for owner in sorted(due):
        who = f"<@{owner}>" if owner else "no owner"
        for article in due[owner]:
            age = f"updated {article.updated.isoformat()}" if article.updated else "never dated"
            prefix = f"{who}: " if everyone else ""
            lines.append(f"• {prefix}{escape(article.title)} (`{escape(article.path)}`, {age})")
    return _sections(heading, lines, limit=45)


def problem_text(problem: Problem) -> str:
    return (
        f":warning: The knowledge-base article `{escape(problem.path)}` has a problem on line {problem.line}: "
        f"{escape(problem.message)}. Until it is fixed the bot keeps using its last good version (if any)."
    )


def suggestion_blocks(articles: Sequence[Article]) -> list[dict]:
    """Articles that may help with a complaint just logged, each with a Show button."""
    if not articles:
        return []
    lines = "\n".join(f"• {_title_line(article)}" for article in articles)
    return [
        section(f":books: *Articles that may help*\n{lines}"),
        {
            "type": "actions",
            "block_id": Block.KB_SUGGESTIONS,
            "elements": [button(Action.KB_SHOW, truncate(f"Show: {a.title}", 75), article_value(a.path)) for a in articles],
        },
    ]
