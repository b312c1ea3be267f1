"""The complaint full-text index: database objects kept beside the SQLModel tables.

Migration 0008 creates them and triggers on `complaint` and `complaint_event` keep them
current, so every writer (the app, imports, benchmarks) is covered. They are not
SQLModel tables: an FTS5 virtual table (with its shadow tables) on SQLite, and a
`tsvector` side table on PostgreSQL. Alembic's comparison skips them by name.

SQLite: `complaint_search` (FTS5, rowid = complaint id; columns description, customer,
resolution, notes, facets).
PostgreSQL: `complaint_search` (complaint_id, document tsvector with weights A
description, B customer, C resolution and notes, D facets; GIN index) and
`complaint_search_term` (every word without digits of three or more characters ever
indexed, for typo correction; on SQLite the FTS5 index itself answers), and
`complaint_search_logged` on complaint (created_at, id): the ids logged within dates.
"""

from __future__ import annotations

import re

SEARCH_TABLE = "complaint_search"


def is_model_object(name: str | None, type_: str, parent_names: dict) -> bool:
    """Alembic's `include_name` hook: leave the search index's tables out of comparisons.

    The prefix also covers FTS5's shadow tables (complaint_search_data, _idx, ...) and
    PostgreSQL's `complaint_search_logged` on complaint (migration 0011).
    """
    return not (type_ in ("table", "index") and name is not None and name.startswith(SEARCH_TABLE))


def facet(name: str, value: str) -> str:
    """The one token the index holds for a filter value, e.g. `0statusopen`, `0day20261126`.

    Migration 0008 builds the same from the complaint's columns. The leading digit keeps
    these tokens out of typo correction (only letter words are corrected); they sit in
    their own FTS5 column, or at weight D on PostgreSQL, so no typed word can meet them.
    """
    return "0" + name + re.sub(r"[\W_]", "", value).lower()
