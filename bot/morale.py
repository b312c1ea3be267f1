"""The morale report: who is recognised, who has gone unnoticed, and what looks gamed.

Figures are computed in SQL (COUNT, COUNT DISTINCT, GROUP BY over an index of days),
so the report reads a bounded window of the recognition table whatever its size.
The only Python-side work is set algebra over distinct people (active staff versus
people recognised), because members of STAFF_CHANNEL arrive from Slack as plain data;
its memory grows with the team, never with the number of recognitions.

`MoraleReport` is plain data: `/desk morale`, `servicedesk report morale` and the
weekly digest render it their own way. `named_report` adds what only the chat service
knows (STAFF_CHANNEL's members, people's names), asked for through
`bot.people.PeopleDirectory` before its session opens and after it closes.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Float, and_, case, distinct, func, tuple_, union
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import aliased
from sqlalchemy.sql.functions import FunctionElement
from sqlmodel import Session, col, select

from bot.as_of import open_owners_before, owner_at
from bot.intake import REPORTER_PREFIX
from bot.people import PeopleDirectory, PeopleUnavailable
from models.complaints import Complaint, ComplaintEvent, EventKind, Status
from models.db import SessionFactory, sort_memory
from models.kudos import Recognition

logger = logging.getLogger(__name__)

WEEK_DAYS = 7
WINDOW_DAYS = 30
TOP_VALUES = 5
# Two people thanking each other within this long counts as one exchange; this many
# exchanges in the window gets the pair flagged.
RECIPROCAL_WINDOW = timedelta(hours=48)
RECIPROCAL_MIN_EXCHANGES = 2
# Pairs timed per query (two bound values each, well under SQLite's limit of variables).
PAIRS_PER_QUERY = 500
# A giver at the daily limit on every day they gave this week, on at least this many days.
LIMIT_MIN_DAYS = 3


class epoch_seconds(FunctionElement):
    """Seconds since 1970 of a timestamp column, on SQLite and PostgreSQL alike."""

    type = Float()
    inherit_cache = True


@compiles(epoch_seconds, "sqlite")
def _epoch_sqlite(element, compiler, **kw) -> str:
    return f"((julianday({compiler.process(element.clauses, **kw)}) - 2440587.5) * 86400.0)"


@compiles(epoch_seconds, "postgresql")
def _epoch_postgresql(element, compiler, **kw) -> str:
    return f"EXTRACT(EPOCH FROM {compiler.process(element.clauses, **kw)})"


@dataclass(frozen=True)
class PeriodCounts:
    recognitions: int
    givers: int
    receivers: int


@dataclass(frozen=True)
class ReciprocalPair:
    """Two people who thanked each other within RECIPROCAL_WINDOW, `exchanges` times."""

    first_id: str
    second_id: str
    exchanges: int


@dataclass(frozen=True)
class LimitHitter:
    giver_id: str
    days_at_limit: int


@dataclass(frozen=True)
class MoraleReport:
    """Recognition over the week before `end` (and the week before that), and 30 days."""

    end: date
    daily_limit: int
    this_week: PeriodCounts
    last_week: PeriodCounts
    recognitions_30d: int
    linked_to_resolved_30d: int
    active_staff: int
    recognised_staff: int
    unrecognised: tuple[str, ...]
    top_values: tuple[tuple[str, int], ...]
    reciprocal_pairs: tuple[ReciprocalPair, ...]
    limit_hitters: tuple[LimitHitter, ...]
    window_days: int = field(default=WINDOW_DAYS)

    @property
    def week_start(self) -> date:
        return self.end - timedelta(days=WEEK_DAYS)

    @property
    def coverage(self) -> float | None:
        """Share of active staff recognised in the window; None with no active staff."""
        return self.recognised_staff / self.active_staff if self.active_staff else None

    @property
    def linked_share(self) -> float | None:
        """Share of the window's kudos linked to a resolved complaint."""
        return self.linked_to_resolved_30d / self.recognitions_30d if self.recognitions_30d else None

    def flagged_people(self) -> list[str]:
        """Everyone named under suspicious patterns, once each."""
        pairs = [p for pair in self.reciprocal_pairs for p in (pair.first_id, pair.second_id)]
        return list(dict.fromkeys([*pairs, *(hitter.giver_id for hitter in self.limit_hitters)]))

    def as_dict(self, names: Mapping[str, str] | None = None) -> dict:
        names = names or {}

        def person(user_id: str) -> dict:
            return {"id": user_id, "name": names.get(user_id, user_id)}

        data = asdict(self)
        data.update(
            end=self.end.isoformat(),
            week_start=self.week_start.isoformat(),
            coverage=None if self.coverage is None else round(self.coverage, 4),
            linked_share=None if self.linked_share is None else round(self.linked_share, 4),
            unrecognised=[person(p) for p in self.unrecognised],
            top_values=[{"value": value, "count": count} for value, count in self.top_values],
            reciprocal_pairs=[
                {"people": [person(p.first_id), person(p.second_id)], "exchanges": p.exchanges}
                for p in self.reciprocal_pairs
            ],
            limit_hitters=[{**person(h.giver_id), "days_at_limit": h.days_at_limit} for h in self.limit_hitters],
        )
        return data

    def to_json(self, names: Mapping[str, str] | None = None) -> str:
        return json.dumps(self.as_dict(names), ensure_ascii=False, indent=2)


