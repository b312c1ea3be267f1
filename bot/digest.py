"""The weekly digest's figures, computed with SQL aggregates over indexed time ranges.

One ISO week in TZ: complaints logged, resolved and open (each with the week before),
median and 90th-percentile times to first response and to resolution, SLA breaches,
counts by category and by contact channel, the oldest open complaints, NPS, eight
weeks of trend for the chart, and other features' parts (the morale report, the
knowledge gaps).

Every query reads one week's rows through an index (or a count), so the time and
memory it takes follow a week's volume, not the size of the history. Percentiles are
`percentile_cont` on PostgreSQL and the same interpolation on SQLite from the two
rows around each rank (ORDER BY ... LIMIT ... OFFSET k, one sort for all the ranks).

The figures stand as of the week's end whenever they are computed: open complaints,
the oldest of them with their ages and owners then, resolutions and their times, SLA
breaches (with the waits on the customer as they were) and the NPS come from the event
history (bot/as_of.py), so a digest sent late or previewed for an old week says what
it would have said on time.

`Digest` is plain data, figures only: Slack blocks, the terminal and `--json` all
render it (handlers/digest_views.py). `compute_digest` asks the chat service what it
needs (STAFF_CHANNEL's members, people's names) only while no session is open.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, replace
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, literal_column
from sqlmodel import Session, select

from bot.as_of import (
    COUNTED, OpenComplaint, answers_in, counted, open_at,
    resolutions, resolved_per_period, within,
)
from bot.config import Settings
from bot.customer_history import repeat_complainers
from bot.knowledge.articles import Article
from bot.knowledge.usage import GapSummary, gap_summary
from bot.morale import MoraleReport, NamedReport, named_report
from bot.nps import Nps
from bot.people import PeopleDirectory
from bot.periods import counts_per_period, grouped_percentiles, in_periods, interpolated
from bot.missed_targets import missed_per_period
from bot.quality_index import IndexRules, WeekQuality, day_periods, parse_weights, week_quality
from bot.sla import Target, TargetKind
from bot.survey_figures import SurveyFigures, survey_figures
from bot.weeks import IsoWeek, Period
from models.complaints import Complaint, Severity
from models.db import SessionFactory, seconds_between

TREND_WEEKS = 8
OLDEST_OPEN = 5


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
class WeekPoint:
    week: str
    logged: int
    resolved: int
    median_first_response_seconds: float | None
    # The week's Monday 00:00 in TZ (the chart labels weeks by date).
    starts_at: datetime | None = None


@dataclass(frozen=True)
class Digest:
    week: str
    starts_at: datetime
    ends_at: datetime
    # The moment the figures stand at: the week's end, or now for a week in progress.
    as_of: datetime
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
    # The daily service-quality index over the week, and the week before's for the trend.
    quality: WeekQuality | None = None
    # The first-response target of the severity most logged in the trend's weeks (the chart's line).
    common_severity: str = Severity.NORMAL.value
    first_response_target_seconds: float | None = None
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
        data["quality"] = self.quality.as_json() if self.quality else None
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
def percentiles(session: Session, value, *conditions, source=Complaint,
                quantiles: Sequence[float] = (0.5, 0.9)) -> tuple[int, list[float | None]]:
    """How many rows of `source` match, and the continuous percentiles of `value` over them."""
    if session.get_bind().dialect.name == "postgresql":
        columns = [func.percentile_cont(q).within_group(value) for q in quantiles]
        row = session.exec(select(func.count(), *columns).select_from(source).where(*conditions)).one()
        return row[0], [None if v is None else float(v) for v in row[1:]]
    total = session.exec(select(func.count()).select_from(source).where(*conditions)).one()
    if not total:
        return total, [None] * len(quantiles)
    # One sort for every quantile: the sorted values from the lowest rank to the row after
    # the highest (40% of them for the median and the 90th percentile), not a sort each.
    ranks = [q * (total - 1) for q in quantiles]
    first = math.floor(min(ranks))
    statement = select(value.label("v")).select_from(source).where(*conditions).order_by(literal_column("v"))
    values = list(session.exec(statement.limit(math.floor(max(ranks)) + 2 - first).offset(first)))
    found = []
    for rank in ranks:
        at = math.floor(rank) - first
        found.append(interpolated(values[at:at + 2], rank))
    return total, found


# ----- the figures ---------------------------------------------------------------------------
def first_responses(session: Session, period_start: datetime, period_end: datetime) -> Durations:
    """Count, median and 90th percentile of the times to a first response given in the
    window (set once, so as of any moment)."""
    seconds = seconds_between(session, Complaint.created_at, Complaint.first_responded_at)
    # From the index of first responses with creation times alone (bot.as_of.counted).
    total, (median, p90) = percentiles(session, seconds, counted(Complaint.id),
                                       within(Complaint.first_responded_at, period_start, period_end))
    return Durations(total, _round(median), _round(p90))


def resolution_times(session: Session, period_start: datetime, period_end: datetime) -> Durations:
    """Times from logging to each complaint's last resolution in the window (its history:
    a complaint reopened since still counts here)."""
    resolved = resolutions(period_start, period_end)
    # Each complaint's creation time by primary key: joined, PostgreSQL hashed the week's
    # resolutions against a scan of every complaint (0.4 s at a million).
    created = select(Complaint.created_at).where(Complaint.id == resolved.c.complaint_id).scalar_subquery()
    seconds = seconds_between(session, created, resolved.c.resolved_at)
    total, (median, p90) = percentiles(session, seconds, counted(resolved.c.complaint_id), source=resolved)
    return Durations(total, _round(median), _round(p90))


def grouped(session: Session, column, *conditions) -> list[tuple[str, int]]:
    total = func.count().label("total")
    statement = select(column, total).where(COUNTED, *conditions).group_by(column).order_by(total.desc(), column)
    return [(name, n) for name, n in session.exec(statement)]


def nps(session: Session, period_start: datetime, period_end: datetime) -> Nps:
    """Each complaint's last answer in the window (the one that stood at its end)."""
    latest = {complaint_id: score for complaint_id, _, score in answers_in(session, period_start, period_end)}
    return Nps.of(latest.values())


