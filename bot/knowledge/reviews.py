"""Who is reminded of which articles due for review, and when reminders may go out.

An article past its review age goes to its owner; one nobody owns goes to every admin.
Each recipient gets one message a week listing all of theirs (an admin who also owns
articles gets them and the unowned ones together), sent in working hours only: on a
weekday (Monday to Friday, in TZ) outside QUIET_HOURS. Sending is handlers/knowledge_review.py.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, time
from zoneinfo import ZoneInfo

from bot.knowledge.articles import Article
from bot.sla import in_quiet_hours

REVIEW_KIND = "kb-review"
WORKING_DAYS = range(0, 5)  # Monday to Friday


def is_working_time(moment: datetime, *, quiet: tuple[time, time] | None, zone: ZoneInfo) -> bool:
    return moment.astimezone(zone).weekday() in WORKING_DAYS and not in_quiet_hours(moment, quiet, zone)


def reminders_by_recipient(due: dict[str, list[Article]], *, admin_ids: Sequence[str]) -> dict[str, dict[str, list[Article]]]:
    """For each person to remind, their due articles by owner ("" = nobody's)."""
    by_recipient: dict[str, dict[str, list[Article]]] = {}
    for owner, articles in due.items():
        for recipient in [owner] if owner else admin_ids:
            by_recipient.setdefault(recipient, {})[owner] = articles
    return by_recipient


def reminder_key(recipient: str, moment: datetime, zone: ZoneInfo) -> str:
    """The ledger key of a recipient's reminder for the ISO week of `moment`: one a week."""
    year, week, _ = moment.astimezone(zone).isocalendar()
    return f"{REVIEW_KIND}:{year}-W{week:02d}:{recipient}"
