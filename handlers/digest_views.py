"""Block Kit and `--json` for the weekly digest: pure functions of `bot.digest.Digest`."""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.digest import Count, Digest, Durations, Nps
from bot.satisfaction import SATISFIED, UNHAPPY, VERY_HAPPY
from bot.sla import describe
from handlers import knowledge_views, morale_views, quality_index_views
from handlers.blocks import mrkdwn, plain, section
from handlers.complaint_views import SEVERITY_ICON
from handlers.text import escape, truncate

# Each of other features' parts of the digest (bot.digest.Digest.sections): its title,
# and its lines in mrkdwn with user text escaped.
PARTS = {
    "morale": ("Morale", morale_views.digest_lines),
    "knowledge_gaps": (knowledge_views.GAPS_TITLE, knowledge_views.digest_gap_lines),
}


def _change(count: Count) -> str:
    if count.change == 0:
        return "same as the week before"
    arrow = "▲" if count.change > 0 else "▼"
    return f"{arrow} {abs(count.change)} vs {count.previous} the week before"


def _duration(seconds: float | None) -> str:
    return "—" if seconds is None else describe(timedelta(seconds=seconds))


def _durations(durations: Durations) -> str:
    if not durations.count:
        return "none this week"
    return f"median {_duration(durations.median_seconds)} · 90% within {_duration(durations.p90_seconds)} ({durations.count})"


def _counts(pairs: list[tuple[str, int]]) -> str:
    return " · ".join(f"{escape(name)} {n}" for name, n in pairs) or "none"


def _days(moment: datetime) -> str:
    return f"{moment:%a %d %b}"


def _nps_text(nps: Nps) -> str:
    """`+25 (4 answers)` and, under it, the answers in the words every score is shown with."""
    if nps.score is None:
        return "no answers"
    bands = f"{nps.promoters} {VERY_HAPPY} · {nps.passives} {SATISFIED} · {nps.detractors} {UNHAPPY}"
    return f"{nps.score:+.0f} ({nps.answers} answer{'s' if nps.answers != 1 else ''})\n{bands}"


def digest_text(digest: Digest) -> str:
    """The notification text: the headline figures in one line."""
    return (
        f"Weekly digest {digest.week}: {digest.logged.value} logged, {digest.resolved.value} resolved, "
        f"{digest.open.value} open"
    )


def digest_blocks(digest: Digest) -> list[dict]:
    last_day = digest.ends_at - timedelta(days=1)
    blocks = [
        {"type": "header", "text": plain(f"Weekly digest · {digest.week}", 150)},
        {"type": "context", "elements": [mrkdwn(f"{_days(digest.starts_at)} – {_days(last_day)} {last_day:%Y} ({digest.time_zone})")]},
        {"type": "section", "fields": [
            mrkdwn(f"*Logged*\n{digest.logged.value} ({_change(digest.logged)})"),
            mrkdwn(f"*Resolved*\n{digest.resolved.value} ({_change(digest.resolved)})"),
            mrkdwn(f"*Still open*\n{digest.open.value} ({_change(digest.open)})"),
            mrkdwn(f"*Net Promoter Score*\n{_nps_text(digest.nps)}"),
            mrkdwn(f"*First response*\n{_durations(digest.first_response)}"),
            mrkdwn(f"*Resolution*\n{_durations(digest.resolution)}"),
            mrkdwn(
                "*SLA breaches*\n"
                f"{digest.breaches.get('first_response', 0)} first response · {digest.breaches.get('resolution', 0)} resolution"
            ),
            mrkdwn(f"*Repeat complainers*\n{digest.repeat_customers} (complained again within 90 days)"),
        ]},
        section(f"*By category*: {_counts(digest.by_category)}\n*By contact channel*: {_counts(digest.by_channel)}"),
    ]
    if digest.quality is not None:
        blocks.append(section(quality_index_views.week_line(digest.quality)))
    if digest.oldest_open:
        lines = [
            f"• {SEVERITY_ICON.get(c.severity, '')} *{c.reference}* ({c.severity}, #{escape(c.category)}) "
            f"open {describe(digest.as_of - c.created_at)}, <@{c.owner_id}>: {escape(truncate(c.description, 100))}"
            for c in digest.oldest_open
        ]
        blocks.append(section("*Oldest open complaints*\n" + "\n".join(lines)))
    for key, part in digest.sections():
        title, lines = PARTS[key]
        blocks.append({"type": "divider"})
        blocks.append(section(f"*{escape(title)}*\n" + "\n".join(lines(part))))
    return blocks[:50]


def digest_json(digest: Digest) -> dict:
    """Every figure (`Digest.as_json`), each part with its title and lines as the message shows them."""
    data = digest.as_json()
    for entry, (key, part) in zip(data["sections"], digest.sections()):
        title, lines = PARTS[key]
        entry.update(key=key, title=title, lines=lines(part), figures=entry.pop("figures"))
    return data
