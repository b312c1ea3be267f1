"""The full-text index of complaints on each database (migration 0007, models/search_index.py).

Both answer the same two questions: which of these words does the index hold, and which
complaints (newest first, up to a limit) match these word groups and filter tokens, with
a relevance score where higher is better.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence

from sqlalchemy import bindparam, text
from sqlmodel import Session

from models.complaints import Complaint

CREATED_AT = Complaint.__table__.c.created_at.type

# Relative weights of description, customer, resolution and notes in the ranking.
WEIGHTS = (1.0, 0.75, 0.4, 0.4)
# BM25's term-frequency saturation and length normalisation.
K1, B = 1.2, 0.75

Groups = Sequence[tuple[str, ...]]  # every group must match, by any of its words


def index_for(session: Session) -> SqliteIndex | PostgresIndex:
    return SqliteIndex(session) if session.get_bind().dialect.name == "sqlite" else PostgresIndex(session)


def word_pattern(terms: Sequence[str]) -> re.Pattern:
    """Any of these words, whole, in text as it was written."""
    return re.compile(r"(?<![^\W_])(?:" + "|".join(map(re.escape, terms)) + r")(?![^\W_])", re.IGNORECASE)


class _Index:
    # Written as SQL text: building these as expression trees cost more CPU than running them.
    newest_sql = ""

    def __init__(self, session: Session) -> None:
        self.session = session

    def _hits(self, columns: str, match_params: dict, *, since, until, limit: int, offset: int,
              extra: dict) -> list[tuple[int, float]]:
        """Matches by descending complaint id; dates are checked on the complaint itself,
        the day and month tokens having narrowed the match to a superset."""
        dates = "".join((" AND complaint.created_at >= :since" if since else "",
                         " AND complaint.created_at < :until" if until else ""))
        join = f" JOIN complaint ON complaint.id = {self.rowid}{dates}" if dates else ""
        statement = text(self.newest_sql.format(columns=columns, join=join))
        dated = {name: value for name, value in (("since", since), ("until", until)) if value is not None}
        statement = statement.bindparams(*(bindparam(name, type_=CREATED_AT) for name in dated))
        params = {**match_params, **extra, **dated, "limit": limit, "offset": offset}
        return [(row[0], float(row[1])) for row in self.session.execute(statement, params).all()]


class SqliteIndex(_Index):
    """FTS5 `complaint_search`, rowid = complaint id; columns description, customer,
    resolution, notes, facets."""

    rowid = "complaint_search.rowid"
    newest_sql = (
        "SELECT id, {columns} FROM (SELECT complaint_search.rowid AS id, complaint_search.description AS description, "
        "complaint_search.customer AS customer, complaint_search.resolution AS resolution, complaint_search.notes AS notes "
        "FROM complaint_search{join} WHERE complaint_search MATCH :match "
        "ORDER BY complaint_search.rowid DESC LIMIT :limit OFFSET :offset)"
    )

    def known(self, words: Sequence[str]) -> set[str]:
        # One statement for all of them: a few hundred candidate spellings cost one round trip.
        statement = text(
            "SELECT value FROM json_each(:words) WHERE EXISTS "
            "(SELECT 1 FROM complaint_search WHERE complaint_search MATCH '\"' || value || '\"')"
        )
        return {row[0] for row in self.session.execute(statement, {"words": json.dumps(list(words))})}

    def hits(self, groups: Groups, customer: Sequence[str], facets: Groups, *, since, until, limit,
             offset: int = 0) -> list[tuple[int, float]]:
        parts = ["(" + " OR ".join(_phrase(t) for t in group) + ")" for group in groups]
        if customer:
            parts.append("customer : (" + " AND ".join(_phrase(t, prefix=True) for t in customer) + ")")
        if facets:
            parts.append("facets : (" + " AND ".join("(" + " OR ".join(map(_phrase, g)) + ")" for g in facets) + ")")
        score, terms = _bm25_without_idf(groups) if groups else ("0.0", {})
        return self._hits(score, {"match": " AND ".join(parts)}, since=since, until=until, limit=limit,
                          offset=offset, extra=terms)


class PostgresIndex(_Index):
    """tsvector side table `complaint_search` (weights A description, B customer, C
    resolution and notes, D facets) and `complaint_search_term`, the words it holds."""

    rowid = "complaint_search.complaint_id"
    # ts_rank's weights run D, C, B, A: filter tokens (nothing), notes and resolution, customer, description.
    newest_sql = (
        "SELECT complaint_search.complaint_id, {columns} FROM complaint_search{join}, "
        "to_tsquery('simple'::regconfig, :match) AS query WHERE document @@ query "
        "ORDER BY complaint_search.complaint_id DESC LIMIT :limit OFFSET :offset"
    )
    rank = "ts_rank('{0,%s,%s,%s}'::float4[], document, query, 1)" % (WEIGHTS[2], WEIGHTS[1], WEIGHTS[0])

    def known(self, words: Sequence[str]) -> set[str]:
        statement = text("SELECT term FROM complaint_search_term WHERE term = ANY(:words)")
        return {row[0] for row in self.session.execute(statement, {"words": list(words)})}

    def hits(self, groups: Groups, customer: Sequence[str], facets: Groups, *, since, until, limit,
             offset: int = 0) -> list[tuple[int, float]]:
        parts = ["(" + " | ".join(_quoted(t) for t in group) + ")" for group in groups]
        parts += [_quoted(t) + (":*B" if len(t) >= 3 else ":B") for t in customer]
        parts += ["(" + " | ".join(_quoted(t) + ":D" for t in group) + ")" for group in facets]
        return self._hits(self.rank if groups else "0.0", {"match": " & ".join(parts)}, since=since, until=until,
                          limit=limit, offset=offset, extra={})


def _bm25_without_idf(groups: Groups) -> tuple[str, dict[str, str]]:
    """BM25 over the matches at hand, as SQL over the columns of SqliteIndex.newest_sql,
    without its IDF: every match holds every group, so IDF would weigh them all alike,
    and FTS5's bm25() reads each word's whole list of complaints to count them (95 ms
    for a common word at a million complaints). A word's frequency is counted as a
    substring of the lower-cased text: close enough to rank by, and all in SQLite's C."""
    terms = {f"t{n}": term for n, term in enumerate(t for group in groups for t in group)}
    names = iter(terms)
    frequencies = [[next(names) for _ in group] for group in groups]
    parts = []
    for weight, body in zip(WEIGHTS, ("description", "customer", "resolution", "notes")):
        norm = f"{K1} * (1 - {B} + {B} * length({body}) / max(1.0, avg(length({body})) OVER ()))"
        for names_in_group in frequencies:
            tf = " + ".join(f"(length({body}) - length(replace(lower({body}), :{name}, ''))) * 1.0 / length(:{name})"
                            for name in names_in_group)
            parts.append(f"{weight} * ({tf}) * {K1 + 1} / (({tf}) + {norm})")
    return " + ".join(parts), terms


def _phrase(term: str, prefix: bool = False) -> str:
    # Terms are runs of letters and digits, so quoting them leaves no FTS5 syntax to inject.
    return f'"{term}"' + (" *" if prefix and len(term) >= 3 else "")


def _quoted(term: str) -> str:
    return "'" + term + "'"
