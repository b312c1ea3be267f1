"""The weekly digest's figures, computed with SQL aggregates over indexed time ranges.

One ISO week in TZ: complaints logged, resolved and open (each with the week before),
median and 90th-percentile times to first response and to resolution, SLA breaches,
counts by category and by contact channel, the oldest open complaints, NPS, eight
weeks of trend for the chart, and other features' parts (the morale report, the
knowledge gaps).

Every query reads one week's rows through an index (or a count), so the time and
memory it takes follow a week's volume, not the size of the history. Percentiles are
`percentile_cont` on PostgreSQL and the same interpolation on SQLite from the two
rows around the rank (ORDER BY ... LIMIT 2 OFFSET k).

`Digest` is plain data, figures only: Slack blocks, the terminal and `--json` all
render it (handlers/digest_views.py). `compute_digest` asks the chat service what it
needs (STAFF_CHANNEL's members, people's names) only while no session is open.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, replace
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, and_, case, func, literal_column, or_
from sqlmodel import Session, col, select

from bot.config import Settings
from bot.customer_history import repeat_complainers
from bot.knowledge.articles import Article
from bot.knowledge.usage import GapSummary, gap_summary
from bot.morale import MoraleReport, NamedReport, named_report
from bot.nps import Nps
from bot.survey_figures import SurveyFigures, survey_figures
from bot.people import PeopleDirectory
from bot.sla import Target, TargetKind
from bot.weeks import IsoWeek, Period
from models.complaints import OPEN_STATUSES, Complaint
from models.db import SessionFactory, seconds_between

TREND_WEEKS = 8
OLDEST_OPEN = 5
# A duplicate merged into another complaint is left out of every volume and time.
COUNTED = col(Complaint.merged_into_id).is_(None)


@dataclass(frozen=True)
class Count:
    value: int
    previous: int

    @property
    def change(self) -> int:
        return self.value - self.previous


@dataclass(frozen=True)
class Durations:
    """Seconds from logging to an event, over the complaints that reached it this week."""

    count: int
    median_seconds: float | None
    p90_seconds: float | None


@dataclass(frozen=True)
class OpenComplaint:
    id: int
    severity: str
    category: str
    owner_id: str
    created_at: datetime
    description: str

    @property
    def reference(self) -> str:
        return f"C-{self.id}"


@dataclass(frozen=True)
class WeekPoint:
    week: str
    logged: int
    resolved: int
    median_first_response_seconds: float | None


@dataclass(frozen=True)
class Digest:
    week: str
    starts_at: datetime
    ends_at: datetime
    time_zone: str
    logged: Count
    resolved: Count
    open: Count
    first_response: Durations
    resolution: Durations
    breaches: dict[str, int]
    by_category: list[tuple[str, int]]
    by_channel: list[tuple[str, int]]
    oldest_open: list[OpenComplaint]
    nps: Nps
    trend: list[WeekPoint]
    # Customers who complained this week and also in the 90 days before (the ones about to leave).
    repeat_customers: int = 0
    # Other features' parts: set by compute_digest, left out by weekly_digest alone.
    morale: NamedReport | None = None
    knowledge_gaps: GapSummary | None = None
    # The customers' own survey figures (when the web side is on).
    survey: SurveyFigures | None = None

    def sections(self) -> list[tuple[str, NamedReport | GapSummary | SurveyFigures]]:
        """Other features' parts by key, in the order they follow the service figures."""
        parts = [("survey", self.survey), ("morale", self.morale), ("knowledge_gaps", self.knowledge_gaps)]
        return [(key, part) for key, part in parts if part is not None]

    def as_json(self) -> dict:
        """Every figure, with times in ISO 8601 and derived figures spelled out."""
        data = asdict(replace(self, morale=None, knowledge_gaps=None, survey=None))
        del data["morale"], data["knowledge_gaps"], data["survey"]
        for name in ("logged", "resolved", "open"):
            data[name]["change"] = getattr(self, name).change
        data["nps"]["score"] = self.nps.score
        data["by_category"] = dict(self.by_category)
        data["by_channel"] = dict(self.by_channel)
        for entry, complaint in zip(data["oldest_open"], self.oldest_open):
            entry["reference"] = complaint.reference
        data["sections"] = [{"key": key, "figures": part.figures()} for key, part in self.sections()]
        return _iso_times(data)


