"""ISO weeks in the configured time zone, and which week a scheduled digest covers.

A week runs from Monday 00:00 to the next Monday 00:00 in TZ; `Period` is one week as
seen at a moment (figures of a week in progress count only what has happened).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.errors import InvalidInput

ISO_WEEK = re.compile(r"^\s*(\d{4})-?W(\d{1,2})\s*$", re.IGNORECASE)


@dataclass(frozen=True, order=True)
class IsoWeek:
    year: int
    week: int

    @classmethod
    def parse(cls, text: str) -> IsoWeek:
        match = ISO_WEEK.match(text or "")
        if match:
            try:
                return cls.containing(date.fromisocalendar(int(match.group(1)), int(match.group(2)), 1))
            except ValueError:
                pass
        raise InvalidInput(f"“{(text or '')[:20]}” is not an ISO week; they look like 2026-W47.")

    @classmethod
    def containing(cls, day: date) -> IsoWeek:
        year, week, _ = day.isocalendar()
        return cls(year, week)

    @classmethod
    def at(cls, moment: datetime, zone: ZoneInfo) -> IsoWeek:
        return cls.containing(moment.astimezone(zone).date())

    @property
    def monday(self) -> date:
        return date.fromisocalendar(self.year, self.week, 1)

    def shift(self, weeks: int) -> IsoWeek:
        return IsoWeek.containing(self.monday + timedelta(weeks=weeks))

    def start(self, zone: ZoneInfo) -> datetime:
        return datetime.combine(self.monday, time.min, tzinfo=zone)

    def end(self, zone: ZoneInfo) -> datetime:
        return self.shift(1).start(zone)

    def __str__(self) -> str:
        return f"{self.year}-W{self.week:02d}"


@dataclass(frozen=True)
class Period:
    """One week in TZ, as seen at `now`."""

    week: IsoWeek
    zone: ZoneInfo
    now: datetime

    @property
    def start(self) -> datetime:
        return self.week.start(self.zone)

    @property
    def end(self) -> datetime:
        return self.week.end(self.zone)


def scheduled_week(now: datetime, *, schedule: str, zone: ZoneInfo) -> IsoWeek:
    """The week the most recent scheduled digest (at or before `now`) covers.

    That is the last full ISO week before the scheduled time: Monday 09:00 reports on
    the week that ended the night before. A digest missed while the bot was down is
    therefore still due, under its own week, until the next one is.
    """
    from croniter import croniter

    fired = croniter(schedule, now.astimezone(zone) + timedelta(seconds=1)).get_prev(datetime)
    return IsoWeek.at(fired, zone).shift(-1)


def next_scheduled_week(now: datetime, *, schedule: str, zone: ZoneInfo) -> IsoWeek:
    """The week the next scheduled digest will cover (what a preview shows)."""
    from croniter import croniter

    due = croniter(schedule, now.astimezone(zone)).get_next(datetime)
    return IsoWeek.at(due, zone).shift(-1)