@dataclass(frozen=True)
class StaffChannel:
    """STAFF_CHANNEL's people (bots and deactivated accounts left out), or why they are unknown."""

    channel: str = ""
    members: tuple[str, ...] = ()
    unreadable: str = ""  # the directory's reason, when the members could not be read


@dataclass(frozen=True)
class NamedReport:
    """A report, the names of the people it shows (by ID), and STAFF_CHANNEL as it was read."""

    report: MoraleReport
    names: dict[str, str]
    staff: StaffChannel

    def figures(self) -> dict:
        return self.report.as_dict(self.names)


def staff_channel_people(*, people: PeopleDirectory | None, channel: str) -> StaffChannel:
    """The people in `channel`; nobody when there is no channel or no directory to ask."""
    if not channel or people is None:
        return StaffChannel(channel)
    try:
        members = people.members(channel)
    except PeopleUnavailable as exc:
        logger.warning("the members of %s could not be read: %s", channel, exc)
        return StaffChannel(channel, unreadable=str(exc))
    return StaffChannel(channel, tuple(people.people(members)))


def named_report(
    *,
    open_session: SessionFactory,
    people: PeopleDirectory | None,
    staff_channel: str,
    end: date,
    zone: ZoneInfo,
    daily_limit: int,
    shown: Callable[[MoraleReport], Iterable[str]],
) -> NamedReport:
    """The report for the days before `end`, STAFF_CHANNEL's members counted as staff, with
    the names of the people `shown` picks (whom the caller's rendering names).

    Without a directory (the terminal with no token) people are shown by ID. The
    directory may call the chat service, so it is asked before the session opens and
    after it closes: a slow answer never holds a database connection.
    """
    staff = staff_channel_people(people=people, channel=staff_channel)
    with open_session() as session:
        report = morale_report(session, end=end, zone=zone, daily_limit=daily_limit, staff_ids=staff.members)
    names = {} if people is None else {user_id: people.display_name(user_id) for user_id in shown(report)}
    return NamedReport(report, names, staff)


def report_end(now: datetime, zone: ZoneInfo) -> date:
    """The `end` of a report made now: it covers today (in TZ) and the days before."""
    return now.astimezone(zone).date() + timedelta(days=1)


