"""Block Kit and text for the daily service-quality index: pure functions of its figures."""

from __future__ import annotations

from collections.abc import Sequence

from bot.quality_index import DailyIndex, FailureKind, IndexRules, WeekQuality
from handlers.blocks import SECTION_TEXT_LIMIT, mrkdwn, plain, section

# A section holds 3000 characters: the references listed stop well before that.
REFERENCES_SHOWN = 300


def kind_label(kind: FailureKind, rules: IndexRules) -> str:
    return {
        FailureKind.SLA_BREACH: "Resolution targets missed",
        FailureKind.DETRACTOR: "Detractor scores (0–6)",
        FailureKind.REOPENED: "Complaints reopened",
        FailureKind.STALE: f"Waiting on the team more than {rules.stale_days} day{'s' if rules.stale_days != 1 else ''}",
        FailureKind.LATE_FIRST_RESPONSE: "First responses late",
    }[kind]


def points(n: int) -> str:
    return f"{n} point{'s' if n != 1 else ''}"


def _day(index: DailyIndex) -> str:
    return f"{index.day:%a} {index.day.day} {index.day:%b}" + ("" if index.complete else " (so far)")


def _span(days: Sequence[DailyIndex]) -> str:
    return _day(days[0]) if len(days) == 1 else f"{_day(days[0])} – {_day(days[-1])}"


def index_text(days: Sequence[DailyIndex]) -> str:
    """The notification text: the total and its span."""
    return f"Service-quality index, {_span(days)}: {points(sum(day.points for day in days))}"


def references(ids: Sequence[int]) -> str:
    """`C-1, C-4, C-9` in order, each once, cut short (`… and 40 more`) to fit a section."""
    unique = list(dict.fromkeys(ids))
    shown, text = [], ""
    for complaint_id in unique[:REFERENCES_SHOWN]:
        candidate = f"{text}, C-{complaint_id}" if text else f"C-{complaint_id}"
        if len(candidate) > SECTION_TEXT_LIMIT - 200:
            break
        shown.append(complaint_id)
        text = candidate
    more = len(unique) - len(shown)
    return text + (f" … and {more} more" if more else "")


def index_blocks(days: Sequence[DailyIndex], rules: IndexRules) -> list[dict]:
    """The index of one or more days in a row: the total, each day's, then each kind of
    failure with its weight and the complaints behind it."""
    blocks = [
        {"type": "header", "text": plain(f"Service-quality index · {points(sum(day.points for day in days))}", 150)},
        {"type": "context", "elements": [mrkdwn(
            " · ".join(f"{_day(day)}: *{day.points}*" for day in days)
            + " — weighted failures customers feel; lower is better"
        )]},
    ]
    lines = []
    for kind in rules.kinds:
        ids = [complaint_id for day in days for complaint_id in day.failures.get(kind.value, [])]
        weight = rules.weights[kind]
        if ids:
            lines.append(section(
                f"*{kind_label(kind, rules)}*: {len(ids)} × {weight} = {points(len(ids) * weight)}\n{references(ids)}"
            ))
    blocks += lines or [section("No failures: every target met, nobody unhappy, nothing left waiting. :tada:")]
    return blocks


def week_line(quality: WeekQuality) -> str:
    """The digest's line: the week's total against the week before, and each day's."""
    change = quality.total - quality.previous_total
    trend = ("same as the week before" if change == 0 else
             f"{'▲' if change > 0 else '▼'} {abs(change)} vs {quality.previous_total} the week before")
    days = " · ".join(f"{day.day:%a} {day.points}" for day in quality.days)
    return f"*Service-quality index*: {points(quality.total)} ({trend}; lower is better)\n{days}"
