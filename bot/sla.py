"""Service-level targets and where a complaint stands against them.

Everything here is a pure function of a complaint, the targets and the time, so
messages, the App Home, reminders, the digest and the export all agree on one answer;
`breached_open` asks the database the same question for many complaints at once.

Targets are written compactly, one `severity=first-response/resolution` per severity:
`urgent=1h/8h,high=4h/24h,normal=8h/72h,low=24h/120h` (units `m`, `h`, `d`). A
severity left out keeps its default.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from enum import StrEnum
from functools import lru_cache
from zoneinfo import ZoneInfo

from sqlalchemy import and_, func, or_
from sqlmodel import Session, col, select

from models.complaints import OPEN_STATUSES, Complaint, Severity
from models.db import seconds_between

DEFAULT_SLA_TARGETS = "urgent=1h/8h,high=4h/24h,normal=8h/72h,low=24h/120h"
DURATION = re.compile(r"^(\d{1,5})([mhd])$")
UNITS = {"m": "minutes", "h": "hours", "d": "days"}
CLOCK_TIME = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")


class SlaState(StrEnum):
    ON_TRACK = "on track"
    DUE_SOON = "due soon"
    BREACHED = "breached"
    MET = "met"


# Worst first: the state shown for a complaint is its worst pending target.
SEVERITY_OF_STATE = (SlaState.BREACHED, SlaState.DUE_SOON, SlaState.ON_TRACK, SlaState.MET)


class TargetKind(StrEnum):
    FIRST_RESPONSE = "first_response"
    RESOLUTION = "resolution"

    @property
    def label(self) -> str:
        return self.value.replace("_", " ")


@dataclass(frozen=True)
class Target:
    first_response: timedelta
    resolution: timedelta

    def of(self, kind: TargetKind) -> timedelta:
        return self.first_response if kind is TargetKind.FIRST_RESPONSE else self.resolution


@dataclass(frozen=True)
class TargetStatus:
    kind: TargetKind
    due_at: datetime
    state: SlaState
    # When the target was reached (first response or resolution), if it was.
    done_at: datetime | None
    # Share of the target's time used so far (or used when it was reached).
    used: float
    # The clock stands still: waiting on the customer, with the target not yet missed.
    paused: bool = False


@dataclass(frozen=True)
class SlaStatus:
    first_response: TargetStatus
    resolution: TargetStatus

    @property
    def targets(self) -> tuple[TargetStatus, TargetStatus]:
        return self.first_response, self.resolution

    @property
    def state(self) -> SlaState:
        """Breached if any target was missed, else the state of the nearest pending one."""
        return min((t.state for t in self.targets), key=SEVERITY_OF_STATE.index)


def parse_duration(text: str) -> timedelta:
    match = DURATION.match(text.strip().lower())
    if not match or int(match.group(1)) == 0:
        raise ValueError(f"{text!r} is not a duration like 90m, 4h or 3d")
    return timedelta(**{UNITS[match.group(2)]: int(match.group(1))})


def parse_targets(text: str) -> dict[str, Target]:
    """`urgent=1h/8h,high=4h/24h` -> targets for every severity (defaults fill gaps).

    Parsed once per text (`Settings.targets` asks on every SLA shown: each team copy,
    each item of an App Home); each call gets a dict of its own."""
    return dict(_parsed_targets(text))


@lru_cache(maxsize=16)
def _parsed_targets(text: str) -> tuple[tuple[str, Target], ...]:
    return tuple({**_targets_given(DEFAULT_SLA_TARGETS), **_targets_given(text)}.items())


def _targets_given(text: str) -> dict[str, Target]:
    targets = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        severity, _, durations = part.partition("=")
        severity = severity.strip().lower()
        if severity not in Severity.__members__.values():
            raise ValueError(f"{severity!r} is not a severity (low, normal, high, urgent)")
        first, slash, resolution = durations.partition("/")
        if not slash:
            raise ValueError(f"give both targets for {severity}, e.g. {severity}=4h/24h")
        target = Target(parse_duration(first), parse_duration(resolution))
        if target.first_response > target.resolution:
            raise ValueError(f"{severity}: the first-response target is longer than the resolution target")
        targets[severity] = target
    return targets


def parse_quiet_hours(text: str) -> tuple[time, time] | None:
    """`20:00-08:00` -> (20:00, 08:00); empty means no quiet hours."""
    text = text.strip()
    if not text:
        return None
    start, dash, end = text.partition("-")
    times = [CLOCK_TIME.match(part.strip()) for part in (start, end)]
    if not dash or not all(times) or start.strip() == end.strip():
        raise ValueError(f"{text!r} is not a range like 20:00-08:00")
    return tuple(time(int(m.group(1)), int(m.group(2))) for m in times)


def in_quiet_hours(moment: datetime, quiet: tuple[time, time] | None, zone: ZoneInfo) -> bool:
    if quiet is None:
        return False
    start, end = quiet
    local = moment.astimezone(zone).time()
    return start <= local < end if start < end else (local >= start or local < end)


def resolution_due(complaint: Complaint, allowed: timedelta, now: datetime) -> datetime:
    """The resolution deadline, moved by the waits on the customer.

    Earlier waits move it by `paused_seconds`. A wait still going on moves it with the
    clock (the target stands still), unless the wait began after the deadline: a
    target already missed stays missed.
    """
    due_at = complaint.created_at + allowed + timedelta(seconds=complaint.paused_seconds or 0)
    if complaint.waiting_since is not None and due_at > complaint.waiting_since:
        due_at += max(now - complaint.waiting_since, timedelta(0))
    return due_at


def target_status(complaint: Complaint, kind: TargetKind, target: Target, now: datetime, due_soon: float) -> TargetStatus:
    allowed = target.of(kind)
    if kind is TargetKind.FIRST_RESPONSE:
        due_at, done_at = complaint.created_at + allowed, complaint.first_responded_at
    else:
        due_at, done_at = resolution_due(complaint, allowed, now), complaint.resolved_at
    # The share of the target's own time used: paused time does not count.
    used = ((done_at or now) - (due_at - allowed)) / allowed
    if done_at is not None:
        state = SlaState.MET if done_at <= due_at else SlaState.BREACHED
    elif now >= due_at:
        state = SlaState.BREACHED
    elif used >= due_soon:
        state = SlaState.DUE_SOON
    else:
        state = SlaState.ON_TRACK
    paused = (kind is TargetKind.RESOLUTION and done_at is None and complaint.waiting_since is not None
              and state is not SlaState.BREACHED)
    return TargetStatus(kind, due_at, state, done_at, used, paused)


def sla_status(complaint: Complaint, *, now: datetime, targets: dict[str, Target], due_soon: float) -> SlaStatus:
    target = targets[complaint.severity]
    return SlaStatus(
        target_status(complaint, TargetKind.FIRST_RESPONSE, target, now, due_soon),
        target_status(complaint, TargetKind.RESOLUTION, target, now, due_soon),
    )


def describe(delta: timedelta) -> str:
    """A short human duration: `45 min`, `3 h 20 min`, `2 days`."""
    minutes = int(abs(delta).total_seconds() // 60)
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    return f"{round(hours / 24)} days"


def breached_open(session: Session, *, now: datetime, targets: dict[str, Target], limit: int) -> tuple[list[Complaint], int]:
    """Open complaints past a target (oldest first, up to `limit`) and how many there are.

    The resolution target is missed once its time, less the waits on the customer, has
    passed: by now, or by the start of a wait still going on (as `resolution_due`).
    """
    clock_ran = seconds_between(session, Complaint.created_at, func.coalesce(Complaint.waiting_since, now))
    missed = or_(*(
        and_(
            Complaint.severity == severity,
            or_(
                and_(col(Complaint.created_at) < now - target.resolution,
                     clock_ran - col(Complaint.paused_seconds) >= target.resolution.total_seconds()),
                and_(col(Complaint.first_responded_at).is_(None), col(Complaint.created_at) < now - target.first_response),
            ),
        )
        for severity, target in targets.items()
    ))
    condition = and_(col(Complaint.status).in_(OPEN_STATUSES), missed)
    total = session.exec(select(func.count()).select_from(Complaint).where(condition)).one()
    rows = session.exec(select(Complaint).where(condition).order_by(col(Complaint.created_at), col(Complaint.id)).limit(limit))
    return list(rows), total
