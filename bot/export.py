"""Every complaint as rows for CSV or JSON lines (`servicedesk export`, `/desk export`).

Rows are streamed from the database, so exporting a large history uses little memory.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import TextIO

from sqlmodel import Session, col, select

from bot.config import Settings
from bot.sla import SlaStatus, Target, sla_status
from models.complaints import Complaint


def _iso(moment: datetime | None) -> str | None:
    return moment.astimezone(UTC).isoformat() if moment else None


def _minutes(start: datetime, end: datetime | None) -> float | None:
    return round((end - start).total_seconds() / 60, 1) if end else None


# One column per entry: (name, value of a complaint and its SLA status). Features add
# their columns here.
COLUMNS: list[tuple[str, Callable[[Complaint, SlaStatus], object]]] = [
    ("reference", lambda c, _: c.reference),
    ("status", lambda c, _: c.status),
    ("severity", lambda c, _: c.severity),
    ("category", lambda c, _: c.category),
    ("contact_channel", lambda c, _: c.contact_channel),
    ("owner_id", lambda c, _: c.owner_id),
    ("reporter_id", lambda c, _: c.reporter_id),
    ("customer_name", lambda c, _: c.customer_name),
    ("customer_contact", lambda c, _: c.customer_contact),
    ("created_at", lambda c, _: _iso(c.created_at)),
    ("first_responded_at", lambda c, _: _iso(c.first_responded_at)),
    ("resolved_at", lambda c, _: _iso(c.resolved_at)),
    ("minutes_to_first_response", lambda c, _: _minutes(c.created_at, c.first_responded_at)),
    ("minutes_to_resolution", lambda c, _: _minutes(c.created_at, c.resolved_at)),
    ("description", lambda c, _: c.description),
    ("resolution", lambda c, _: c.resolution),
    # Service levels, as of the export (see bot/sla.py): met, on track, due soon, breached.
    ("first_response_due_at", lambda _, sla: _iso(sla.first_response.due_at)),
    ("first_response_sla", lambda _, sla: sla.first_response.state.value),
    ("resolution_due_at", lambda _, sla: _iso(sla.resolution.due_at)),
    ("resolution_sla", lambda _, sla: sla.resolution.state.value),
    # Satisfaction: the customer's latest 0-10 answer, and the follow-up after resolving.
    ("satisfaction_score", lambda c, _: c.satisfaction_score),
    ("satisfaction_comment", lambda c, _: c.satisfaction_comment),
    ("satisfaction_at", lambda c, _: _iso(c.satisfaction_at)),
    ("followed_up_at", lambda c, _: _iso(c.followed_up_at)),
]


def complaint_rows(
    session: Session,
    *,
    now: datetime,
    targets: dict[str, Target],
    due_soon: float,
    since: datetime | None = None,
    until: datetime | None = None,
) -> Iterator[dict]:
    statement = select(Complaint).order_by(col(Complaint.id)).execution_options(yield_per=1000)
    if since is not None:
        statement = statement.where(Complaint.created_at >= since)
    if until is not None:
        statement = statement.where(Complaint.created_at < until)
    for complaint in session.exec(statement):
        sla = sla_status(complaint, now=now, targets=targets, due_soon=due_soon)
        yield {name: value(complaint, sla) for name, value in COLUMNS}


def settings_rows(session: Session, settings: Settings, *, now: datetime, since: datetime | None = None,
                  until: datetime | None = None) -> Iterator[dict]:
    """`complaint_rows` with the SLA targets from settings."""
    return complaint_rows(session, now=now, targets=settings.targets, due_soon=settings.due_soon, since=since, until=until)


# A spreadsheet runs a cell that starts with one of these as a formula (OWASP, "CSV
# injection"): a customer's `=HYPERLINK(...)` must arrive as text.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value: object) -> object:
    """Text that a spreadsheet would run as a formula, prefixed with `'` so it shows as typed."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def write_csv(rows: Iterator[dict], out: TextIO) -> int:
    """Write the header and every row, every cell spreadsheet-safe; return how many rows."""
    writer = csv.DictWriter(out, fieldnames=[name for name, _ in COLUMNS], lineterminator="\n")
    writer.writeheader()
    written = 0
    for row in rows:
        writer.writerow({name: spreadsheet_safe(value) for name, value in row.items()})
        written += 1
    return written


def write_json_lines(rows: Iterator[dict], out: TextIO) -> None:
    for row in rows:
        out.write(json.dumps(row, ensure_ascii=False) + "\n")