def morale_report(
    session: Session,
    *,
    end: date,
    zone: ZoneInfo,
    daily_limit: int,
    staff_ids: Collection[str] = (),
) -> MoraleReport:
    """The report for the days before `end` (exclusive); `staff_ids` count as active staff."""
    week_start = end - timedelta(days=WEEK_DAYS)
    last_week_start = week_start - timedelta(days=WEEK_DAYS)
    window_start = end - timedelta(days=WINDOW_DAYS)
    window = _live(Recognition, window_start, end)
    # The reciprocal pairs hash every pair of the window (81,000 at a million kudos): at
    # PostgreSQL's default 4 MB they spilled to disk (0.21 s against 0.11 at 32 MB).
    sort_memory(session, 32)

    this_week, last_week, total, linked = _counts(session, window, week_start, last_week_start)
    active = _active_people(
        session, window,
        since=datetime.combine(window_start, time.min, tzinfo=zone),
        until=datetime.combine(end, time.min, tzinfo=zone),
    ) | set(staff_ids)
    recognised = _recognised(session, window)
    return MoraleReport(
        end=end,
        daily_limit=daily_limit,
        this_week=this_week,
        last_week=last_week,
        recognitions_30d=total,
        linked_to_resolved_30d=linked,
        active_staff=len(active),
        recognised_staff=len(active & recognised),
        unrecognised=tuple(sorted(active - recognised)),
        top_values=_top_values(session, window),
        reciprocal_pairs=_reciprocal_pairs(session, window_start, end),
        limit_hitters=_limit_hitters(session, week_start, end, daily_limit),
    )


def _live(recognition, start: date, end: date):
    """Recognitions of `start` up to `end`, not taken back (`recognition` may be an alias)."""
    return and_(recognition.day >= start, recognition.day < end, col(recognition.revoked_at).is_(None))


def _counts(session: Session, window, week_start: date, last_week_start: date):
    """Each week's kudos, givers and receivers from that week's rows alone, then the
    window's total and those linked to a resolved complaint. In one pass over the
    window, the four distinct counts took each of its 81,000 rows (a million
    recognitions) through their CASEs: 0.18 s of CPU on SQLite against 0.10."""
    end = week_start + timedelta(days=WEEK_DAYS)

    def week(start: date, stop: date) -> PeriodCounts:
        row = session.exec(select(
            func.count(), func.count(distinct(Recognition.giver_id)), func.count(distinct(Recognition.recipient_id)),
        ).where(_live(Recognition, start, stop))).one()
        return PeriodCounts(*row)

    resolved = aliased(Complaint)
    total, linked = session.exec(
        select(func.count(), func.count(resolved.id))
        .select_from(Recognition)
        .outerjoin(resolved, and_(resolved.id == Recognition.complaint_id, resolved.status == Status.RESOLVED.value))
        .where(window)
    ).one()
    return week(week_start, end), week(last_week_start, week_start), total, linked


def _active_people(session: Session, window, *, since: datetime, until: datetime) -> set[str]:
    """People who logged, owned or resolved complaints, or gave kudos, in the window.

    Complaints are reached through their indexed times and status, and their events
    through the index of event times alone, so the work grows with the window's
    complaints, not with the whole history.
    """
    in_window = and_(ComplaintEvent.at >= since, ComplaintEvent.at < until)
    # Complaints someone owned during the window: logged before its end, and open now or
    # resolved since it began; one query a side, each reading its own index. Those given
    # to someone else since are counted under the owner they had then, from the history.
    reassigned = list(dict.fromkeys(session.exec(select(ComplaintEvent.complaint_id).where(
        ComplaintEvent.at >= until, ComplaintEvent.kind == EventKind.ASSIGNED.value))))
    kept = (Complaint.created_at < until, col(Complaint.id).not_in(reassigned))
    active = union(
        # A complaint from the API was logged by a token, not a person.
        select(Complaint.reporter_id).where(Complaint.created_at >= since, Complaint.created_at < until,
                                            ~col(Complaint.reporter_id).startswith(REPORTER_PREFIX)).distinct(),
        select(Complaint.owner_id).where(col(Complaint.resolved_at) >= since, *kept).distinct(),
        # Whoever resolved a complaint in the window, or was made its owner then.
        select(ComplaintEvent.actor_id).where(in_window, ComplaintEvent.kind == EventKind.RESOLVED.value).distinct(),
        select(ComplaintEvent.owner_id).where(in_window, ComplaintEvent.owner_id != "").distinct(),
        # Thousands of kudos, far fewer givers: de-duplicate them before the union does.
        select(Recognition.giver_id).where(window).distinct(),
    )
    owners_then = {
        owner_at(session, c.id, until) or c.owner_id for c in (session.get(Complaint, i) for i in reassigned)
        if c.created_at < until and (c.resolved_at is None or c.resolved_at >= since)
    }
    return set(session.exec(active).scalars()) | owners_then | open_owners_before(session, until, reassigned)


