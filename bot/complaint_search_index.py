"""The full-text index of complaints on each database (migration 0007, models/search_index.py).

Both answer the same two questions: which of these words does the index hold, and which
complaints (newest first, up to a limit) match these word groups and filter tokens, with
a relevance score where higher is better.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import column, func, literal_column, table, text
from sqlmodel import Session, col, select

from models.complaints import Complaint

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
    def __init__(self, session: Session) -> None:
        self.session = session

    def _newest(self, rowid, columns, match, since: datetime | None, until: datetime | None, limit: int) -> list:
        """Matches by descending complaint id; dates are checked on the complaint itself,
        the day and month tokens having narrowed the match to a superset."""
        statement = select(rowid, *columns).where(match)
        if since is not None or until is not None:
            statement = statement.join(Complaint, col(Complaint.id) == rowid)
            statement = statement.where(*([col(Complaint.created_at) >= since] if since else []),
                                        *([col(Complaint.created_at) < until] if until else []))
        return list(self.session.execute(statement.order_by(rowid.desc()).limit(limit)))


class SqliteIndex(_Index):
    """FTS5 `complaint_search`, rowid = complaint id; columns description, customer,
    resolution, notes, facets."""

    search = table("complaint_search", column("rowid"), column("description"), column("customer"),
                   column("resolution"), column("notes"))

    def known(self, words: Sequence[str]) -> set[str]:
        # One statement for all of them: a few hundred candidate spellings cost one round trip.
        statement = text(
            "SELECT value FROM json_each(:words) WHERE EXISTS "
            "(SELECT 1 FROM complaint_search WHERE complaint_search MATCH '\"' || value || '\"')"
        )
        return {row[0] for row in self.session.execute(statement, {"words": json.dumps(list(words))})}

    def hits(self, groups: Groups, customer: Sequence[str], facets: Groups, *, since, until, limit) -> list[tuple[int, float]]:
        parts = ["(" + " OR ".join(_phrase(t) for t in group) + ")" for group in groups]
        if customer:
            parts.append("customer : (" + " AND ".join(_phrase(t, prefix=True) for t in customer) + ")")
        if facets:
            parts.append("facets : (" + " AND ".join("(" + " OR ".join(map(_phrase, g)) + ")" for g in facets) + ")")
        match = text("complaint_search MATCH :match").bindparams(match=" AND ".join(parts))
        s = self.search.c
        rows = self._newest(s.rowid, [s.description, s.customer, s.resolution, s.notes] if groups else [],
                            match, since, until, limit)
        return _scored(rows, groups) if groups else [(row[0], 0.0) for row in rows]


class PostgresIndex(_Index):
    """tsvector side table `complaint_search` (weights A description, B customer, C
    resolution and notes, D facets) and `complaint_search_term`, the words it holds."""

    search = table("complaint_search", column("complaint_id"), column("document"))

    def known(self, words: Sequence[str]) -> set[str]:
        statement = text("SELECT term FROM complaint_search_term WHERE term = ANY(:words)")
        return {row[0] for row in self.session.execute(statement, {"words": list(words)})}

    def hits(self, groups: Groups, customer: Sequence[str], facets: Groups, *, since, until, limit) -> list[tuple[int, float]]:
        parts = ["(" + " | ".join(_quoted(t) for t in group) + ")" for group in groups]
        parts += [_quoted(t) + (":*B" if len(t) >= 3 else ":B") for t in customer]
        parts += ["(" + " | ".join(_quoted(t) + ":D" for t in group) + ")" for group in facets]
        tsquery = func.to_tsquery(literal_column("'simple'::regconfig"), " & ".join(parts))
        document = self.search.c.document
        # ts_rank's weights run D, C, B, A: filter tokens (nothing), notes and resolution, customer, description.
        weights = literal_column("'{0,%s,%s,%s}'::float4[]" % (WEIGHTS[2], WEIGHTS[1], WEIGHTS[0]))
        score = func.ts_rank(weights, document, tsquery, 1)
        rows = self._newest(self.search.c.complaint_id, [score], document.op("@@")(tsquery), since, until, limit)
        return [(row[0], float(row[1])) for row in rows]


def _scored(rows, groups: Groups) -> list[tuple[int, float]]:
    """BM25 over the matches at hand, without its IDF: every match holds every group, so
    IDF would weigh them all alike, and FTS5's bm25() reads each word's whole list of
    complaints to count them (95 ms for a common word at a million complaints)."""
    patterns = [word_pattern(group) for group in groups]
    lengths = [[len(row[1 + c] or "") for row in rows] for c in range(len(WEIGHTS))]
    averages = [max(1.0, sum(column_) / max(1, len(column_))) for column_ in lengths]
    scored = []
    for number, row in enumerate(rows):
        score = 0.0
        for c, weight in enumerate(WEIGHTS):
            body = row[1 + c] or ""
            norm = K1 * (1 - B + B * lengths[c][number] / averages[c])
            for pattern in patterns:
                tf = len(pattern.findall(body))
                score += weight * tf * (K1 + 1) / (tf + norm) if tf else 0.0
        scored.append((row[0], score))
    return scored


def _phrase(term: str, prefix: bool = False) -> str:
    # Terms are runs of letters and digits, so quoting them leaves no FTS5 syntax to inject.
    return f'"{term}"' + (" *" if prefix and len(term) >= 3 else "")


def _quoted(term: str) -> str:
    return "'" + term + "'"
