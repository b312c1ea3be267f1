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

from sqlalchemy import ColumnElement, func
from sqlmodel import Session, col, select

from bot.periods import BY_PERIOD, in_periods, period_of
from models.complaints import OPEN_STATUSES, Complaint, ComplaintEvent, EventKind

# A duplicate merged into another complaint is left out of every volume and time.
COUNTED = col(Complaint.merged_into_id).is_(None)
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


@dataclass(frozen=True)
class Changes:
    """The counted complaints resolved or reopened since a moment (`changes_since`): each
    one's resolutions and reopenings since, in order, its creation time and whether it
    is open now. `at(moment)` reads them for any moment from then on."""

    events: dict[int, list[tuple[datetime, str]]]
    complaints: dict[int, tuple[datetime, bool]]

    def at(self, moment: datetime) -> list[tuple[int, bool, bool]]:
        """(id, open at `moment`, open now) of those logged before `moment` and resolved
        or reopened since it: the first such event after it says how it stood then."""
        changed = []
        for complaint_id, (created, open_now) in self.complaints.items():
            if created >= moment:
                continue
            first = next((kind for at, kind in self.events[complaint_id] if at >= moment), None)
            if first is not None:
                changed.append((complaint_id, first == EventKind.RESOLVED.value, open_now))
        return changed


def changes_since(session: Session, since: datetime, until: datetime) -> Changes:
    """The complaints logged before `until` and resolved or reopened since `since`, for
    `Changes.at` a moment between the two: one read of the events since (the index of
    event times) and one of their complaints by primary key (an IN subquery, which both
    databases answer that way; a join had SQLite walk the complaints by creation time)."""
    since_then = (ComplaintEvent.at >= since, col(ComplaintEvent.kind).in_(OPENING))
    ordered: dict[int, list[tuple[int, datetime, str]]] = {}
    for event_id, complaint_id, at, kind in session.exec(
        select(ComplaintEvent.id, ComplaintEvent.complaint_id, ComplaintEvent.at, ComplaintEvent.kind).where(*since_then)
    ):
        ordered.setdefault(complaint_id, []).append((event_id, at, kind))
    # Ordered here: ORDER BY id would have SQLite walk the whole table in id order.
    events = {complaint_id: [(at, kind) for _, at, kind in sorted(rows)] for complaint_id, rows in ordered.items()}
    rows = session.exec(select(Complaint.id, Complaint.created_at, Complaint.status).where(
        col(Complaint.id).in_(select(ComplaintEvent.complaint_id).where(*since_then)), COUNTED,
        Complaint.created_at < until,
    ))
    return Changes(events, {complaint_id: (created, status in OPEN_STATUSES) for complaint_id, created, status in rows})


def changed_since(session: Session, moment: datetime) -> list[tuple[int, bool, bool]]:
    """(id, open at `moment`, open now) of the counted complaints logged before `moment`
    and resolved or reopened since."""
    return changes_since(session, moment, moment).at(moment)


def _open_now(session: Session, *conditions) -> int:
    # Merged complaints are never open, so no COUNTED here: the (status, owner_id) index
    # alone answers it.
    return session.exec(select(func.count()).select_from(Complaint).where(
        col(Complaint.status).in_(OPEN_STATUSES), *conditions)).one()


def open_at(session: Session, moment: datetime, changed: list[tuple[int, bool, bool]] | None = None) -> int:
    """Complaints open (waiting on the customer or not) at `moment`.

    Open now and logged before it (all open ones less those logged since, both from
    indexes), corrected by the complaints resolved or reopened since (`changed`, if the
    caller has read them already: a month late, that read is most of a digest's time).
    """
    total = _open_now(session) - _open_now(session, Complaint.created_at >= moment)
    for _, then, now in changed_since(session, moment) if changed is None else changed:
        total += int(then) - int(now)
    return total


def oldest_open_at(session: Session, moment: datetime, limit: int,
                   changed: list[tuple[int, bool, bool]] | None = None) -> list[OpenComplaint]:
    """The `limit` complaints open longest at `moment`, each with its owner then."""
    changed = changed_since(session, moment) if changed is None else changed
    touched = {complaint_id for complaint_id, _, _ in changed}
    columns = (Complaint.id, Complaint.severity, Complaint.category, Complaint.owner_id, Complaint.created_at,
               func.substr(Complaint.description, 1, 200))
    oldest = select(*columns).order_by(col(Complaint.created_at), col(Complaint.id))
    # Open now and untouched since: read in growing pages until `limit` survive.
    found: list[OpenComplaint] = []
    page = limit + len(touched)
    while True:
        rows = session.exec(oldest.where(COUNTED, col(Complaint.status).in_(OPEN_STATUSES),
                                         Complaint.created_at < moment).limit(page)).all()
        found = [OpenComplaint(*row) for row in rows if row[0] not in touched][:limit]
        if len(found) == limit or len(rows) < page:
            break
        page *= 4
    open_then = [complaint_id for complaint_id, then, _ in changed if then]
    for start in range(0, len(open_then), CHUNK):
        rows = session.exec(oldest.where(col(Complaint.id).in_(open_then[start:start + CHUNK])).limit(limit))
        found += [OpenComplaint(*row) for row in rows]
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


def resolved_per_period(session: Session, bounds: Sequence[datetime]) -> dict[int, int]:
    """Complaints resolved in each period (`bounds`, see bot/periods.py), each once a period
    however often it was resolved in it: one grouped query."""
    period = period_of(ComplaintEvent.at, bounds)
    resolved = (
        select(ComplaintEvent.complaint_id.label("complaint_id"), period.label("p"))
        .where(in_periods(ComplaintEvent.at, bounds), ComplaintEvent.kind == EventKind.RESOLVED.value)
        .group_by(ComplaintEvent.complaint_id, BY_PERIOD)
        .subquery()
    )
    return dict(session.exec(
        select(resolved.c.p, func.count()).select_from(resolved)
        .join(Complaint, Complaint.id == resolved.c.complaint_id).where(COUNTED).group_by(resolved.c.p)
    ).all())


def answers_in(session: Session, period_start: datetime, period_end: datetime) -> list[tuple[int, datetime, int]]:
    """(complaint id, when, score) of every customer answer recorded in the window (`rated`
    events, whose note starts with the score: `9/10: …`), counted complaints only."""
    rows = session.exec(
        select(ComplaintEvent.complaint_id, ComplaintEvent.at, ComplaintEvent.note)
        .join(Complaint, Complaint.id == ComplaintEvent.complaint_id)
        .where(COUNTED, within(ComplaintEvent.at, period_start, period_end), ComplaintEvent.kind == EventKind.RATED.value)
        .order_by(col(ComplaintEvent.id))
    )
    answers = []
    for complaint_id, at, note in rows:
        score = note.partition("/")[0]
        if score.isdigit():
            answers.append((complaint_id, at, int(score)))
    return answers

