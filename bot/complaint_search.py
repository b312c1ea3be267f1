"""Search and filter past complaints through the database's own full-text index.

Words are looked up in the index migration 0008 keeps (FTS5 on SQLite, a tsvector with
a GIN index on PostgreSQL; models/search_index.py), so a search reads the matching
complaints, never every complaint. Every word must match (in the description, a note
or response, the resolution, or the customer's name or contact). A word that matches
nothing is replaced by the indexed words one slip away from it (ranked by rapidfuzz),
so typos still find things.

Filters (status, owner, category, severity, the day and month logged) are tokens in
the same index, so words and filters are intersected there. Best first: BM25 without
IDF on SQLite (see bot/complaint_search_index.py), ts_rank on PostgreSQL; ties newest
first. Ranking is
bounded: the newest `RESULT_LIMIT` matches are ranked and paged; a search matching
more says so (`total_is_lower_bound`) and can be narrowed with more words or filters.
Without words, filters alone list complaints newest first, every page reachable.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

from rapidfuzz import fuzz, process
from sqlalchemy import func
from sqlmodel import Session, col, select

from bot.complaint_search_index import index_for, word_pattern
from bot.complaint_search_query import SearchQuery, parse_search
from bot.errors import InvalidInput
from models.complaints import Complaint, ComplaintEvent
from models.search_index import facet

__all__ = ["SearchMatch", "SearchQuery", "SearchResults", "parse_search", "search_complaints"]

RESULT_LIMIT = 500
MAX_PAGE_SIZE = 50
SNIPPET_LENGTH = 140
# Of the indexed words one slip away, the closest (rapidfuzz ratio) and any nearly as close.
CORRECTION_SPREAD = 5
MAX_CORRECTIONS = 3


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
        ids, total, capped, has_more = _by_date(session, query, offset, page_size)
        return _results(session, query, page, page_size, ids, total, capped, has_more, terms=())
    index = index_for(session)
    groups, corrections, unmatched = _correct(index, query.words)
    facets = _facet_groups(session, query, now)
    dates = {"since": query.since, "until": query.until}
    if unmatched or () in facets:
        ids, total, capped, has_more = [], 0, False, False
    elif groups:
        hits = index.hits(groups, query.customer, facets, **dates, limit=RESULT_LIMIT + 1)
        capped, hits = len(hits) > RESULT_LIMIT, hits[:RESULT_LIMIT]
        hits.sort(key=lambda hit: (-hit[1], -hit[0]))  # best first; newest (by reference) among equals
        ids, total, has_more = [hit[0] for hit in hits[offset:offset + page_size]], len(hits), offset + page_size < len(hits)
    else:
        # Filters alone: newest first, every page reachable, counted up to RESULT_LIMIT.
        hits = index.hits(groups, query.customer, facets, **dates, limit=page_size + 1, offset=offset)
        counted = len(index.hits(groups, query.customer, facets, **dates, limit=RESULT_LIMIT + 1))
        ids, has_more = sorted((hit[0] for hit in hits), reverse=True)[:page_size], len(hits) > page_size
        total, capped = min(counted, RESULT_LIMIT), counted > RESULT_LIMIT
    terms = tuple(term for group in groups for term in group)
    results = _results(session, query, page, page_size, ids, total, capped, has_more, terms=terms)
    return replace(results, corrections=corrections, unmatched=unmatched)


def _facet_columns(query: SearchQuery):
    return (("status", query.status), ("owner", query.owner_id), ("category", query.category),
            ("severity", query.severity))


def _facet_groups(session: Session, query: SearchQuery, now: datetime) -> list[tuple[str, ...]]:
    """The filters as index tokens; the dates as the UTC days and months that cover them."""
    groups = [(facet(name, value),) for name, value in _facet_columns(query) if value is not None]
    if query.since is not None or query.until is not None:
        oldest = query.since or session.exec(select(func.min(Complaint.created_at))).one() or now
        groups.append(tuple(_days_and_months(oldest, query.until or now + timedelta(days=1))))
    return groups


def _days_and_months(start: datetime, end: datetime) -> list[str]:
    """`0day…` and `0month…` tokens covering [start, end) in UTC: whole months as months."""
    day, last = start.astimezone(UTC).date(), (end.astimezone(UTC) - timedelta(microseconds=1)).date()
    tokens = []
    while day <= last:
        next_month = (day.replace(day=28) + timedelta(days=4)).replace(day=1)
        if day.day == 1 and next_month - timedelta(days=1) <= last:
            tokens.append(facet("month", f"{day:%Y%m}"))
            day = next_month
        else:
            tokens.append(facet("day", f"{day:%Y%m%d}"))
            day += timedelta(days=1)
    return tokens


def _date_conditions(query: SearchQuery) -> list:
    conditions = []
    if query.since is not None:
        conditions.append(col(Complaint.created_at) >= query.since)
    if query.until is not None:
        conditions.append(col(Complaint.created_at) < query.until)
    return conditions


def _by_date(session: Session, query: SearchQuery, offset: int, page_size: int) -> tuple[list[int], int, bool, bool]:
    """Dates alone (or nothing): newest first from the complaints' own index on created_at."""
    conditions = _date_conditions(query)
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
ALPHABET = "abcdefghijklmnopqrstuvwxyz"
ACCENTED = {"a": "àáâäãå", "c": "ç", "e": "èéêë", "i": "ìíîï", "n": "ñ", "o": "òóôöõø", "u": "ùúûü", "y": "ýÿ"}