def trend(session: Session, week: IsoWeek, zone: ZoneInfo, weeks: int = TREND_WEEKS) -> tuple[list[WeekPoint], str]:
    """The `weeks` weeks up to `week` (logged, resolved and the median first response of
    each, one query per figure: bot/periods.py) and the severity most logged in them
    (ties: the first by name)."""
    shown = [week.shift(-back) for back in range(weeks - 1, -1, -1)]
    bounds = [w.start(zone) for w in shown] + [week.end(zone)]
    # Not merged as bot.as_of.counted checks it: the counts come from the index of creation times alone.
    logged = counts_per_period(session, Complaint.created_at, bounds, counted(Complaint.id))
    by_severity = dict(session.exec(
        select(Complaint.severity, func.count())
        .where(counted(Complaint.id), in_periods(Complaint.created_at, bounds)).group_by(Complaint.severity)
    ).all())
    common = min(by_severity, key=lambda severity: (-by_severity[severity], severity), default=Severity.NORMAL.value)
    resolved = resolved_per_period(session, bounds)
    seconds = seconds_between(session, Complaint.created_at, Complaint.first_responded_at)
    medians = grouped_percentiles(session, seconds, Complaint.first_responded_at, bounds, counted(Complaint.id))
    return [
        WeekPoint(str(w), logged[n], resolved[n],
                  _round(medians[n][1][0]) if n in medians else None, starts_at=bounds[n])
        for n, w in enumerate(shown)
    ], common


def weekly_digest(
    session: Session,
    *,
    week: IsoWeek,
    zone: ZoneInfo,
    now: datetime,
    targets: dict[str, Target],
    rules: IndexRules | None = None,
) -> Digest:
    """The service figures of `week` as they stood at its end (or now, for a week in
    progress), whenever they are computed (bot/as_of.py); no other features' parts
    (see compute_digest). `rules` weigh the daily index (default: SQI_WEIGHTS' defaults)."""
    period = Period(week, zone, now)
    before = Period(week.shift(-1), zone, now)
    start, end = period.start, period.end
    as_of = min(end, now)
    logged_in = within(Complaint.created_at, start, end)
    rules = rules or IndexRules(parse_weights(""), targets)
    # Targets missed on each day of this week and the week before, counted once for the
    # breaches and the daily index (when it weighs the same targets).
    days = day_periods(week.monday - timedelta(days=7), 14, zone, now)
    missed = missed_per_period(session, bounds=days, targets=targets)
    weeks, common = trend(session, week, zone)
    open_counts, oldest_open = open_at(session, [as_of, min(before.end, now)], oldest=OLDEST_OPEN)
    return Digest(
        week=str(week),
        starts_at=start,
        ends_at=end,
        as_of=as_of,
        time_zone=zone.key,
        # The trend's last two weeks are this week and the week before.
        logged=Count(weeks[-1].logged, weeks[-2].logged),
        resolved=Count(weeks[-1].resolved, weeks[-2].resolved),
        open=Count(*open_counts),
        first_response=first_responses(session, start, end),
        resolution=resolution_times(session, start, end),
        breaches={kind.value: sum(missed[kind][7:]) for kind in TargetKind},
        by_category=grouped(session, Complaint.category, logged_in),
        by_channel=grouped(session, Complaint.contact_channel, logged_in),
        oldest_open=oldest_open,
        nps=nps(session, start, end),
        trend=weeks,
        repeat_customers=repeat_complainers(session, start=start, end=end),
        quality=week_quality(session, monday=week.monday, zone=zone, now=now, rules=rules,
                             missed=missed if rules.targets == targets else None),
        common_severity=common,
        first_response_target_seconds=targets[common].first_response.total_seconds(),
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
        figures = weekly_digest(session, week=week, zone=zone, now=now, targets=settings.targets,
                                rules=settings.sqi_rules)
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
