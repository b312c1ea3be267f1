"""The digest's figures the naive way, for bench/digest.py to check the SQL ones against:
every complaint, event and recognition row loaded into Python and counted there."""

from __future__ import annotations

import statistics
from collections import Counter
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlmodel import select

from bench.morale_report import morale_from_rows
from bot.services import Services
from bot.sla import TargetKind
from bot.weeks import IsoWeek
from models.complaints import Complaint, ComplaintEvent, Status
from models.kudos import Recognition


def naive_figures(services: Services, week: IsoWeek, *, now: datetime, zone: ZoneInfo) -> dict:
    """Every complaint, event and recognition loaded into Python, then counted there."""
    settings = services.settings
    targets, daily_limit = settings.targets, settings.kudos_daily_limit
    with services.open_session() as session:
        complaints = session.exec(select(
            Complaint.id, Complaint.severity, Complaint.category, Complaint.contact_channel, Complaint.status,
            Complaint.owner_id, Complaint.created_at, Complaint.first_responded_at, Complaint.resolved_at,
            Complaint.satisfaction_score, Complaint.satisfaction_at,
        )).all()
        events = session.exec(select(ComplaintEvent.kind, ComplaintEvent.actor_id, ComplaintEvent.owner_id, ComplaintEvent.at)).all()
        kudos = session.exec(select(
            Recognition.id, Recognition.giver_id, Recognition.recipient_id, Recognition.value, Recognition.complaint_id,
            Recognition.created_at, Recognition.day, Recognition.revoked_at,
        )).all()

    def week_range(week: IsoWeek):
        return week.start(zone), week.end(zone)

    def inside(moment, bounds):
        return moment is not None and bounds[0] <= moment < bounds[1]

    this, before = week_range(week), week_range(week.shift(-1))

    def open_at(moment):
        return sum(1 for c in complaints if c.created_at < moment and (c.resolved_at is None or c.resolved_at >= moment))

    def durations(done: str, bounds):
        values = sorted((getattr(c, done) - c.created_at).total_seconds() for c in complaints if inside(getattr(c, done), bounds))
        if not values:
            return {"count": 0, "median_seconds": None, "p90_seconds": None}
        p90 = statistics.quantiles(values, n=10, method="inclusive")[-1] if len(values) > 1 else values[0]
        return {"count": len(values), "median_seconds": round(statistics.median(values), 1), "p90_seconds": round(p90, 1)}

    until = min(this[1], now)
    breaches = {}
    for kind, done in ((TargetKind.FIRST_RESPONSE, "first_responded_at"), (TargetKind.RESOLUTION, "resolved_at")):
        missed = 0
        for c in complaints:
            allowed = targets[c.severity].of(kind)
            if this[0] <= c.created_at + allowed < until and (getattr(c, done) is None or getattr(c, done) - c.created_at > allowed):
                missed += 1
        breaches[kind.value] = missed
    logged = [c for c in complaints if inside(c.created_at, this)]
    answers = [c.satisfaction_score for c in complaints if inside(c.satisfaction_at, this) and c.satisfaction_score is not None]
    trend = []
    for back in range(7, -1, -1):
        bounds = week_range(week.shift(-back))
        trend.append({
            "logged": sum(inside(c.created_at, bounds) for c in complaints),
            "resolved": sum(inside(c.resolved_at, bounds) for c in complaints),
            "median_first_response_seconds": durations("first_responded_at", bounds)["median_seconds"],
        })
    oldest = sorted((c for c in complaints if c.status == Status.OPEN), key=lambda c: (c.created_at, c.id))
    morale = morale_from_rows(kudos, complaints, events, end=this[1].date(), zone=zone, daily_limit=daily_limit)
    return {
        "logged": [len(logged), sum(inside(c.created_at, before) for c in complaints)],
        "resolved": [sum(inside(c.resolved_at, this) for c in complaints), sum(inside(c.resolved_at, before) for c in complaints)],
        "open": [open_at(until), open_at(min(before[1], now))],
        "first_response": durations("first_responded_at", this),
        "resolution": durations("resolved_at", this),
        "breaches": breaches,
        "by_category": dict(Counter(c.category for c in logged)),
        "by_channel": dict(Counter(c.contact_channel for c in logged)),
        "oldest_open": [c.id for c in oldest[:5]],
        "nps": [len(answers), sum(a >= 9 for a in answers), sum(7 <= a <= 8 for a in answers), sum(a <= 6 for a in answers)],
        "trend": trend,
        # This history records no knowledge-base searches, so there are no gaps to find.
        "sections": {"morale": morale.as_dict(), "knowledge_gaps": {"gaps": []}},
    }


def comparable(data: dict) -> dict:
    """The SQL digest's JSON in the naive version's shape, for an equality check."""
    return {
        "logged": [data["logged"]["value"], data["logged"]["previous"]],
        "resolved": [data["resolved"]["value"], data["resolved"]["previous"]],
        "open": [data["open"]["value"], data["open"]["previous"]],
        "first_response": data["first_response"],
        "resolution": data["resolution"],
        "breaches": data["breaches"],
        "by_category": data["by_category"],
        "by_channel": data["by_channel"],
        "oldest_open": [complaint["id"] for complaint in data["oldest_open"]],
        "nps": [data["nps"][k] for k in ("answers", "promoters", "passives", "detractors")],
        "trend": [{k: p[k] for k in ("logged", "resolved", "median_first_response_seconds")} for p in data["trend"]],
        "sections": {section["key"]: section["figures"] for section in data["sections"]},
    }


def figures_match(a: dict, b: dict) -> bool:
    """Equal, allowing a second's float noise in durations (julianday arithmetic on SQLite)."""
    def close(x, y, seconds=False):
        if isinstance(x, dict) and isinstance(y, dict):
            return x.keys() == y.keys() and all(close(x[k], y[k], k.endswith("seconds")) for k in x)
        if isinstance(x, list) and isinstance(y, list):
            return len(x) == len(y) and all(close(i, j) for i, j in zip(x, y))
        if seconds and x is not None and y is not None:
            return abs(x - y) <= 1.0
        return x == y

    return close(a, b)
