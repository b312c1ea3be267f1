"""SLA targets missed in a window, as they stood at its end (issue 15): every one as a
row (the daily index lists the complaints behind it) or counted per period (the digest
shows counts only: its breaches and each day's index points, one grouped query per
severity and target instead of a row per missed target).

A first response is missed when it came later than its target, or not at all. A
resolution is missed when the complaint's first resolution came after its deadline;
for complaints that waited on the customer that deadline is replayed from the history
(`_resolution_deadline`): a wait that began later moves nothing.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, case, exists, func, literal_column, or_
from sqlmodel import Session, col, select

from bot.as_of import CHUNK, COUNTED, within
from bot.periods import BY_PERIOD, period_of
from bot.sla import Target, TargetKind
from models.complaints import Complaint, ComplaintEvent, EventKind, Status
from models.db import seconds_between

CLOCK_KINDS = (EventKind.WAITING.value, EventKind.RESUMED.value, EventKind.RESOLVED.value,
               EventKind.REOPENED.value, EventKind.MERGED.value)
# A literal, not a bound parameter: only then can SQLite see that a query's
# `paused_seconds > 0` is the partial index's own condition and use it.
PAUSED_INDEX_ZERO = literal_column("0")


@dataclass(frozen=True)
class MissedTarget:
    """A target that fell due at `due_at` without being reached."""

    kind: TargetKind
    complaint_id: int
    due_at: datetime


def missed_targets(session: Session, *, start: datetime, until: datetime, targets: dict[str, Target]) -> list[MissedTarget]:
    """Targets that fell due in [start, until) and were not reached by then, in order."""
    missed = []
    for kind in TargetKind:
        rows = session.exec(select(Complaint.id, Complaint.created_at, Complaint.severity)
                            .where(*_unpaused_missed(session, kind, targets, start, until)))
        missed += [MissedTarget(kind, complaint_id, created + targets[severity].of(kind))
                   for complaint_id, created, severity in rows]
    missed += _paused_resolutions_missed(session, targets, start, until)
    return sorted(missed, key=lambda m: (m.due_at, m.complaint_id, m.kind.value))


def missed_per_period(session: Session, *, bounds: Sequence[datetime], targets: dict[str, Target]) -> dict[TargetKind, list[int]]:
    """How many targets fell due in each period (`bounds`, see bot/periods.py; the last
    bound is the moment they stand at) without being reached: `missed_targets` counted,
    grouped by the period of each due time in SQL (one query a kind of target)."""
    periods = len(bounds) - 1
    counts = {kind: [0] * periods for kind in TargetKind}
    if periods < 1 or not targets:
        return counts
    start, until = bounds[0], bounds[-1]
    for kind in TargetKind:
        period = case(*((Complaint.severity == severity, period_of(Complaint.created_at, bounds, target.of(kind)))
                        for severity, target in targets.items())).label("p")
        for index, n in session.exec(select(period, func.count())
                                     .where(*_unpaused_missed(session, kind, targets, start, until)).group_by(BY_PERIOD)):
            counts[kind][index] += n
    for missed in _paused_resolutions_missed(session, targets, start, until):
        counts[missed.kind][bisect_right(bounds, missed.due_at) - 1] += 1
    return counts


def _unpaused_missed(session: Session, kind: TargetKind, targets: dict[str, Target], start: datetime, until: datetime):
    """The conditions on a complaint that missed its `kind` target, due in [start, until)
    at its creation time plus its severity's target: a first response, or a resolution
    when the complaint never waited on the customer. One scan of the creation times
    that any severity's window covers, then each severity's own window."""
    allowed = {severity: target.of(kind) for severity, target in targets.items()}
    if kind is TargetKind.FIRST_RESPONSE:
        def missed(limit: timedelta):
            late = seconds_between(session, Complaint.created_at, Complaint.first_responded_at) > limit.total_seconds()
            return or_(col(Complaint.first_responded_at).is_(None), late)
        extra = ()
    else:
        def missed(limit: timedelta):
            return ~exists().where(
                ComplaintEvent.complaint_id == Complaint.id, ComplaintEvent.kind == EventKind.RESOLVED.value,
                seconds_between(session, Complaint.created_at, ComplaintEvent.at) <= limit.total_seconds(),
            )
        extra = (_never_paused(),)
    return (
        COUNTED, *extra,
        within(Complaint.created_at, start - max(allowed.values()), until - min(allowed.values())),
        or_(*(and_(Complaint.severity == severity, within(Complaint.created_at, start - limit, until - limit), missed(limit))
              for severity, limit in allowed.items())),
    )


def _never_paused():
    return and_(Complaint.paused_seconds == 0, col(Complaint.waiting_since).is_(None))


def _paused_resolutions_missed(session, targets: dict[str, Target], start, until) -> list[MissedTarget]:
    """Complaints that waited (now or ever) and could be due in the window, replayed."""
    # Two reads, each through its own index: those that waited before (the partial index
    # of paused complaints, by creation time) and those waiting now (the status index;
    # few, so their times are checked here rather than letting the planner pick the
    # index of every complaint's creation time).
    candidates = {}
    for severity, target in targets.items():
        budget = target.resolution.total_seconds() + col(Complaint.paused_seconds)
        rows = session.exec(select(Complaint.id, Complaint.created_at, Complaint.severity).where(
            COUNTED, Complaint.severity == severity, Complaint.created_at < until - target.resolution,
            Complaint.paused_seconds > PAUSED_INDEX_ZERO, seconds_between(session, Complaint.created_at, start) <= budget,
        ))
        candidates.update((row[0], row) for row in rows)
    waiting = session.exec(select(Complaint.id, Complaint.created_at, Complaint.severity).where(
        COUNTED, Complaint.status == Status.WAITING.value))
    candidates.update((row[0], row) for row in waiting if row[1] < until - targets[row[2]].resolution)
    candidates = list(candidates.values())
    histories = _clock_events(session, [row[0] for row in candidates], until)
    missed = []
    for complaint_id, created, severity in candidates:
        due, resolved_at = _resolution_deadline(created, targets[severity].resolution, histories.get(complaint_id, []), until)
        if due is not None and start <= due < until and (resolved_at is None or resolved_at > due):
            missed.append(MissedTarget(TargetKind.RESOLUTION, complaint_id, due))
    return missed


def _clock_events(session: Session, ids: Sequence[int], until: datetime) -> dict[int, list[tuple[str, datetime]]]:
    histories: dict[int, list[tuple[str, datetime]]] = {}
    for start in range(0, len(ids), CHUNK):
        rows = session.exec(
            select(ComplaintEvent.complaint_id, ComplaintEvent.kind, ComplaintEvent.at)
            .where(col(ComplaintEvent.complaint_id).in_(ids[start:start + CHUNK]), col(ComplaintEvent.kind).in_(CLOCK_KINDS),
                   ComplaintEvent.at < until)
            .order_by(col(ComplaintEvent.id))
        )
        for complaint_id, kind, at in rows:
            histories.setdefault(complaint_id, []).append((kind, at))
    return histories


def _resolution_deadline(
    created: datetime, allowed: timedelta, events: Iterable[tuple[str, datetime]], until: datetime
) -> tuple[datetime | None, datetime | None]:
    """(The resolution deadline as it stood at `until`, None while a wait begun before it
    still held the clock; the first resolution before `until`.)

    Waits are taken in order: each one begun before the deadline moves it by its length,
    one begun after it moves nothing (a target already missed stays missed).
    """
    due, waiting_since, resolved_at = created + allowed, None, None
    for kind, at in events:
        if kind == EventKind.WAITING.value:
            waiting_since = at
            continue
        if waiting_since is not None:
            if waiting_since < due:
                due += at - waiting_since
            waiting_since = None
        if kind == EventKind.RESOLVED.value and resolved_at is None:
            resolved_at = at
    if waiting_since is not None and waiting_since < due:
        return None, resolved_at
    return due, resolved_at
