"""New complaints in one statement on PostgreSQL, the hot path's SQL.

The complaints, each one's `logged` event, its reporter as a follower and the Slack
requests' keys are one `INSERT … SELECT` per table, chained as data-modifying CTEs of a
single statement: the writer sends BEGIN, it and COMMIT, three round trips where four
INSERTs took six. It stays inside a transaction on purpose: sent alone (autocommit) it
would commit on the server even after the process that sent it was killed while it
waited for a lock, saving complaints nobody was told were logged
(tests/test_ack_after_commit.py); the COMMIT leaves only once the statement is done.

Each complaint's id goes with its row by order: the rows are inserted in the order of
their position and the serial ids are drawn in that order, the assumption SQLAlchemy's
own multi-row `RETURNING` makes on PostgreSQL (insertmanyvalues' sorting by sentinel).
"""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache

from sqlalchemy import ARRAY, Integer, Select, String, bindparam, cast, column, func, insert, literal, select

from models.complaints import Complaint, ComplaintEvent, ComplaintFollower, EventKind
from models.requests import ProcessedRequest

_COMPLAINT = Complaint.__table__
_KEY = ProcessedRequest.__table__
# The columns' Python-side defaults, which an INSERT … SELECT inside a CTE does not fill.
_DEFAULTS = {column.key: column.default.arg for column in _COMPLAINT.columns
             if column.default is not None and column.default.is_scalar}


def insert_complaints(rows: list[dict], keys: list[tuple[int, str, datetime, str]]) -> tuple[Select, dict]:
    """The statement that saves `rows` (from bot.complaints.new_complaint_row, all with
    the same keys) and `keys` (position of the row from 0, request key, when, the
    answer's text before the reference, e.g. "logged as "), and its parameters; it
    returns the new ids in the rows' order."""
    names = tuple(rows[0])
    parameters = {name: [row[name] for row in rows] for name in names}
    parameters.update(key_position=[key[0] + 1 for key in keys], key=[key[1][:255] for key in keys],
                      key_at=[key[2] for key in keys], key_result=[key[3] for key in keys])
    return _statement(names), parameters


@lru_cache(maxsize=8)
def _statement(names: tuple[str, ...]) -> Select:
    """One statement whatever the number of rows: each column's values are one array
    parameter, unnested in step (so SQLAlchemy and psycopg prepare it once)."""
    defaults = {name: value for name, value in _DEFAULTS.items() if name not in names}
    incoming = _unnest({name: _COMPLAINT.c[name].type for name in names})
    saved = (insert(_COMPLAINT)
             .from_select([*names, *defaults], select(
                 *(incoming.c[name] for name in names),
                 *(literal(value, _COMPLAINT.c[name].type) for name, value in defaults.items()),
             ).order_by(incoming.c.position), include_defaults=False)
             .returning(_COMPLAINT.c.id, _COMPLAINT.c.reporter_id, _COMPLAINT.c.owner_id, _COMPLAINT.c.created_at)
             .cte("saved"))
    logged = insert(ComplaintEvent.__table__).from_select(
        ["complaint_id", "kind", "actor_id", "at", "owner_id", "note"],
        select(saved.c.id, literal(EventKind.LOGGED.value), saved.c.reporter_id, saved.c.created_at,
               saved.c.owner_id, literal("")), include_defaults=False)
    following = insert(ComplaintFollower.__table__).from_select(
        ["complaint_id", "user_id", "since"], select(saved.c.id, saved.c.reporter_id, saved.c.created_at),
        include_defaults=False)
    requests = _unnest({"key_position": Integer(), "key": _KEY.c.key.type, "key_at": _KEY.c.at.type,
                        "key_result": _KEY.c.result.type})
    ordered = select(saved.c.id, func.row_number().over(order_by=saved.c.id).label("position")).subquery()
    keyed = insert(_KEY).from_select(["key", "at", "result"], select(
        requests.c.key, requests.c.key_at,
        # Complaint.reference, built where the id is known.
        func.left(requests.c.key_result + "C-" + cast(ordered.c.id, String), 255),
    ).join_from(requests, ordered, requests.c.key_position == ordered.c.position), include_defaults=False)
    statement = select(saved.c.id).order_by(saved.c.id)
    for number, write in enumerate((logged, following, keyed)):
        statement = statement.add_cte(write.cte(f"write_{number}"))
    return statement


def _unnest(columns: dict[str, object]):
    """`unnest(:a, :b, …) WITH ORDINALITY AS (a, b, …, position)`: one row per position of
    the array parameters named after the columns."""
    return func.unnest(*(bindparam(name, type_=ARRAY(type_)) for name, type_ in columns.items())).table_valued(
        *(column(name, type_) for name, type_ in columns.items()), with_ordinality="position").render_derived()