def _iso_times(value):
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {key: _iso_times(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_iso_times(item) for item in value]
    return value


# ----- SQL building blocks ------------------------------------------------------------------
def within(column, period_start: datetime, period_end: datetime) -> ColumnElement[bool]:
    return (column >= period_start) & (column < period_end)


def count(session: Session, *conditions) -> int:
    return session.exec(select(func.count()).select_from(Complaint).where(COUNTED, *conditions)).one()


def percentiles(session: Session, value, *conditions, quantiles: Sequence[float] = (0.5, 0.9)) -> tuple[int, list[float | None]]:
    """How many rows match, and the continuous percentiles of `value` over them."""
    conditions = (COUNTED, *conditions)
    if session.get_bind().dialect.name == "postgresql":
        columns = [func.percentile_cont(q).within_group(value) for q in quantiles]
        row = session.exec(select(func.count(), *columns).select_from(Complaint).where(*conditions)).one()
        return row[0], [None if v is None else float(v) for v in row[1:]]
    total = count(session, *conditions)
    results = []
    for q in quantiles:
        if not total:
            results.append(None)
            continue
        rank = q * (total - 1)
        low = math.floor(rank)
        statement = select(value.label("v")).select_from(Complaint).where(*conditions)
        pair = list(session.exec(statement.order_by(literal_column("v")).limit(2).offset(low)))
        upper = pair[1] if len(pair) > 1 else pair[0]
        results.append(float(pair[0] + (upper - pair[0]) * (rank - low)))
    return total, results


# ----- the figures ---------------------------------------------------------------------------
def open_at(session: Session, moments: Sequence[datetime]) -> list[int]:
    """Complaints open at each of `moments`: open now, plus resolved since, minus logged since.

    Resolution always follows logging, so this equals "logged before and not yet
    resolved at `moment`" while touching only recent rows (reopened complaints count
    as open throughout, as their earlier resolution time is cleared).
    """
    open_now = count(session, col(Complaint.resolved_at).is_(None))
    return [
        open_now + count(session, col(Complaint.resolved_at) >= moment) - count(session, col(Complaint.created_at) >= moment)
        for moment in moments
    ]


def durations(session: Session, done_column, period_start: datetime, period_end: datetime, *, p90: bool = True) -> Durations:
    """Count, median and (unless `p90` is false: the trend shows only medians) 90th percentile."""
    seconds = seconds_between(session, Complaint.created_at, done_column)
    quantiles = (0.5, 0.9) if p90 else (0.5,)
    total, found = percentiles(session, seconds, within(done_column, period_start, period_end), quantiles=quantiles)
    return Durations(total, _round(found[0]), _round(found[1]) if p90 else None)


def breaches(session: Session, period: Period, targets: dict[str, Target]) -> dict[str, int]:
    """Targets that fell due in the week (up to now) and were missed."""
    until = min(period.end, period.now)
    result = {}
    for kind in TargetKind:
        done = Complaint.first_responded_at if kind is TargetKind.FIRST_RESPONSE else Complaint.resolved_at
        missed = 0
        for severity, target in targets.items():
            allowed = target.of(kind)
            if kind is TargetKind.RESOLUTION:
                conditions = _resolution_missed(session, period.start, until, allowed)
            else:
                conditions = (
                    within(Complaint.created_at, period.start - allowed, until - allowed),
                    or_(col(done).is_(None), seconds_between(session, Complaint.created_at, done) > allowed.total_seconds()),
                )
            missed += count(session, Complaint.severity == severity, *conditions)
        result[kind.value] = missed
    return result


def _resolution_missed(session: Session, start: datetime, until: datetime, allowed: timedelta) -> tuple:
    """Resolution targets due in [start, until) and missed, where waits on the customer
    move a target by `paused_seconds` and a wait begun before the target stops it.
    Unpaused complaints are read by their creation time, paused ones by their own index."""
    def since_created(moment) -> ColumnElement[float]:
        return seconds_between(session, Complaint.created_at, moment)

    budget = allowed.total_seconds() + col(Complaint.paused_seconds)
    due_in_window = or_(
        and_(Complaint.paused_seconds == 0, within(Complaint.created_at, start - allowed, until - allowed)),
        and_(Complaint.paused_seconds > 0, col(Complaint.created_at) < until - allowed,
             since_created(start) <= budget, since_created(until) > budget),
    )
    unresolved = and_(
        col(Complaint.resolved_at).is_(None),
        or_(col(Complaint.waiting_since).is_(None), since_created(Complaint.waiting_since) >= budget),
    )
    return due_in_window, or_(unresolved, since_created(Complaint.resolved_at) > budget)


def grouped(session: Session, column, *conditions) -> list[tuple[str, int]]:
    total = func.count().label("total")
    statement = select(column, total).where(COUNTED, *conditions).group_by(column).order_by(total.desc(), column)
    return [(name, n) for name, n in session.exec(statement)]


def oldest_open(session: Session, limit: int = OLDEST_OPEN) -> list[OpenComplaint]:
    rows = session.exec(
        select(Complaint.id, Complaint.severity, Complaint.category, Complaint.owner_id, Complaint.created_at,
               func.substr(Complaint.description, 1, 200))
        .where(col(Complaint.status).in_(OPEN_STATUSES))
        .order_by(col(Complaint.created_at), col(Complaint.id))
        .limit(limit)
    )
    return [OpenComplaint(*row) for row in rows]


def nps(session: Session, period_start: datetime, period_end: datetime) -> Nps:
    score = col(Complaint.satisfaction_score)

    def answers(condition) -> ColumnElement[int]:
        return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)

    row = session.exec(
        select(func.count(), answers(score >= 9), answers((score >= 7) & (score <= 8)), answers(score <= 6)).where(COUNTED, within(Complaint.satisfaction_at, period_start, period_end), score.is_not(None))
    ).one()
    return Nps(*(int(value) for value in row))


