"""Block Kit for reminder DMs and breach escalations: pure functions of notices."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from bot.reminders import Notice, NoticeKind
from bot.sla import describe
from handlers.blocks import section
from handlers.complaint_views import SEVERITY_ICON
from handlers.text import escape, slack_date, truncate


def _about(notice: Notice) -> str:
    complaint = notice.complaint
    return (
        f"{SEVERITY_ICON.get(complaint.severity, '')} *{complaint.reference}* ({complaint.severity}, "
        f"#{complaint.category}): {escape(truncate(complaint.description, 150))}"
    )


def _what_is_due(notice: Notice, now: datetime) -> str:
    if notice.kind is NoticeKind.WAITING:
        return (
            f"waiting on the customer since {slack_date(notice.complaint.waiting_since)}: chase them, or when they "
            f"answer `/complaint customer-replied {notice.complaint.reference} [what they said]`"
        )
    if notice.kind is NoticeKind.FOLLOW_UP:
        return (
            f"resolved {slack_date(notice.complaint.resolved_at)}: check back with the customer, then "
            f"`/complaint followed-up {notice.complaint.reference} [what they said]`"
        )
    target = notice.target
    if now >= target.due_at:
        return f"{target.kind.label} overdue by {describe(now - target.due_at)} (was due {slack_date(target.due_at)})"
    return f"{target.kind.label} due in {describe(target.due_at - now)} ({slack_date(target.due_at)})"


def reminder_text(notices: Sequence[Notice]) -> str:
    references = ", ".join(notice.complaint.reference for notice in notices)
    return f"Reminder: {references} need{'s' if len(notices) == 1 else ''} you"


def reminder_blocks(notices: Sequence[Notice], now: datetime) -> list[dict]:
    """One DM for everything due for one owner."""
    count = len(notices)
    blocks = [section(f"⏰ *{count} complaint{'s' if count > 1 else ''} need{'s' if count == 1 else ''} you*")]
    blocks += [section(f"{_about(notice)}\n{_what_is_due(notice, now)}") for notice in notices]
    return blocks


def escalation_text(notices: Sequence[Notice]) -> str:
    return "SLA breached: " + ", ".join(notice.complaint.reference for notice in notices)


def escalation_blocks(notices: Sequence[Notice], now: datetime) -> list[dict]:
    blocks = [section(f"🔴 *SLA breached* on {len(notices)} complaint{'s' if len(notices) > 1 else ''}")]
    blocks += [
        section(f"{_about(notice)}\nOwner <@{notice.complaint.owner_id}> · {_what_is_due(notice, now)}")
        for notice in notices
    ]
    return blocks
