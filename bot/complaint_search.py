"""Search and filter past complaints through the database's own full-text index.

Words are looked up in the index migration 0007 keeps (FTS5 on SQLite, a tsvector with
a GIN index on PostgreSQL; models/search_index.py), so a search reads the matching
complaints, never every complaint. Every word must match (in the description, a note
or response, the resolution, or the customer's name or contact). A word that matches
nothing is replaced by the nearest indexed words (rapidfuzz over the index's own
vocabulary), so typos still find things.

Filters (status, owner, category, severity) are tokens in the same index, so words and
filters are intersected there. Best first: bm25 on SQLite, ts_rank on PostgreSQL, ties
newest first. Ranking is
bounded: the newest `RESULT_LIMIT` matches are ranked and paged; a search matching
more says so (`total_is_lower_bound`) and can be narrowed with more words or filters.
Without words, filters alone list complaints newest first, every page reachable.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field, replace
from datetime import datetime

from rapidfuzz import fuzz, process
from sqlalchemy import column, func, literal_column, table, text
from sqlmodel import Session, col, select

from bot.complaint_search_query import SearchQuery, parse_search
from bot.errors import InvalidInput
from models.complaints import Complaint, ComplaintEvent
from models.search_index import facet

__all__ = ["SearchMatch", "SearchQuery", "SearchResults", "parse_search", "search_complaints"]

RESULT_LIMIT = 1000
MAX_PAGE_SIZE = 50
SNIPPET_LENGTH = 140
# A correction must be this close (rapidfuzz ratio, 0-100); near-ties are all searched.
CORRECTION_CUTOFF = 75
CORRECTION_SPREAD = 5
MAX_CORRECTIONS = 3
# Relative weights of description, customer, resolution and notes in the ranking.
WEIGHTS = (1.0, 0.75, 0.4, 0.4)


@dataclass(frozen=True)
class SearchMatch:
    id: int
    status: str
    owner_id: str
    severity: str
    category: str
    customer_name: str
    created_at: datetime
    resolved_at: datetime | None
    snippet: str

    @property
    def reference(self) -> str:
        return f"C-{self.id}"


@dataclass(frozen=True)
class SearchResults:
    query: SearchQuery
    page: int
    page_size: int
    matches: list[SearchMatch]
    # Exact unless `total_is_lower_bound`: then more than RESULT_LIMIT matched.
    total: int
    total_is_lower_bound: bool
    has_more: bool
    # A typed word that matched nothing -> the indexed words searched instead.
    corrections: dict[str, tuple[str, ...]] = field(default_factory=dict)
    # Typed words that matched nothing and had no near word: nothing can match.
    unmatched: tuple[str, ...] = ()


def search_complaints(
    session: Session, *, query: SearchQuery, page: int, page_size: int, now: datetime
) -> SearchResults:
    """One page of complaints matching `query`, best first (newest first without words)."""
    if page < 1:
        raise InvalidInput("Pages start at 1.")
    if not 1 <= page_size <= MAX_PAGE_SIZE:
        raise InvalidInput(f"A page holds 1 to {MAX_PAGE_SIZE} complaints.")
    if query.since is not None and query.since > now:
        raise InvalidInput(f"`since:{query.since.date().isoformat()}` is in the future: nothing was logged yet.")
    offset = (page - 1) * page_size
    if not query.uses_index:
        ids, total, capped, has_more = _filtered(session, query, offset, page_size)
        return _results(session, query, page, page_size, ids, total, capped, has_more, terms=())
    index = _index_for(session)
    groups, corrections, unmatched = _correct(index, query.words)
    hits = [] if unmatched else index.hits(groups, query, RESULT_LIMIT + 1)
    capped = len(hits) > RESULT_LIMIT
    hits = hits[:RESULT_LIMIT]
    # Newest first (by reference) among equals, and without words all are equal.
    hits.sort(key=lambda hit: (-hit[1], -hit[0]) if groups else -hit[0])
    ids = [hit[0] for hit in hits[offset:offset + page_size]]
    terms = tuple(term for group in groups for term in group)
    results = _results(session, query, page, page_size, ids, len(hits), capped, offset + page_size < len(hits),
                       terms=terms)
    return replace(results, corrections=corrections, unmatched=unmatched)


def _conditions(query: SearchQuery) -> list:
    conditions = [col(column_) == value for _, column_, value in _facet_columns(query) if value is not None]
    return conditions + _date_conditions(query)


def _facet_columns(query: SearchQuery):
    return (("status", Complaint.status, query.status), ("owner", Complaint.owner_id, query.owner_id),
            ("category", Complaint.category, query.category), ("severity", Complaint.severity, query.severity))


def _facets(query: SearchQuery) -> list[str]:
    return [facet(name, value) for name, _, value in _facet_columns(query) if value is not None]


def _date_conditions(query: SearchQuery) -> list:
    conditions = []
    if query.since is not None:
        conditions.append(col(Complaint.created_at) >= query.since)
    if query.until is not None:
        conditions.append(col(Complaint.created_at) < query.until)
    return conditions


def _filtered(session: Session, query: SearchQuery, offset: int, page_size: int) -> tuple[list[int], int, bool, bool]:
    """Filters alone: newest first, counted up to RESULT_LIMIT."""
    conditions = _conditions(query)
    rows = session.exec(
        select(Complaint.id).where(*conditions)
        .order_by(col(Complaint.created_at).desc(), col(Complaint.id).desc()).offset(offset).limit(page_size + 1)
    ).all()
    first_ones = select(Complaint.id).where(*conditions).limit(RESULT_LIMIT + 1).subquery()
    counted = session.exec(select(func.count()).select_from(first_ones)).one()
    return list(rows[:page_size]), min(counted, RESULT_LIMIT), counted > RESULT_LIMIT, len(rows) > page_size


def _results(session, query, page, page_size, ids, total, capped, has_more, *, terms) -> SearchResults:
    complaints = {c.id: c for c in session.exec(select(Complaint).where(col(Complaint.id).in_(ids)))} if ids else {}
    snippets = _snippets(session, [complaints[i] for i in ids], terms)
    matches = [
        SearchMatch(
            id=c.id, status=c.status, owner_id=c.owner_id, severity=c.severity, category=c.category,
            customer_name=c.customer_name, created_at=c.created_at, resolved_at=c.resolved_at, snippet=snippets[c.id],
        )
        for c in (complaints[i] for i in ids)
    ]
    return SearchResults(query, page, page_size, matches, total, capped, has_more)


# ----- typo correction ---------------------------------------------------------------------
def _fold(word: str) -> str:
    """Accents off, for comparing words only: `jose` is one edit from `josé`, not two."""
    return "".join(ch for ch in unicodedata.normalize("NFKD", word) if not unicodedata.combining(ch))


def correctable(word: str) -> bool:
    """Words worth correcting; numbers and very short words are searched as typed."""
    return 3 <= len(word) <= 40 and not any(ch.isdigit() for ch in word)


def _correct(index, words: tuple[str, ...]):
    groups, corrections, unmatched = [], {}, []
    for word in words:
        if not correctable(word) or index.has_term(word):
            groups.append((word,))
            continue
        candidates = [term for term in index.terms_starting(word[0]) if correctable(term)]
        near = process.extract(_fold(word), [_fold(t) for t in candidates], scorer=fuzz.ratio,
                               score_cutoff=CORRECTION_CUTOFF, limit=MAX_CORRECTIONS)
        best = near[0][1] if near else 0
        chosen = tuple(candidates[i] for _, score, i in near if score >= best - CORRECTION_SPREAD)
        if chosen:
            groups.append(chosen)
            corrections[word] = chosen
        else:
            unmatched.append(word)
    return groups, corrections, tuple(unmatched)


# ----- the two indexes -----------------------------------------------------------------------
def _index_for(session: Session):
    return _SqliteIndex(session) if session.get_bind().dialect.name == "sqlite" else _PostgresIndex(session)


class _Index:
    """Filters meet words inside the index (facet tokens); dates through the complaint rows."""

    vocabulary_sql = ""

    def __init__(self, session: Session) -> None:
        self.session = session

    def terms_starting(self, letter: str) -> list[str]:
        rows = self.session.execute(text(self.vocabulary_sql), {"lo": letter, "hi": chr(ord(letter) + 1)})
        return [row[0] for row in rows]

    def _newest(self, rowid, score, match, query: SearchQuery, limit: int) -> list[tuple[int, float]]:
        statement = select(rowid, score).where(match)
        if query.since is not None or query.until is not None:
            statement = statement.join(Complaint, col(Complaint.id) == rowid).where(*_date_conditions(query))
        return [tuple(row) for row in self.session.execute(statement.order_by(rowid.desc()).limit(limit))]


class _SqliteIndex(_Index):
    """FTS5: `complaint_search` (rowid = complaint id) and its fts5vocab table."""

    search = table("complaint_search", column("rowid"))
    vocabulary_sql = "SELECT term FROM complaint_search_vocabulary WHERE term >= :lo AND term < :hi"

    def has_term(self, word: str) -> bool:
        found = self.session.execute(text("SELECT 1 FROM complaint_search WHERE complaint_search MATCH :m LIMIT 1"),
                                     {"m": _phrase(word)})
        return found.first() is not None

    def hits(self, groups, query: SearchQuery, limit: int) -> list[tuple[int, float]]:
        parts = ["(" + " OR ".join(_phrase(t) for t in group) + ")" for group in groups]
        if query.customer:
            parts.append("customer : (" + " AND ".join(_phrase(t, prefix=True) for t in query.customer) + ")")
        if _facets(query):
            parts.append("facets : (" + " AND ".join(_phrase(t) for t in _facets(query)) + ")")
        # bm25 is lower for better matches; negated so that higher is better on both databases.
        score = -func.bm25(literal_column("complaint_search"), *WEIGHTS, 0.0)
        match = text("complaint_search MATCH :match").bindparams(match=" AND ".join(parts))
        return self._newest(self.search.c.rowid, score, match, query, limit)


class _PostgresIndex(_Index):
    """tsvector side table `complaint_search` and the words it has indexed."""

    search = table("complaint_search", column("complaint_id"), column("document"))
    vocabulary_sql = "SELECT term FROM complaint_search_term WHERE term >= :lo AND term < :hi"

    def has_term(self, word: str) -> bool:
        found = self.session.execute(text("SELECT 1 FROM complaint_search_term WHERE term = :w"), {"w": word})
        return found.first() is not None

    def hits(self, groups, query: SearchQuery, limit: int) -> list[tuple[int, float]]:
        parts = ["(" + " | ".join(_quoted(t) for t in group) + ")" for group in groups]
        # Weight B is the customer's name and contact, D the filter values (see the migration).
        parts += [_quoted(t) + (":*B" if len(t) >= 3 else ":B") for t in query.customer]
        parts += [_quoted(t) + ":D" for t in _facets(query)]
        tsquery = func.to_tsquery(literal_column("'simple'::regconfig"), " & ".join(parts))
        document = self.search.c.document
        # ts_rank's weights run D, C, B, A: filter values (nothing), notes and resolution, customer, description.
        weights = literal_column("'{0,%s,%s,%s}'::float4[]" % (WEIGHTS[2], WEIGHTS[1], WEIGHTS[0]))
        score = func.ts_rank(weights, document, tsquery, 1)
        return self._newest(self.search.c.complaint_id, score, document.op("@@")(tsquery), query, limit)


def _phrase(term: str, prefix: bool = False) -> str:
    # Terms are runs of letters and digits, so quoting them leaves no FTS5 syntax to inject.
    return f'"{term}"' + (" *" if prefix and len(term) >= 3 else "")


def _quoted(term: str) -> str:
    return "'" + term + "'"


# ----- snippets ------------------------------------------------------------------------------
def _snippets(session: Session, complaints: list[Complaint], terms: tuple[str, ...]) -> dict[int, str]:
    """One line from each complaint, around the first searched word it contains."""
    if not terms:
        return {c.id: _cut(c.description, 0) for c in complaints}
    pattern = re.compile(r"(?<![^\W_])(?:" + "|".join(map(re.escape, terms)) + r")(?![^\W_])", re.IGNORECASE)
    snippets, need_notes = {}, []
    for complaint in complaints:
        for body in (complaint.description, complaint.resolution,
                     f"{complaint.customer_name} {complaint.customer_contact}".strip()):
            found = pattern.search(body)
            if found:
                snippets[complaint.id] = _cut(body, found.start())
                break
        else:
            need_notes.append(complaint.id)
    if need_notes:
        notes = session.exec(
            select(ComplaintEvent.complaint_id, ComplaintEvent.note)
            .where(col(ComplaintEvent.complaint_id).in_(need_notes), ComplaintEvent.note != "")
            .order_by(col(ComplaintEvent.at), col(ComplaintEvent.id))
        ).all()
        for complaint_id, note in notes:
            found = pattern.search(note)
            if found and complaint_id not in snippets:
                snippets[complaint_id] = _cut(note, found.start())
    for complaint in complaints:
        snippets.setdefault(complaint.id, _cut(complaint.description, 0))
    return snippets


def _cut(body: str, at: int) -> str:
    start = max(0, at - SNIPPET_LENGTH // 3)
    piece = " ".join(body[start:start + SNIPPET_LENGTH].split())
    if start > 0:
        piece = "…" + piece
    if start + SNIPPET_LENGTH < len(body):
        piece += "…"
    return piece
