"""Block Kit for the morale report; `digest_lines` is its part of the weekly digest."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import timedelta

from bot.morale import RECIPROCAL_WINDOW, MoraleReport, NamedReport, StaffChannel
from handlers.blocks import plain, section
from handlers.text import escape

UNRECOGNISED_SHOWN = 30
WINDOW_HOURS = round(RECIPROCAL_WINDOW.total_seconds() / 3600)


def people_shown(report: MoraleReport) -> list[str]:
    """The people whose names the rendered report shows (to look up before rendering)."""
    return list(dict.fromkeys([*report.flagged_people(), *report.unrecognised[:UNRECOGNISED_SHOWN]]))


def _percent(share: float | None) -> str:
    return "—" if share is None else f"{share:.0%}"


def _change(now: int, before: int) -> str:
    if now == before:
        return "same as the week before"
    return f"{'up' if now > before else 'down'} {abs(now - before)} on the week before ({before})"


def _summary_lines(report: MoraleReport) -> list[str]:
    week, last = report.this_week, report.last_week
    lines = [
        f"*Kudos this week*: {week.recognitions}, {_change(week.recognitions, last.recognitions)}",
        f"*People*: {week.givers} gave, {week.receivers} received (the week before: {last.givers} and {last.receivers})",
        f"*Coverage*: {_percent(report.coverage)} of active staff recognised in {report.window_days} days "
        f"({report.recognised_staff} of {report.active_staff})",
        f"*Linked to resolved complaints*: {_percent(report.linked_share)} of {report.recognitions_30d} kudos in "
        f"{report.window_days} days",
    ]
    if report.top_values:
        lines.append("*Top values*: " + ", ".join(f"#{escape(value)} ({count})" for value, count in report.top_values))
    return lines


def _unrecognised_lines(report: MoraleReport, name: Callable[[str], str]) -> list[str]:
    if not report.unrecognised:
        return []
    shown = report.unrecognised[:UNRECOGNISED_SHOWN]
    more = len(report.unrecognised) - len(shown)
    return [
        f"*Active but not recognised in {report.window_days} days* ({len(report.unrecognised)}): "
        + ", ".join(name(user_id) for user_id in shown)
        + (f" and {more} more" if more else "")
    ]


def _flag_lines(report: MoraleReport, name: Callable[[str], str]) -> list[str]:
    flags = [
        f"• {name(pair.first_id)} and {name(pair.second_id)} thanked each other within {WINDOW_HOURS} hours, {pair.exchanges} times"
        for pair in report.reciprocal_pairs
    ] + [
        f"• {name(hitter.giver_id)} gave the daily limit of {report.daily_limit} on each of the "
        f"{hitter.days_at_limit} days they gave kudos this week"
        for hitter in report.limit_hitters
    ]
    return ["*Worth a look* (possibly gamed)", *flags] if flags else []


def _namer(names: Mapping[str, str]) -> Callable[[str], str]:
    return lambda user_id: escape(names.get(user_id, user_id))


def morale_lines(report: MoraleReport, names: Mapping[str, str]) -> list[str]:
    """The report as mrkdwn lines (user text escaped), e.g. for a section of the digest."""
    name = _namer(names)
    return [*_summary_lines(report), *_unrecognised_lines(report, name), *_flag_lines(report, name)]


def staff_note(staff: StaffChannel) -> str:
    """Why STAFF_CHANNEL's members are missing from the report, or "" when they are not."""
    if not staff.unreadable:
        return ""
    return (
        f":warning: I couldn't read the members of <#{staff.channel}> ({staff.unreadable}), "
        "so only people with recent activity count as staff."
    )


def digest_lines(named: NamedReport) -> list[str]:
    """The morale part of the weekly digest, with the note on STAFF_CHANNEL if it has one."""
    note = staff_note(named.staff)
    return morale_lines(named.report, named.names) + ([note] if note else [])


def morale_section(report: MoraleReport, names: Mapping[str, str]) -> list[dict]:
    """The report as a few section blocks (names are plain text: nobody is notified)."""
    name = _namer(names)
    groups = [_summary_lines(report), _unrecognised_lines(report, name), _flag_lines(report, name)]
    return [section("\n".join(lines)) for lines in groups if lines]


def morale_blocks(report: MoraleReport, names: Mapping[str, str], *, note: str = "") -> list[dict]:
    last_day = report.end - timedelta(days=1)
    blocks = [{"type": "header", "text": plain(f"Morale, {report.week_start:%-d %b} – {last_day:%-d %b %Y}", 150)}]
    blocks += morale_section(report, names)
    if note:
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": note}]})
    return blocks


def morale_text(report: MoraleReport) -> str:
    return (
        f"Morale: {report.this_week.recognitions} kudos this week; "
        f"{_percent(report.coverage)} of active staff recognised in {report.window_days} days."
    )
