"""Figures for many periods in one query: GROUP BY the period a time falls in.

The periods are given by their bounds (`bounds[0] <= t < bounds[1]` is period 0, and
so on), worked out in Python in TZ, so days and weeks across a daylight-saving change
stay right; in SQL the period is a CASE over the bounds, which both databases compare
as they compare the column itself (through its index, with the whole range in WHERE).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, Integer, case, cast, func, literal, literal_column, or_
from sqlmodel import Session, select


# GROUP BY the output column: PostgreSQL does not see two renderings of a CASE with bound
# parameters as the same expression.
BY_PERIOD = literal_column("p")


def period_of(column, bounds: Sequence[datetime], shift: timedelta = timedelta(0)) -> ColumnElement[int]:
    """The index of the period `column + shift` falls in (compared as `column < bound - shift`,
    so the column's index still serves); meaningful only within `in_periods`."""
    inner = [(column < bound - shift, literal(n)) for n, bound in enumerate(bounds[1:-1])]
    return case(*inner, else_=literal(len(bounds) - 2)) if inner else literal(0)


def in_periods(column, bounds: Sequence[datetime], shift: timedelta = timedelta(0)) -> ColumnElement[bool]:
    """`column + shift` within the periods: from the first bound up to the last."""
    return (column >= bounds[0] - shift) & (column < bounds[-1] - shift)


def clipped(bounds: Sequence[datetime], until: datetime) -> list[datetime]:
    """`bounds` up to `until`: the periods after it left out, the one it falls in ending
    there (a single bound, no period, when it comes before them all)."""
    if until <= bounds[0]:
        return [bounds[0]]
    return [bound for bound in bounds[:-1] if bound < until] + [min(until, bounds[-1])]


def interpolated(values: Sequence[float], rank: float) -> float:
    """The continuous percentile at `rank` (0-based) from the two sorted values around it,
    `values[0]` at floor(rank), as percentile_cont and digest.percentiles compute it."""
    low = values[0]
    upper = values[1] if len(values) > 1 else low
    return float(low + (upper - low) * (rank - int(rank)))


def grouped_percentiles(session: Session, value, period, *conditions,
                        quantiles: Sequence[float] = (0.5,)) -> dict[int, tuple[int, list[float]]]:
    """Per period with rows: their count and the continuous percentiles of `value`, in one
    query (`period`: a `period_of` expression; `conditions` bound the rows to the periods).

    PostgreSQL's percentile_cont per group; on SQLite each period's rows are numbered in
    order of `value` (window functions) and only the two around each rank come back."""
    if session.get_bind().dialect.name == "postgresql":
        columns = [func.percentile_cont(q).within_group(value) for q in quantiles]
        rows = session.exec(select(period.label("p"), func.count(), *columns).where(*conditions).group_by(BY_PERIOD))
        return {row[0]: (row[1], [float(v) for v in row[2:]]) for row in rows}
    numbered = select(
        period.label("period"), value.label("v"),
        (func.row_number().over(partition_by=period, order_by=value) - 1).label("rn"),
        func.count().over(partition_by=period).label("n"),
    ).where(*conditions).subquery()
    floors = [cast(q * (numbered.c.n - 1), Integer) for q in quantiles]
    wanted = or_(*(numbered.c.rn.in_([low, low + 1]) for low in floors))
    around: dict[int, tuple[int, dict[int, float]]] = {}
    for period_index, v, rn, n in session.exec(select(numbered.c.period, numbered.c.v, numbered.c.rn, numbered.c.n).where(wanted)):
        around.setdefault(period_index, (n, {}))[1][rn] = v
    found = {}
    for period_index, (n, values) in around.items():
        ranks = [q * (n - 1) for q in quantiles]
        found[period_index] = (n, [interpolated([values[k] for k in (int(r), int(r) + 1) if k in values], r) for r in ranks])
    return found