def _recognised(session: Session, window) -> set[str]:
    return set(session.exec(select(Recognition.recipient_id).where(window).distinct()))


def _top_values(session: Session, window) -> tuple[tuple[str, int], ...]:
    count = func.count().label("n")
    rows = session.exec(
        select(Recognition.value, count)
        .where(window, Recognition.value != "")
        .group_by(Recognition.value)
        .order_by(count.desc(), Recognition.value)
        .limit(TOP_VALUES)
    )
    return tuple((value, n) for value, n in rows)


def _ordered_pair(recognition):
    """The two people of a recognition, alphabetically: the same for A→B and B→A."""
    earlier = recognition.giver_id < recognition.recipient_id
    return (
        case((earlier, recognition.giver_id), else_=recognition.recipient_id),
        case((earlier, recognition.recipient_id), else_=recognition.giver_id),
    )


def _reciprocal_pairs(session: Session, start: date, end: date) -> tuple[ReciprocalPair, ...]:
    """Pairs where one's kudos was answered by the other's within RECIPROCAL_WINDOW, repeatedly.

    Only pairs who gave each other anything in the window can qualify, and they are
    few: one pass over the window finds them, then their kudos are timed against each
    other, a batch of pairs at a time.
    """
    first, second = _ordered_pair(Recognition)
    mutual = session.exec(
        select(first, second)
        .where(_live(Recognition, start, end))
        .group_by(first, second)
        # Both directions present; min/max rather than COUNT(DISTINCT) lets PostgreSQL hash it.
        .having(func.min(Recognition.giver_id) != func.max(Recognition.giver_id))
    ).all()
    found = []
    for batch_start in range(0, len(mutual), PAIRS_PER_QUERY):
        found += _exchanges(session, start, end, mutual[batch_start : batch_start + PAIRS_PER_QUERY])
    return tuple(sorted(found, key=lambda pair: (-pair.exchanges, pair.first_id, pair.second_id)))


def _exchanges(session: Session, start: date, end: date, pairs) -> list[ReciprocalPair]:
    given, answer = aliased(Recognition), aliased(Recognition)
    directed = [(a, b) for a, b in pairs] + [(b, a) for a, b in pairs]
    gap = epoch_seconds(answer.created_at) - epoch_seconds(given.created_at)
    first, second = _ordered_pair(given)
    exchanges = func.count(distinct(answer.id))
    rows = session.exec(
        select(first, second, exchanges)
        .select_from(given)
        .join(answer, and_(
            answer.giver_id == given.recipient_id,
            answer.recipient_id == given.giver_id,
            answer.day >= given.day,
            _live(answer, start, end),
            gap >= 0,
            gap <= RECIPROCAL_WINDOW.total_seconds(),
        ))
        .where(tuple_(given.giver_id, given.recipient_id).in_(directed), _live(given, start, end))
        .group_by(first, second)
        .having(exchanges >= RECIPROCAL_MIN_EXCHANGES)
    )
    return [ReciprocalPair(a, b, n) for a, b, n in rows]


def _limit_hitters(session: Session, week_start: date, end: date, daily_limit: int) -> tuple[LimitHitter, ...]:
    per_day = (
        select(Recognition.giver_id, Recognition.day, func.count().label("given"))
        .where(_live(Recognition, week_start, end))
        .group_by(Recognition.giver_id, Recognition.day)
        .subquery()
    )
    days = func.count().label("days")
    rows = session.exec(
        select(per_day.c.giver_id, days)
        .group_by(per_day.c.giver_id)
        .having(func.min(per_day.c.given) >= daily_limit, func.count() >= LIMIT_MIN_DAYS)
        .order_by(days.desc(), per_day.c.giver_id)
    )
    return tuple(LimitHitter(giver, n) for giver, n in rows)
