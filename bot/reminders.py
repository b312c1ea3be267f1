"""What reminders, escalations and follow-ups are due now: pure functions of the clock.

* **Reminder**: once `SLA_DUE_SOON_PERCENT` of a target has passed with the target not
  reached, the owner gets one DM for it.
* **Escalation**: when a target is missed, the managers hear about it once.
* **Follow-up**: `FOLLOW_UP_DAYS` after a complaint is resolved, the owner is asked to
  check back with the customer (until `/complaint followed-up` records it).
* **Still waiting**: a complaint waiting on the customer for `WAITING_REMINDER_DAYS`
  reminds its owner, once per wait. While it waits its resolution target stands
  still, so nothing is said about that target meanwhile.

Notices that fell due more than `LOOKBACK` ago are not sent any more, so installing
the bot on an old history, or a long outage, does not bury people in stale news.
Quiet hours hold everything but urgent complaints until they end. Reminder DMs are
batched per owner; the handler sends at most one per owner per `REMINDER_GAP`.

The scheduler calls `handlers.reminders`, which uses these to decide and
`bot.delivery_ledger` to claim each notice exactly once.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from sqlalchemy import or_
from sqlmodel import Session, col, select

from bot.sla import SlaState, Target, TargetKind, TargetStatus, in_quiet_hours, sla_status
from models.complaints import OPEN_STATUSES, Complaint, Severity, Status

LOOKBACK = timedelta(days=7)
REMINDER_GAP = timedelta(hours=1)
# Most notices in one DM or escalation message; the rest go in the next one.
BATCH_LIMIT = 20


class NoticeKind(StrEnum):
    REMINDER = "reminder"
    ESCALATION = "escalation"
    FOLLOW_UP = "follow_up"
    WAITING = "waiting"


@dataclass(frozen=True)
class Notice:
    kind: NoticeKind
    complaint: Complaint
    # When it fell due: the 75% point, the deadline, resolution + FOLLOW_UP_DAYS, or
    # the start of a wait + WAITING_REMINDER_DAYS.
    due_at: datetime
    # The SLA target it is about (None for follow-ups).
    target: TargetStatus | None = None

    @property
    def key(self) -> str:
        """The ledger key: one send per complaint, target and kind (per resolution for
        follow-ups, per wait for waiting reminders)."""
        if self.kind is NoticeKind.WAITING:
            return f"{self.kind}:{self.complaint.id}:{self.complaint.waiting_since:%Y%m%dT%H%M%S}"
        if self.target is None:
            return f"{self.kind}:{self.complaint.id}:{self.complaint.resolved_at:%Y%m%dT%H%M%S}"
        return f"{self.kind}:{self.complaint.id}:{self.target.kind}"

    @property
    def urgent(self) -> bool:
        return self.complaint.severity == Severity.URGENT


@dataclass
class Plan:
    """What to send now: one DM per owner, one escalation batch, and what waits."""

    reminders: dict[str, list[Notice]] = field(default_factory=dict)
    escalations: list[Notice] = field(default_factory=list)
    held_for_quiet_hours: list[Notice] = field(default_factory=list)


def notices_due(
    complaints: list[Complaint],
    *,
    now: datetime,
    targets: dict[str, Target],
    due_soon: float,
    follow_up_days: int,
    waiting_days: int,
) -> list[Notice]:
    """Every notice these complaints call for at `now` (sent or not: the ledger knows)."""
    notices = []
    for complaint in complaints:
        if complaint.is_open:
            if complaint.is_waiting and waiting_days:
                due_at = complaint.waiting_since + timedelta(days=waiting_days)
                if now >= due_at:
                    notices.append(Notice(NoticeKind.WAITING, complaint, due_at))
            target_of = targets[complaint.severity]
            for target in sla_status(complaint, now=now, targets=targets, due_soon=due_soon).targets:
                if target.done_at is not None or (complaint.is_waiting and target.kind is TargetKind.RESOLUTION):
                    continue
                allowed = target_of.of(target.kind)
                if target.state in (SlaState.DUE_SOON, SlaState.BREACHED):
                    notices.append(Notice(NoticeKind.REMINDER, complaint, target.due_at - allowed * (1 - due_soon), target))
                if target.state is SlaState.BREACHED:
                    notices.append(Notice(NoticeKind.ESCALATION, complaint, target.due_at, target))
        elif follow_up_days and complaint.followed_up_at is None and complaint.resolved_at is not None:
            due_at = complaint.resolved_at + timedelta(days=follow_up_days)
            if now >= due_at:
                notices.append(Notice(NoticeKind.FOLLOW_UP, complaint, due_at))
    return [notice for notice in notices if notice.due_at >= now - LOOKBACK]


def plan_notices(
    notices: list[Notice],
    *,
    settled: set[str],
    now: datetime,
    quiet: tuple[time, time] | None,
    zone: ZoneInfo,
) -> Plan:
    """Drop what was already sent, hold non-urgent notices in quiet hours, batch DMs per owner."""
    plan = Plan()
    quiet_now = in_quiet_hours(now, quiet, zone)
    by_owner: dict[str, list[Notice]] = defaultdict(list)
    for notice in sorted(notices, key=lambda n: (not n.urgent, n.due_at, n.complaint.id)):
        if notice.key in settled:
            continue
        if quiet_now and not notice.urgent:
            plan.held_for_quiet_hours.append(notice)
        elif notice.kind is NoticeKind.ESCALATION:
            plan.escalations.append(notice)
        else:
            by_owner[notice.complaint.owner_id].append(notice)
    plan.escalations = plan.escalations[:BATCH_LIMIT]
    plan.reminders = {owner: items[:BATCH_LIMIT] for owner, items in by_owner.items()}
    return plan


def candidates(session: Session, *, now: datetime, targets: dict[str, Target], follow_up_days: int) -> list[Complaint]:
    """Complaints that may need a notice: open ones young enough for a notice within
    LOOKBACK (or whose deadline waits on the customer moved, or waiting now), and
    recently resolved ones not followed up. All are index reads (the open ones by
    status), whatever the size of the history."""
    longest = max(target.resolution for target in targets.values())
    complaints = list(session.exec(
        select(Complaint).where(
            col(Complaint.status).in_(OPEN_STATUSES),
            or_(Complaint.created_at >= now - longest - LOOKBACK, Complaint.paused_seconds > 0,
                Complaint.status == Status.WAITING.value),
        )
    ))
    if follow_up_days:
        resolved_before = now - timedelta(days=follow_up_days)
        complaints += session.exec(
            select(Complaint).where(
                Complaint.status == Status.RESOLVED.value,
                col(Complaint.followed_up_at).is_(None),
                col(Complaint.resolved_at) <= resolved_before,
                col(Complaint.resolved_at) >= resolved_before - LOOKBACK,
            )
        )
    return complaints