def _fold(word: str) -> str:
    """Accents off, for ranking corrections: `josé` is the closest to `jose`."""
    return "".join(ch for ch in unicodedata.normalize("NFKD", word) if not unicodedata.combining(ch))


def correctable(word: str) -> bool:
    """Words worth correcting; numbers and very short words are searched as typed."""
    return 3 <= len(word) <= 40 and not any(ch.isdigit() for ch in word)


def one_edit_away(word: str) -> set[str]:
    """Every spelling one slip from `word`: a letter dropped, doubled, swapped or wrong
    (an accent too). Most typos are one such slip; each is then looked up in the index,
    which is far cheaper than reading its whole vocabulary (fts5vocab counts every
    complaint under each word it lists: 0.5 s for one letter's words at a million)."""
    splits = [(word[:i], word[i:]) for i in range(len(word) + 1)]
    edits = {a + b[1:] for a, b in splits if b}
    edits |= {a + b[1] + b[0] + b[2:] for a, b in splits if len(b) > 1}
    edits |= {a + c + b[1:] for a, b in splits if b for c in ALPHABET + ACCENTED.get(_fold(b[0]), "")}
    edits |= {a + c + b for a, b in splits for c in ALPHABET}
    return {edit for edit in edits if edit != word and correctable(edit)}


def _correct(index, words: tuple[str, ...]):
    known = index.known([word for word in words if correctable(word)])
    groups, corrections, unmatched = [], {}, []
    for word in words:
        if not correctable(word) or word in known:
            groups.append((word,))
            continue
        found = sorted(index.known(sorted(one_edit_away(word))))
        near = process.extract(_fold(word), [_fold(term) for term in found], scorer=fuzz.ratio, limit=MAX_CORRECTIONS)
        best = near[0][1] if near else 0
        chosen = tuple(found[i] for _, score, i in near if score >= best - CORRECTION_SPREAD)
        if chosen:
            groups.append(chosen)
            corrections[word] = chosen
        else:
            unmatched.append(word)
    return groups, corrections, tuple(unmatched)


# ----- snippets ------------------------------------------------------------------------------
def _snippets(session: Session, complaints: list[Complaint], terms: tuple[str, ...]) -> dict[int, str]:
    """One line from each complaint, around the first searched word it contains."""
    if not terms:
        return {c.id: _cut(c.description, 0) for c in complaints}
    pattern = word_pattern(terms)
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
