"""The full-text index of complaints on each database (migration 0008, models/search_index.py).

Both answer the same two questions: which of these words does the index hold, and which
complaints (newest first, up to a limit) match these word groups and filter tokens, with
a relevance score where higher is better.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from sqlalchemy import bindparam, text
from sqlmodel import Session

from models.complaints import Complaint
from models.search_index import facet

CREATED_AT = Complaint.__table__.c.created_at.type

# Relative weights of description, customer, resolution and notes in the ranking.
WEIGHTS = (1.0, 0.75, 0.4, 0.4)
# BM25's term-frequency saturation and length normalisation.
K1, B = 1.2, 0.75

# PostgreSQL searches the newest this many complaints first (PostgresIndex).
FIRST_WINDOW = 20_000
DATE_TOKENS = (facet("day", ""), facet("month", ""))

Groups = Sequence[tuple[str, ...]]  # every group must match, by any of its words


def index_for(session: Session) -> SqliteIndex | PostgresIndex:
    return SqliteIndex(session) if session.get_bind().dialect.name == "sqlite" else PostgresIndex(session)


def mid_day(moment: datetime) -> bool:
    return moment.astimezone(UTC).timetz() != datetime.min.replace(tzinfo=UTC).timetz()


def word_pattern(terms: Sequence[str]) -> re.Pattern:
    """Any of these words, whole, in text as it was written."""
    return re.compile(r"(?<![^\W_])(?:" + "|".join(map(re.escape, terms)) + r")(?![^\W_])", re.IGNORECASE)


class _Index:
    # Written as SQL text: building these as expression trees cost more CPU than running them.
    newest_sql = ""

    def __init__(self, session: Session) -> None:
        self.session = session

    def _hits(self, columns: str, match_params: dict, *, since, until, limit: int, offset: int,
              extra: dict, ids: str = "") -> list[tuple[int, float]]:
        """Matches by descending complaint id. The day and month tokens narrow a match to
        whole UTC days; a date that starts mid-day in UTC (another zone's midnight) is
        checked on the complaint itself as well."""
        dated = {name: value for name, value in (("since", since), ("until", until))
                 if value is not None and mid_day(value)}
        join, where, times = self._own_times(dated) if dated else ("", "", {})
        statement = text(self.newest_sql.format(columns=columns, join=join, where=where + ids))
        statement = statement.bindparams(*(bindparam(name, type_=CREATED_AT) for name in dated))
        params = {**match_params, **extra, **dated, **times, "limit": limit, "offset": offset}
        return [(row[0], float(row[1])) for row in self.session.execute(statement, params).all()]

    def _own_times(self, dated: dict) -> tuple[str, str, dict]:
        """SQL joined and added to the match that checks the complaints' own times."""
        conditions = _time_conditions(dated)
        return f" JOIN complaint ON complaint.id = {self.rowid}{conditions}", "", {}


def _time_conditions(dated: dict) -> str:
    return "".join((" AND complaint.created_at >= :since" if "since" in dated else "",
                    " AND complaint.created_at < :until" if "until" in dated else ""))


class SqliteIndex(_Index):
    """FTS5 `complaint_search`, rowid = complaint id; columns description, customer,
    resolution, notes, facets."""

    rowid = "complaint_search.rowid"
    newest_sql = (
        "SELECT id, {columns} FROM (SELECT complaint_search.rowid AS id, complaint_search.description AS description, "
        "complaint_search.customer AS customer, complaint_search.resolution AS resolution, complaint_search.notes AS notes "
        "FROM complaint_search{join} WHERE complaint_search MATCH :match{where} "
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
    resolution and notes, D facets) and `complaint_search_term`, the words it holds.

    A GIN index returns its matches in no order, so "the newest 500" of a common word
    means fetching, rechecking and sorting every match (15,000 for a common word within
    a month). So for words, alone or between dates, the newest FIRST_WINDOW complaint ids (of those logged within the
    dates, if any) are searched first; if they hold too few matches, a second window
    sized from how densely they came (twice what should be needed, at least four times
    the first); only then everything older. A window with no match at all means the
    matches are rare, so the rest is read at once. The planner takes a window from the
    primary key (a BitmapAnd with the GIN index, or a backward scan while matches are
    dense), so only the matches in it are fetched.
    """

    rowid = "complaint_search.complaint_id"
    # Ranked outside the subquery: ts_rank over every match before the LIMIT cost more
    # than finding them (15,000 matches of a word within a month: 570 ms, 130 ms without).
    newest_sql = (
        "SELECT newest.complaint_id, {columns} FROM (SELECT complaint_search.complaint_id, document "
        "FROM complaint_search{join} WHERE document @@ to_tsquery('simple'::regconfig, :indexed){where} "
        "ORDER BY complaint_search.complaint_id DESC LIMIT :limit OFFSET :offset) AS newest, "
        "to_tsquery('simple'::regconfig, :match) AS query"
    )
    # ts_rank's weights run D, C, B, A: filter tokens (nothing), notes and resolution, customer, description.
    rank = "ts_rank('{0,%s,%s,%s}'::float4[], newest.document, query, 1)" % (WEIGHTS[2], WEIGHTS[1], WEIGHTS[0])
    window_sql = " AND complaint_search.complaint_id > :low AND complaint_search.complaint_id <= :top"
    rest_sql = " AND complaint_search.complaint_id <= :top"
    first_window = FIRST_WINDOW

    def known(self, words: Sequence[str]) -> set[str]:
        statement = text("SELECT term FROM complaint_search_term WHERE term = ANY(:words)")
        return {row[0] for row in self.session.execute(statement, {"words": list(words)})}

    def hits(self, groups: Groups, customer: Sequence[str], facets: Groups, *, since, until, limit,
             offset: int = 0) -> list[tuple[int, float]]:
        parts = ["(" + " | ".join(_quoted(t) for t in group) + ")" for group in groups]
        parts += [_quoted(t) + (":*B" if len(t) >= 3 else ":B") for t in customer]
        days = [group for group in facets if group[0].startswith(DATE_TOKENS)]
        day_parts = ["(" + " | ".join(_quoted(t) + ":D" for t in group) + ")" for group in days]
        facet_parts = ["(" + " | ".join(_quoted(t) + ":D" for t in group) + ")" for group in facets if group not in days]
        columns = self.rank if groups else "0.0"
        match = {"match": " & ".join(parts + facet_parts + day_parts)}  # also what ts_rank ranks by
        if offset or customer or len(days) < len(facets):
            # One query for a page past the first of filters alone, and for a customer or a
            # filter: reading a filter token (`0statusresolved` holds 95% of complaints) or a
            # customer's prefix from the GIN index cost more than the windows saved, as it is
            # read again for each window (measured on the benchmark's mix at 1,000,000).
            return self._hits(columns, {**match, "indexed": match["match"]}, since=since, until=until,
                              limit=limit, offset=offset, extra={})
        lowest, newest = self._id_bounds(since, until)
        if newest is None:
            return []
        if lowest and day_parts:
            # Between both dates, the window's ids already narrow a match to about the days
            # logged; the day tokens are checked on each match (ts_match_vq is @@ that the
            # planner does not give the GIN index: 31 days ORed there cost 20 ms for any word).
            match["indexed"] = " & ".join(parts + facet_parts)
            days_sql = " AND ts_match_vq(document, to_tsquery('simple'::regconfig, :days))"
            match["days"] = " & ".join(day_parts)
        else:
            match["indexed"], days_sql = match["match"], ""
        found: list[tuple[int, float]] = []
        top, low = newest, newest - min(self.first_window, (newest - lowest) // 4)
        for _ in range(2):  # the first window, then one sized from how many it held
            if low <= lowest:
                break
            found += self._hits(columns, match, since=since, until=until, limit=limit - len(found), offset=0,
                                extra={"top": top, "low": low}, ids=days_sql + self.window_sql)
            if len(found) >= limit:
                return found
            covered = newest - low
            wanted = (limit - len(found)) * covered / len(found) * 2 if found else 0
            top, low = low, (int(low - max(wanted, 4 * covered)) if found else lowest)
        rest = {"top": top, "low": lowest} if lowest else {"top": top}
        return found + self._hits(columns, match, since=since, until=until, limit=limit - len(found), offset=0,
                                  extra=rest, ids=days_sql + (self.window_sql if lowest else self.rest_sql))

    def _id_bounds(self, since, until) -> tuple[int, int | None]:
        """Every complaint logged within the dates has an id in this range (None: none was logged)."""
        if until is None or since is None:
            newest = self.session.execute(text("SELECT max(complaint_id) FROM complaint_search")).scalar()
            return 0, newest
        # From the dates' own index (complaint_search_logged: created_at, id), not the
        # primary key: as a plain max(id) the planner reads ids downwards from the newest
        # until one is in range (390 ms for a month a year ago).
        statement = text(
            "SELECT min(logged.id), max(logged.id) FROM (SELECT id FROM complaint WHERE created_at >= :since "
            "AND created_at < :until OFFSET 0) AS logged"
        ).bindparams(bindparam("since", type_=CREATED_AT), bindparam("until", type_=CREATED_AT))
        lowest, newest = self.session.execute(statement, {"since": since, "until": until}).one()
        return (0 if lowest is None else lowest - 1), newest

    def _own_times(self, dated: dict) -> tuple[str, str, dict]:
        """Only a match on a first or last day that starts mid-day is looked up, rather
        than joining every complaint logged within the dates."""
        last_moments = {"since": timedelta(0), "until": timedelta(microseconds=1)}  # `until` is exclusive
        edges = [facet("day", f"{moment.astimezone(UTC) - last_moments[name]:%Y%m%d}") for name, moment in dated.items()]
        # A scalar subquery, one lookup per such match: as EXISTS, the planner may hash
        # every complaint logged within the dates instead (41,000 for a month).
        checks = _time_conditions(dated).removeprefix(" AND ")
        where = (" AND (NOT document @@ to_tsquery('simple'::regconfig, :edges) OR (SELECT " + checks
                 + " FROM complaint WHERE complaint.id = complaint_search.complaint_id))")
        return "", where, {"edges": " | ".join(_quoted(edge) + ":D" for edge in edges)}


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
