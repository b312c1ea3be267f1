"""A customer's earlier complaints: the repeat complainer is the one about to leave, so
the team sees the history when a complaint is logged, and on request."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func
from sqlmodel import Session, col, select

from bot.errors import InvalidInput
from models.complaints import Complaint
from models.customers import keys_for

REPEAT_WINDOW = timedelta(days=90)
# Earlier complaints named on a complaint's messages; the rest are counted.
REPEAT_SHOWN = 5
# A duplicate merged into another complaint is that complaint again, not a repeat.
NOT_MERGED = col(Complaint.merged_into_id).is_(None)
HISTORY_LIMIT = 20


@dataclass(frozen=True)
class PastComplaint:
    id: int
    status: str
    category: str
    created_at: datetime
    resolved_at: datetime | None
    resolution: str
    satisfaction_score: int | None

    @property
    def reference(self) -> str:
        return f"C-{self.id}"


@dataclass(frozen=True)
class CustomerHistory:
    """The customer's complaints, newest first (at most `limit`), and how many there are in all."""

    customer_name: str
    complaints: list[PastComplaint]
    total: int


def _past(complaint: Complaint) -> PastComplaint:
    return PastComplaint(
        complaint.id, complaint.status, complaint.category, complaint.created_at, complaint.resolved_at,
        complaint.resolution, complaint.satisfaction_score,
    )


@dataclass(frozen=True)
class EarlierComplaints:
    """How many complaints the customer made in the window before this one, and the
    latest few of them, oldest first (all of them would not fit a Slack message)."""

    total: int = 0
    latest: tuple[PastComplaint, ...] = ()

    def __bool__(self) -> bool:
        return self.total > 0


def earlier_complaints(session: Session, *, complaint: Complaint, window: timedelta = REPEAT_WINDOW,
                       shown: int = REPEAT_SHOWN) -> EarlierComplaints:
    """The same customer's other complaints logged in `window` before this one."""
    if not complaint.customer_key:
        return EarlierComplaints()
    conditions = (Complaint.customer_key == complaint.customer_key, Complaint.id != complaint.id, NOT_MERGED,
                  col(Complaint.created_at) >= complaint.created_at - window,
                  col(Complaint.created_at) <= complaint.created_at)
    latest = list(session.exec(
        select(Complaint).where(*conditions).order_by(col(Complaint.created_at).desc(), col(Complaint.id).desc()).limit(shown)
    ))
    total = len(latest) if len(latest) < shown else session.exec(
        select(func.count()).select_from(Complaint).where(*conditions)).one()
    return EarlierComplaints(total, tuple(_past(row) for row in reversed(latest)))


def customer_history(session: Session, *, customer: str, limit: int = HISTORY_LIMIT) -> CustomerHistory:
    """Every complaint from the customer with this contact (or name), newest first."""
    keys = keys_for(customer)
    if not keys:
        raise InvalidInput("Say which customer: `/complaint customer jane@example.com` (an e-mail, phone or name).")
    matching = col(Complaint.customer_key).in_(keys)
    total = session.exec(select(func.count()).select_from(Complaint).where(matching)).one()
    rows = list(session.exec(
        select(Complaint).where(matching).order_by(col(Complaint.created_at).desc(), col(Complaint.id).desc()).limit(limit)
    ))
    return CustomerHistory(rows[0].customer_name if rows else "", [_past(row) for row in rows], total)


def repeat_complainers(session: Session, *, start: datetime, end: datetime, window: timedelta = REPEAT_WINDOW) -> int:
    """Customers who complained in [start, end) and also in the `window` before their complaint."""
    this_week = (
        select(Complaint.customer_key, func.min(Complaint.created_at).label("first"))
        .where(Complaint.customer_key != "", NOT_MERGED, col(Complaint.created_at) >= start, col(Complaint.created_at) < end)
        .group_by(Complaint.customer_key)
        .subquery()
    )
    earlier = (
        select(this_week.c.customer_key)
        .select_from(this_week)
        .join(Complaint, Complaint.customer_key == this_week.c.customer_key)
        .where(NOT_MERGED, col(Complaint.created_at) < end, col(Complaint.created_at) >= this_week.c.first - window)
        .group_by(this_week.c.customer_key)
        .having(func.count() > 1)
    )
    return len(list(session.exec(earlier)))

