"""The daily service-quality index (SQI): a weighted count of the failures customers feel.

After FedEx's: instead of a periodic satisfaction score, every day's failures are
counted, each kind weighted by how much it hurts, and the total is published every
working day. The kinds and their default weights (SQI_WEIGHTS):

| kind                  | weight | a failure is                                                  |
|-----------------------|--------|---------------------------------------------------------------|
| `sla_breach`          | 5      | a resolution target missed (falls on the day it fell due)     |
| `detractor`           | 5      | a customer's answer of 0-6 to "would you recommend us?"       |
| `reopened`            | 3      | a resolved complaint reopened                                 |
| `stale`               | 2      | a complaint waiting on the team (open, not waiting on the     |
|                       |        | customer) with nothing done on it for more than STALE_DAYS    |
| `late_first_response` | 1      | a first-response target missed                                |

Each failure belongs to the day (in TZ) it happened, once: a target on the day it was
missed, a stale complaint on the day its quiet spell passed STALE_DAYS (it counts
again only after someone acts on it and it goes quiet again). Every kind is read
through an index of times, so a day costs a day's rows; figures of past days come
from the history (bot/as_of.py) and do not change with time. Merged duplicates count
nowhere.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from sqlalchemy import and_, exists, func, or_
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from bot.as_of import answers_in, counted, within
from bot.missed_targets import missed_per_period, missed_targets
from bot.periods import BY_PERIOD, clipped, counts_per_period, period_of
from bot.sla import Target, TargetKind
from models.complaints import ComplaintEvent, EventKind
from models.db import seconds_between


class FailureKind(StrEnum):
    SLA_BREACH = "sla_breach"
    DETRACTOR = "detractor"
    REOPENED = "reopened"
    STALE = "stale"
    LATE_FIRST_RESPONSE = "late_first_response"


DEFAULT_SQI_WEIGHTS = "sla_breach=5,detractor=5,reopened=3,stale=2,late_first_response=1"
DEFAULT_STALE_DAYS = 2
DETRACTOR_MAX = 6
# What a complaint is after each event that changes it: open (waiting on the team),
# waiting on the customer, or closed. Other events (notes, edits, ...) change nothing.
STATUS_AFTER = {
    EventKind.LOGGED.value: "open", EventKind.REOPENED.value: "open", EventKind.RESUMED.value: "open",
    EventKind.WAITING.value: "waiting", EventKind.RESOLVED.value: "closed", EventKind.MERGED.value: "closed",
}
ON_THE_TEAM = [kind for kind, status in STATUS_AFTER.items() if status == "open"]
OFF_THE_TEAM = [kind for kind, status in STATUS_AFTER.items() if status != "open"]
KIND_OF_TARGET = {TargetKind.RESOLUTION: FailureKind.SLA_BREACH, TargetKind.FIRST_RESPONSE: FailureKind.LATE_FIRST_RESPONSE}


def parse_weights(text: str) -> dict[FailureKind, int]:
    """`sla_breach=5,stale=0` -> a weight for every kind (defaults fill gaps; 0 leaves a kind out)."""
    weights = {}
    for part in filter(None, (p.strip() for p in f"{DEFAULT_SQI_WEIGHTS},{text}".split(","))):
        name, equals, value = (piece.strip() for piece in part.partition("="))
        if name.lower() not in FailureKind.__members__.values():
            raise ValueError(f"{name!r} is not a failure kind ({', '.join(FailureKind)})")
        if not equals or not value.isdigit() or int(value) > 100:
            raise ValueError(f"give {name} a whole-number weight from 0 to 100, e.g. {name}=5")
        weights[FailureKind(name.lower())] = int(value)
    return weights


@dataclass(frozen=True)
class IndexRules:
    """What counts, and how much: weights per kind (0: not counted), SLA targets, STALE_DAYS."""

    weights: dict[FailureKind, int]
    targets: dict[str, Target]
    stale_days: int = DEFAULT_STALE_DAYS

    @property
    def kinds(self) -> list[FailureKind]:
        return [kind for kind in FailureKind if self.weights.get(kind)]


@dataclass(frozen=True)
class Failure:
    kind: FailureKind
    complaint_id: int
    at: datetime


@dataclass(frozen=True)
class DailyIndex:
    day: date
    points: int
    # Each counted kind's complaints, in the order their failures happened (a complaint
    # may appear twice: two detractor answers, say).
    failures: dict[str, list[int]] = field(default_factory=dict)
    # False for today: only what has happened so far.
    complete: bool = True

    def as_json(self) -> dict:
        return {
            "day": self.day.isoformat(), "points": self.points, "complete": self.complete,
            "failures": {kind: {"count": len(ids), "complaints": [f"C-{i}" for i in ids]} for kind, ids in self.failures.items()},
        }


def failures(session: Session, *, start: datetime, until: datetime, rules: IndexRules) -> list[Failure]:
    """Every failure of a counted kind in [start, until), in order."""
    kinds = set(rules.kinds)
    found: list[Failure] = []
    if kinds & {FailureKind.SLA_BREACH, FailureKind.LATE_FIRST_RESPONSE}:
        found += [Failure(KIND_OF_TARGET[m.kind], m.complaint_id, m.due_at)
                  for m in missed_targets(session, start=start, until=until, targets=rules.targets)]
    if FailureKind.DETRACTOR in kinds:
        found += [Failure(FailureKind.DETRACTOR, complaint_id, at)
                  for complaint_id, at, score in answers_in(session, start, until) if score <= DETRACTOR_MAX]
    if FailureKind.REOPENED in kinds:
        event, conditions = _reopened(start, until)
        rows = session.exec(select(event.complaint_id, event.at).where(*conditions))
        found += [Failure(FailureKind.REOPENED, complaint_id, at) for complaint_id, at in rows]
    if FailureKind.STALE in kinds:
        quiet = timedelta(days=rules.stale_days)
        event, conditions = _gone_stale(session, start, until, quiet)
        rows = session.exec(select(event.complaint_id, event.at).where(*conditions))
        found += [Failure(FailureKind.STALE, complaint_id, at + quiet) for complaint_id, at in rows]
    found = [f for f in found if rules.weights.get(f.kind)]
    return sorted(found, key=lambda f: (f.at, f.complaint_id, f.kind.value))


def failures_per_period(session: Session, *, bounds: Sequence[datetime], rules: IndexRules,
                        missed: dict[TargetKind, list[int]] | None = None) -> dict[FailureKind, list[int]]:
    """How many failures of each counted kind fell in each period (`bounds`, see
    bot/periods.py; the last bound is the moment they stand at): `failures` counted,
    grouped by period in SQL. `missed` (missed_per_period over the same bounds and
    rules.targets), if the caller has counted them already."""
    periods = len(bounds) - 1
    counts = {kind: [0] * periods for kind in rules.kinds}
    if periods < 1:
        return counts
    start, until = bounds[0], bounds[-1]
    if set(counts) & set(KIND_OF_TARGET.values()):
        missed = missed_per_period(session, bounds=bounds, targets=rules.targets) if missed is None else missed
        for target_kind, kind in KIND_OF_TARGET.items():
            if kind in counts:
                counts[kind] = list(missed[target_kind])
    if FailureKind.DETRACTOR in counts:
        # The answers' scores from their notes' first characters (bot.satisfaction.rated_note
        # writes `6/10`, with no leading zero), counted in SQL rather than read one by one.
        detractor = func.substr(ComplaintEvent.note, 1, 2).in_([f"{score}/" for score in range(DETRACTOR_MAX + 1)])
        counts[FailureKind.DETRACTOR] = counts_per_period(
            session, ComplaintEvent.at, bounds, counted(ComplaintEvent.complaint_id),
            ComplaintEvent.kind == EventKind.RATED.value, detractor)
    grouped = []
    if FailureKind.REOPENED in counts:
        grouped.append((FailureKind.REOPENED, timedelta(0), *_reopened(start, until)))
    if FailureKind.STALE in counts:
        quiet = timedelta(days=rules.stale_days)
        grouped.append((FailureKind.STALE, quiet, *_gone_stale(session, start, until, quiet)))
    for kind, shift, event, conditions in grouped:
        period = period_of(event.at, bounds, shift).label("p")
        for index, n in session.exec(select(period, func.count()).where(*conditions).group_by(BY_PERIOD)):
            counts[kind][index] += n
    return counts


def _reopened(start: datetime, until: datetime):
    """(The event's columns, the conditions on them) of complaints reopened in [start, until)."""
    event = aliased(ComplaintEvent)
    return event, (counted(event.complaint_id), within(event.at, start, until), event.kind == EventKind.REOPENED.value)


def _gone_stale(session: Session, start: datetime, until: datetime, quiet: timedelta):
    """(The event's columns, the conditions on them) of complaints whose last event before
    a quiet spell of `quiet` left them waiting on the team: the spell's end falls in
    [start, until), so its event lies `quiet` earlier."""
    event, later, change = (aliased(ComplaintEvent) for _ in range(3))
    seconds = quiet.total_seconds()
    nothing_since = ~exists().where(
        later.complaint_id == event.complaint_id, later.id > event.id,
        seconds_between(session, event.at, later.at) <= seconds,
    )
    # The quiet events first, in a subquery kept apart by its OFFSET: with every condition
    # in one WHERE, PostgreSQL looked back for the status of each of the 14 days' 37,000
    # events before ruling out the 30,000 with something done since (SQLite checks the
    # conditions in the order written). An event that closes the complaint or hands it to
    # the customer never starts a stale spell (checked on the index of event times).
    quiet_events = select(event.id, event.complaint_id, event.at, event.kind).where(
        counted(event.complaint_id), within(event.at, start - quiet, until - quiet),
        col(event.kind).not_in(OFF_THE_TEAM), nothing_since,
    ).offset(0).subquery().c
    status_then = (
        select(change.kind)
        .where(change.complaint_id == quiet_events.complaint_id, change.id <= quiet_events.id,
               col(change.kind).in_(STATUS_AFTER))
        .order_by(col(change.id).desc()).limit(1).scalar_subquery()
    )
    # One that opens it needs no look back (the subquery).
    on_the_team = or_(quiet_events.kind.in_(ON_THE_TEAM),
                      and_(quiet_events.kind.not_in(STATUS_AFTER), status_then.in_(ON_THE_TEAM)))
    return quiet_events, (on_the_team,)


def day_bounds(day: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time.min, tzinfo=zone)
    return start, datetime.combine(day + timedelta(days=1), time.min, tzinfo=zone)


def day_periods(first_day: date, days: int, zone: ZoneInfo, now: datetime) -> list[datetime]:
    """The bounds of `days` days from `first_day` in TZ, up to now (bot/periods.py): days
    after now are left out, today ends now."""
    bounds = [day_bounds(first_day + timedelta(days=n), zone)[0] for n in range(days)]
    return clipped([*bounds, day_bounds(first_day + timedelta(days=days - 1), zone)[1]], now)


def daily_series(session: Session, *, first_day: date, days: int, zone: ZoneInfo, now: datetime,
                 rules: IndexRules) -> list[DailyIndex]:
    """The index of `days` days from `first_day`, each as of its end (or now, for today)."""
    start, _ = day_bounds(first_day, zone)
    _, end = day_bounds(first_day + timedelta(days=days - 1), zone)
    by_day: dict[date, list[Failure]] = {}
    for failure in failures(session, start=start, until=min(end, now), rules=rules):
        by_day.setdefault(failure.at.astimezone(zone).date(), []).append(failure)
    series = []
    for offset in range(days):
        day = first_day + timedelta(days=offset)
        found = by_day.get(day, [])
        series.append(DailyIndex(
            day=day,
            points=sum(rules.weights[f.kind] for f in found),
            failures={kind.value: [f.complaint_id for f in found if f.kind is kind] for kind in rules.kinds},
            complete=day_bounds(day, zone)[1] <= now,
        ))
    return series


def points_per_day(session: Session, *, first_day: date, days: int, zone: ZoneInfo, now: datetime,
                   rules: IndexRules, missed: dict[TargetKind, list[int]] | None = None) -> list[DayPoints]:
    """`daily_series`' points alone, counted in SQL (`failures_per_period`); `missed`:
    missed_per_period over `day_periods` of the same days, if counted already."""
    counts = failures_per_period(session, bounds=day_periods(first_day, days, zone, now), rules=rules, missed=missed)
    series = []
    for offset in range(days):
        day = first_day + timedelta(days=offset)
        points = sum(rules.weights[kind] * n[offset] for kind, n in counts.items() if offset < len(n))
        series.append(DayPoints(day, points, complete=day_bounds(day, zone)[1] <= now))
    return series


def daily_index(session: Session, *, day: date, zone: ZoneInfo, now: datetime, rules: IndexRules) -> DailyIndex:
    [index] = daily_series(session, first_day=day, days=1, zone=zone, now=now, rules=rules)
    return index


@dataclass(frozen=True)
class DayPoints:
    """A day's index points alone (the digest shows no complaints behind them)."""

    day: date
    points: int
    complete: bool = True


@dataclass(frozen=True)
class WeekQuality:
    """The daily index over a week, with the week before's days for the trend."""

    days: list[DayPoints]
    previous: list[DayPoints]

    @property
    def total(self) -> int:
        return sum(day.points for day in self.days)

    @property
    def previous_total(self) -> int:
        return sum(day.points for day in self.previous)

    def as_json(self) -> dict:
        return {"total": self.total, "previous_total": self.previous_total,
                "days": [{"day": d.day.isoformat(), "points": d.points} for d in self.days]}


def week_quality(session: Session, *, monday: date, zone: ZoneInfo, now: datetime, rules: IndexRules,
                 missed: dict[TargetKind, list[int]] | None = None) -> WeekQuality:
    """The week of `monday` and the week before, day by day: points only (`points_per_day`)."""
    series = points_per_day(session, first_day=monday - timedelta(days=7), days=14, zone=zone, now=now, rules=rules,
                            missed=missed)
    return WeekQuality(days=series[7:], previous=series[:7])


# ----- when it is posted -------------------------------------------------------------------------
def is_working_day(day: date) -> bool:
    return day.weekday() < 5


def due_post(now: datetime, *, at: time, zone: ZoneInfo) -> tuple[date, list[date]]:
    """The latest working day whose post time has come, and the days its post covers:
    those since the working day before (Monday's covers Friday to Sunday)."""
    local = now.astimezone(zone)
    day = local.date()
    while not (is_working_day(day) and datetime.combine(day, at, tzinfo=zone) <= local):
        day -= timedelta(days=1)
    previous = day - timedelta(days=1)
    while not is_working_day(previous):
        previous -= timedelta(days=1)
    return day, [previous + timedelta(days=n) for n in range((day - previous).days)]
