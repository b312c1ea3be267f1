"""Where complaints stood at a past moment, read from their event history.

A complaint's row holds the present: a reopened complaint has lost its `resolved_at`,
a wait that ended since has joined `paused_seconds`, an owner may have changed. A
figure about a past week (a digest sent late, a preview of an old week, a day's
service-quality index) therefore reads what had happened by the moment it is about:

* open or not: a complaint resolved or reopened after `moment` stood as the first
  such event after it says (a resolution means it was open, a reopening that it was
  closed); any other complaint stands as it does now. Only the events since `moment`
  are read, so a digest on time reads a few rows, one a month late a month's;
* resolutions: the `resolved` events themselves, not the row's latest `resolved_at`;
* resolution targets of complaints that ever waited on the customer: replayed from
  their `waiting` / `resumed` events up to the moment, so a wait that began later
  moves nothing (first-response times are set once and never move); see
  bot/missed_targets.py.

An `edited` event is not replayed: an edit corrects what the complaint always was (its
severity, so its targets, or its category), so past weeks read the corrected values.

Events of one complaint are recorded in the order they happen, so its first event
after a moment is the one with the smallest id.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy import ARRAY, ColumnElement, Integer, any_, cast, func
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from bot.periods import counts_per_period
from models.complaints import OPEN_STATUSES, Complaint, ComplaintEvent, EventKind

# A duplicate merged into another complaint is left out of every volume and time.
COUNTED = col(Complaint.merged_into_id).is_(None)
_merged = aliased(Complaint)
# Built once: building the aliased subquery took 1.3 ms of Python, a dozen times a digest.
_MERGED_IDS = select(_merged.id).where(col(_merged.merged_into_id).is_not(None))


def counted(complaint_id) -> ColumnElement[bool]:
    """COUNTED for the complaint `complaint_id` names, checked against the few merged ones
    (a small partial index): a query that reads an index of times (of complaints or of
    events) then needs no read of each complaint's row for it."""
    return col(complaint_id).not_in(_MERGED_IDS)


OPENING = (EventKind.RESOLVED.value, EventKind.REOPENED.value)
CHUNK = 500


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


def within(column, period_start: datetime, period_end: datetime) -> ColumnElement[bool]:
    return (column >= period_start) & (column < period_end)


def _first_opening_since(moment: datetime):
    """The kind of the complaint's first resolution or reopening since `moment` (NULL if
    none): its first event after it, through the index of each complaint's events."""
    event = aliased(ComplaintEvent)
    return (
        select(event.kind)
        .where(event.complaint_id == Complaint.id, event.at >= moment, col(event.kind).in_(OPENING))
        .order_by(col(event.id)).limit(1).scalar_subquery()
    )


def _changed_since(session: Session, moment: datetime) -> tuple[ColumnElement[bool], ...]:
    """The counted complaints logged before `moment` and resolved or reopened since: the
    events since from the index of event times, then their complaints by primary key.

    SQLite answers `id IN (subquery)` that way (a join had it walk the complaints by
    creation time). PostgreSQL hashed the subquery and scanned the whole complaint
    table (0.4 s at a million); given the IDs as one array, `id = ANY(...)`, it probes
    the primary key."""
    since = (ComplaintEvent.at >= moment, col(ComplaintEvent.kind).in_(OPENING))
    if session.get_bind().dialect.name == "postgresql":
        ids = select(func.array_agg(ComplaintEvent.complaint_id)).where(*since).scalar_subquery()
        touched = col(Complaint.id) == any_(cast(ids, ARRAY(Integer)))
    else:
        touched = col(Complaint.id).in_(select(ComplaintEvent.complaint_id).where(*since))
    return touched, COUNTED, Complaint.created_at < moment


def open_at(session: Session, moments: Sequence[datetime], *, oldest: int = 0) -> tuple[list[int], list[OpenComplaint]]:
    """Complaints open (waiting on the customer or not) at each of `moments`, and the
    `oldest` open longest at the first of them, each with its owner then.

    The count: open now and logged before the moment (all open ones, counted once for
    every moment, less those logged since, from indexes), corrected by the complaints
    resolved or reopened since and logged before it: those whose first such event was a
    resolution were open then, less those open now. Those changed complaints are read
    once a moment (their IDs, times and status: 1,600 rows a month late at a million),
    and the oldest of them that were open then join the oldest open now and untouched
    since; each changed complaint's events were probed twice before (0.2 s a month late
    on PostgreSQL).
    """
    open_now = col(Complaint.status).in_(OPEN_STATUSES)
    # Merged complaints are never open, so no COUNTED here: the (status, owner_id) index
    # alone answers the first, the index of creation times the others.
    count_open = select(func.count()).select_from(Complaint).where(open_now)
    total, *logged_since = session.exec(select(count_open.scalar_subquery(), *(
        count_open.where(Complaint.created_at >= moment).scalar_subquery() for moment in moments))).one()
    counts, longest = [], []
    for n, (moment, since) in enumerate(zip(moments, logged_since)):
        changed = session.exec(select(Complaint.id, Complaint.created_at, Complaint.status, _first_opening_since(moment))
                               .where(*_changed_since(session, moment))).all()
        open_then = sorted((created, id_) for id_, created, _, first in changed if first == EventKind.RESOLVED.value)
        counts.append(total - since + len(open_then) - sum(status in OPEN_STATUSES for _, _, status, _ in changed))
        if oldest and n == 0:
            longest = _oldest_open_at(session, moment, oldest, open_then[:oldest])
    return counts, longest