def trend(session: Session, week: IsoWeek, zone: ZoneInfo, weeks: int = TREND_WEEKS) -> list[WeekPoint]:
    points = []
    for back in range(weeks - 1, -1, -1):
        shown = week.shift(-back)
        start, end = shown.start(zone), shown.end(zone)
        points.append(
            WeekPoint(
                str(shown),
                count(session, within(Complaint.created_at, start, end)),
                count(session, within(Complaint.resolved_at, start, end)),
                durations(session, Complaint.first_responded_at, start, end, p90=False).median_seconds,
            )
        )
    return points


def weekly_digest(
    session: Session,
    *,
    week: IsoWeek,
    zone: ZoneInfo,
    now: datetime,
    targets: dict[str, Target],
) -> Digest:
    """The service figures of `week` (no other features' parts: see compute_digest)."""
    period = Period(week, zone, now)
    before = Period(week.shift(-1), zone, now)
    start, end = period.start, period.end
    logged_in = within(Complaint.created_at, start, end)
    return Digest(
        week=str(week),
        starts_at=start,
        ends_at=end,
        time_zone=zone.key,
        logged=Count(count(session, logged_in), count(session, within(Complaint.created_at, before.start, before.end))),
        resolved=Count(
            count(session, within(Complaint.resolved_at, start, end)),
            count(session, within(Complaint.resolved_at, before.start, before.end)),
        ),
        open=Count(*open_at(session, [min(end, now), min(before.end, now)])),
        first_response=durations(session, Complaint.first_responded_at, start, end),
        resolution=durations(session, Complaint.resolved_at, start, end),
        breaches=breaches(session, period, targets),
        by_category=grouped(session, Complaint.category, logged_in),
        by_channel=grouped(session, Complaint.contact_channel, logged_in),
        oldest_open=oldest_open(session),
        nps=nps(session, start, end),
        trend=trend(session, week, zone),
        repeat_customers=repeat_complainers(session, start=start, end=end),
    )


def compute_digest(
    *,
    open_session: SessionFactory,
    settings: Settings,
    people: PeopleDirectory | None,
    week: IsoWeek,
    now: datetime,
    articles: Iterable[Article],
    shown: Callable[[MoraleReport], Iterable[str]],
) -> Digest:
    """The digest for `week` with the morale report (for the week's Monday to Sunday in TZ)
    and the knowledge gaps of the 30 days up to the week's end.

    `people` (None: people are shown by ID and STAFF_CHANNEL is left out) is asked only
    between sessions; `shown` picks whom the morale part names (see morale.named_report).
    """
    zone = settings.zone
    with open_session() as session:
        figures = weekly_digest(session, week=week, zone=zone, now=now, targets=settings.targets)
        gaps = gap_summary(session, now=min(week.end(zone), now), articles=articles)
        survey = survey_figures(
            session, start=figures.starts_at, end=figures.ends_at, before_start=week.shift(-1).start(zone), now=now,
            values=settings.survey_values, staff_nps=figures.nps,
        ) if settings.web_enabled else None
    morale = named_report(
        open_session=open_session, people=people, staff_channel=settings.staff_channel,
        end=week.end(zone).date(), zone=zone, daily_limit=settings.kudos_daily_limit, shown=shown,
    )
    return replace(figures, morale=morale, knowledge_gaps=gaps, survey=survey)


def recipients(*, settings: Settings) -> list[str]:
    """Channel and/or manager user IDs, per DIGEST_DELIVERY (DMs when there is no channel)."""
    channel = settings.manager_channel if settings.digest_delivery in ("channel", "both") else ""
    wants_dms = settings.digest_delivery in ("dm", "both") or not settings.manager_channel
    return ([channel] if channel else []) + (list(settings.manager_ids) if wants_dms else [])


def _round(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds, 1)