_OPEN_COLUMNS = (Complaint.id, Complaint.severity, Complaint.category, Complaint.owner_id, Complaint.created_at,
                 func.substr(Complaint.description, 1, 200))


def _oldest_open_at(session: Session, moment: datetime, limit: int, open_then: list[tuple[datetime, int]]) -> list[OpenComplaint]:
    """The `limit` oldest of those open now and untouched since `moment` and of `open_then`
    (the changed ones open then, as (created_at, id) in order), with their owners then."""
    oldest = select(*_OPEN_COLUMNS).order_by(col(Complaint.created_at), col(Complaint.id)).limit(limit)
    untouched = _first_opening_since(moment).is_(None)
    found = [OpenComplaint(*row) for row in session.exec(oldest.where(
        COUNTED, col(Complaint.status).in_(OPEN_STATUSES), Complaint.created_at < moment, untouched))]
    if open_then:
        found += [OpenComplaint(*row) for row in session.exec(oldest.where(col(Complaint.id).in_([i for _, i in open_then])))]
    found = sorted(found, key=lambda c: (c.created_at, c.id))[:limit]
    return [_with_owner_at(session, complaint, moment) for complaint in found]


def owner_at(session: Session, complaint_id: int, moment: datetime) -> str | None:
    """Who owned the complaint at `moment`: the owner its last logging or assignment before then gave it."""
    return session.exec(
        select(ComplaintEvent.owner_id)
        .where(ComplaintEvent.complaint_id == complaint_id, ComplaintEvent.owner_id != "", ComplaintEvent.at < moment)
        .order_by(col(ComplaintEvent.id).desc()).limit(1)
    ).first()


def _with_owner_at(session: Session, complaint: OpenComplaint, moment: datetime) -> OpenComplaint:
    owner = owner_at(session, complaint.id, moment)
    return complaint if not owner or owner == complaint.owner_id else replace(complaint, owner_id=owner)


def open_owners_before(session: Session, until: datetime, excluded: list[int]) -> set[str]:
    """Owners of complaints open now and logged before `until` (those in `excluded` aside):
    each owner's open complaints, counted from the (status, owner_id) index alone, less
    those logged since or excluded (a few recent rows)."""
    open_now = col(Complaint.status).in_(OPEN_STATUSES)
    # Grouped by status too, so that the (status, owner_id) index answers alone: grouped
    # by owner only, SQLite without statistics walked the owner index and read all
    # million rows (20 s).
    remaining = Counter()
    for _, owner, n in session.exec(
        select(Complaint.status, Complaint.owner_id, func.count()).where(open_now).group_by(Complaint.status, Complaint.owner_id)
    ):
        remaining[owner] += n
    # Those logged since, a few recent rows, through the index of creation times.
    remaining.subtract(session.exec(select(Complaint.owner_id).where(open_now, Complaint.created_at >= until)).all())
    # The excluded ones by primary key, a chunk at a time: OR-ed into the query above,
    # they made SQLite scan every open complaint against the list (47 s at a million).
    for start in range(0, len(excluded), CHUNK):
        remaining.subtract(session.exec(select(Complaint.owner_id).where(
            col(Complaint.id).in_(excluded[start:start + CHUNK]), open_now, Complaint.created_at < until,
        )).all())
    return {owner for owner, n in remaining.items() if n > 0}


def resolutions(period_start: datetime, period_end: datetime):
    """Each complaint resolved in the window, with its last resolution in it (a subquery)."""
    return (
        select(ComplaintEvent.complaint_id.label("complaint_id"), func.max(ComplaintEvent.at).label("resolved_at"))
        .where(within(ComplaintEvent.at, period_start, period_end), ComplaintEvent.kind == EventKind.RESOLVED.value)
        .group_by(ComplaintEvent.complaint_id)
        .subquery()
    )


def resolved_per_period(session: Session, bounds: Sequence[datetime]) -> list[int]:
    """Complaints resolved in each period (`bounds`, see bot/periods.py), each once a period
    however often it was resolved in it."""
    return counts_per_period(session, ComplaintEvent.at, bounds, ComplaintEvent.kind == EventKind.RESOLVED.value,
                             counted(ComplaintEvent.complaint_id), counted=ComplaintEvent.complaint_id)


def answers_in(session: Session, period_start: datetime, period_end: datetime) -> list[tuple[int, datetime, int]]:
    """(complaint id, when, score) of every customer answer recorded in the window (`rated`
    events, whose note starts with the score: `9/10: …`), counted complaints only."""
    rows = session.exec(
        select(ComplaintEvent.complaint_id, ComplaintEvent.at, ComplaintEvent.note)
        .where(counted(ComplaintEvent.complaint_id), within(ComplaintEvent.at, period_start, period_end),
               ComplaintEvent.kind == EventKind.RATED.value)
        .order_by(col(ComplaintEvent.id))
    )
    answers = []
    for complaint_id, at, note in rows:
        score = note.partition("/")[0]
        if score.isdigit():
            answers.append((complaint_id, at, int(score)))
    return answers

