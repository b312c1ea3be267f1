"""Searching past complaints through the full-text index, on SQLite and PostgreSQL."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from bot import complaints as service
from bot.complaint_writer import ComplaintWriter
from bot.complaint_search import SearchQuery, _days_and_months, one_edit_away, parse_search, search_complaints
from bot.complaints import ComplaintDraft, Permissions
from bot.errors import InvalidInput
from models.complaints import Severity
from models.db import unit_of_work
from tests.harness import ALICE, BOB, CAROL, FakeClock

CATEGORIES = ("billing", "delivery", "other")
OWNER = Permissions()


def log(session, clock, description, *, owner=ALICE, severity=Severity.NORMAL, category="other", customer="", contact=""):
    return service.log_complaint(
        session, draft=ComplaintDraft(description, severity=severity, category=category, owner_id=owner,
                                      customer_name=customer, customer_contact=contact),
        reporter_id=owner, now=clock.advance(minutes=5),
    )


@pytest.fixture
def desk(open_session):
    """Six complaints written through the app's own service, a few minutes apart."""
    clock = FakeClock()
    with unit_of_work(open_session) as session:
        ids = {}
        ids["card"] = log(session, clock, "My card has not arrived after two weeks", category="delivery",
                          customer="Jane Roe", contact="jane.roe@example.com").id
        ids["refund"] = log(session, clock, "Charged twice for order 1182, wants a refund", owner=BOB,
                            severity=Severity.HIGH, category="billing", customer="Omar Haddad").id
        ids["app"] = log(session, clock, "The app logs me out every time I open it", owner=CAROL).id
        ids["atm"] = log(session, clock, "ATM kept the card and the cash", severity=Severity.URGENT,
                         customer="José Núñez", contact="+44 20 7946 0958").id
        ids["fee"] = log(session, clock, "Unexpected fee on a transfer abroad", owner=BOB, category="billing").id
        ids["pin"] = log(session, clock, "Cannot change my PIN", category="other").id
        service.add_note(session, complaint_id=ids["app"], actor_id=CAROL, note="Reinstalling did not help, escalated to mobile team",
                         now=clock.advance(minutes=1))
        service.record_response(session, complaint_id=ids["pin"], actor_id=ALICE, note="Told her about the kiosk",
                                now=clock.advance(minutes=1))
        service.resolve(session, complaint_id=ids["fee"], actor_id=BOB, resolution="Waived the commission as goodwill",
                        permissions=OWNER, now=clock.advance(minutes=1))
    return open_session, clock, ids


def search(open_session, clock, typed: str = "", *, query: SearchQuery | None = None, page=1, page_size=10):
    query = query or parse_search(typed, categories=CATEGORIES)
    with open_session() as session:
        return search_complaints(session, query=query, page=page, page_size=page_size, now=clock())


def found(results) -> list[int]:
    return [match.id for match in results.matches]


@pytest.mark.parametrize("typed, key", [
    ("arrived", "card"),                 # the description
    ("escalated mobile", "app"),         # a note
    ("kiosk", "pin"),                    # a response to the customer
    ("commission goodwill", "fee"),      # the resolution
    ("haddad", "refund"),                # the customer's name
    ("example", "card"),                 # the customer's contact
    ("1182", "refund"),                  # a number in the text
])
def test_words_are_found_wherever_they_were_written(desk, typed, key):
    open_session, clock, ids = desk
    results = search(open_session, clock, typed)
    assert found(results) == [ids[key]]
    assert results.total == 1 and not results.has_more and not results.corrections


def test_a_typo_is_corrected_to_the_nearest_indexed_word(desk):
    open_session, clock, ids = desk
    results = search(open_session, clock, "arived")
    assert found(results) == [ids["card"]]
    assert results.corrections == {"arived": ("arrived",)}
    accented = search(open_session, clock, "jose")
    assert found(accented) == [ids["atm"]] and accented.corrections == {"jose": ("josé",)}


def test_a_word_nothing_is_near_finds_nothing_and_says_which(desk):
    open_session, clock, _ = desk
    results = search(open_session, clock, "card xylophone")
    assert results.matches == [] and results.unmatched == ("xylophone",) and results.total == 0


def test_best_first_then_newest(desk):
    open_session, clock, ids = desk
    with unit_of_work(open_session) as session:
        later = log(session, clock, "card card card card").id
        same = log(session, clock, "ATM kept the card and the cash").id
    ranked = found(search(open_session, clock, "card"))
    assert ranked[0] == later
    # The two identical descriptions score the same: the newer one comes first.
    assert ranked.index(same) == ranked.index(ids["atm"]) - 1
    assert set(ranked) == {ids["card"], ids["atm"], later, same}


def test_snippet_shows_the_matching_words(desk):
    open_session, clock, ids = desk
    (match,) = search(open_session, clock, "escalated").matches
    assert "escalated to mobile team" in match.snippet
    assert match.reference == f"C-{ids['app']}" and match.owner_id == CAROL and match.status == "open"


@pytest.mark.parametrize("typed, keys", [
    ("status:resolved", ["fee"]),
    ("owner:<@UBOB00002|bob>", ["fee", "refund"]),
    ("#billing", ["fee", "refund"]),
    ("!urgent", ["atm"]),
    ("customer:jan", ["card"]),              # a prefix of a name
    ('customer:"omar haddad"', ["refund"]),
    ("customer:7946", ["atm"]),              # part of a phone number
    ("card customer:roe", ["card"]),         # words and a filter together
    ("card !urgent", ["atm"]),
    ("status:waiting", []),
])
def test_each_filter(desk, typed, keys):
    open_session, clock, ids = desk
    assert found(search(open_session, clock, typed)) == [ids[k] for k in keys]


def test_dates_are_whole_days_both_ends_included(desk):
    open_session, clock, ids = desk
    day = clock().date()
    everything = search(open_session, clock, f"since:{day} until:{day}")
    assert len(everything.matches) == 6
    assert search(open_session, clock, f"until:{day - timedelta(days=1)}").matches == []
    # With words, the dates are met inside the index.
    assert set(found(search(open_session, clock, f"card since:{day} until:{day}"))) == {ids["card"], ids["atm"]}
    assert search(open_session, clock, f"card since:{day - timedelta(days=9)} until:{day - timedelta(days=1)}").matches == []
    # Kiritimati's 24 November began at 10:00 UTC on the 23rd, after these were logged:
    # the day's token holds them, and their own times rule them out.
    clock.advance(hours=2)
    kiritimati = parse_search(f"card since:{day + timedelta(days=1)}", categories=CATEGORIES,
                              zone=ZoneInfo("Pacific/Kiritimati"))
    assert search(open_session, clock, query=kiritimati).matches == []
    assert len(search(open_session, clock, query=replace(kiritimati, since=kiritimati.since - timedelta(hours=1))).matches) == 2
    with pytest.raises(InvalidInput, match="in the future"):
        search(open_session, clock, f"since:{day + timedelta(days=1)}")


def test_filters_alone_list_newest_first(desk):
    open_session, clock, ids = desk
    results = search(open_session, clock, query=SearchQuery(status="open"))
    assert found(results) == [ids[k] for k in ("pin", "atm", "app", "refund", "card")]
    assert results.total == 5 and not results.total_is_lower_bound


@pytest.mark.parametrize("typed", ["", "card", "status:open", "customer:eve"])
def test_pages_hold_everything_once(open_session, typed):
    clock = FakeClock()
    with unit_of_work(open_session) as session:
        expected = {log(session, clock, f"card number {n} lost", customer="Eve").id for n in range(23)}
    query = parse_search(typed, categories=CATEGORIES) if typed else SearchQuery()
    pages = [search(open_session, clock, query=query, page=page, page_size=10) for page in (1, 2, 3, 4)]
    seen = [match.id for page in pages for match in page.matches]
    assert sorted(seen) == sorted(expected)
    assert [len(p.matches) for p in pages] == [10, 10, 3, 0]
    assert [p.has_more for p in pages] == [True, True, False, False]
    assert all(p.total == 23 for p in pages)


@pytest.mark.parametrize("typed, message", [
    ("stauts:open", "Did you mean `status:`"),
    ("colour:red", "is not a filter"),
    ("status:closed", "`status:open`, `status:waiting`, `status:resolved`, `status:merged`"),
    ("since:yesterday", "write it like `since:2026-11-30`"),
    ("until:2026-13-01", "is not a date"),
    ("!critical", "!low, !normal, !high, !urgent"),
    ("#refunds", "#billing, #delivery, #other"),
    ("owner:bob", "takes a mention"),
    ("status:", "needs a value"),
    ("since:2026-11-30 until:2026-11-01", "on or before"),
    ("!high !low", "one `severity` only"),
    ("", "What should I look for?"),
    ("!!! ... ---", "What should I look for?"),
    ("x" * 10_000, "10,000 characters"),
    (" ".join(["word"] * 17), "use up to 16"),
])
def test_bad_queries_say_what_exists(typed, message):
    with pytest.raises(InvalidInput) as caught:
        parse_search(typed, categories=CATEGORIES)
    assert message in str(caught.value)


HOSTILE = [
    '"', '""', '"card', "card*", "*", "NEAR(card app)", "NEAR(", "card AND OR NOT app", "AND", "OR OR", "-card", "card -app",
    "col:", ":", "description:card", "'", "''; DROP TABLE complaint; --", "1' OR '1'='1", "card) OR (1=1", "\\",
    "%", "_", "card%", "<!channel>", "<!here|here> <!everyone>", "<@U0123|x> card", "&lt;script&gt;", "^card",
    "{description}: card", "card:*", "a & b | !c", "'a':*B", "😀", "ﬁ", "İstanbul", "\x00", "a" * 400, "\u200bcard",
    "<https://example.com|card>", "<mailto:jane.roe@example.com|jane>", "#", "!", "#1182 card", "owner:<@U1|>",
]


def test_hostile_input_answers_or_says_invalid(desk):
    """Nothing typed makes the database fail: each gives results or a clear InvalidInput."""
    open_session, clock, _ = desk
    answered = 0
    for typed in HOSTILE:
        try:
            results = search(open_session, clock, typed)
        except InvalidInput as exc:
            assert str(exc), typed
            continue
        answered += 1
        assert results.total >= len(results.matches), typed
    assert answered >= len(HOSTILE) // 2  # most are searched, not refused
    with open_session() as session:  # the connection is still healthy
        assert session.execute(text("SELECT count(*) FROM complaint")).scalar() == 6


def test_mention_injection_is_a_word_not_a_ping(desk):
    open_session, clock, _ = desk
    query = parse_search("<!channel> card", categories=CATEGORIES)
    assert query.words == ("channel", "card")


def test_the_query_survives_being_typed_again():
    query = parse_search('Refund TWICE status:open owner:<@UBOB00002|bob> #Billing !HIGH customer:"Jane Roe" '
                         "since:2026-11-01 until:2026-11-30", categories=CATEGORIES)
    assert query.words == ("refund", "twice") and query.category == "billing" and query.severity == "high"
    assert query.since == datetime(2026, 11, 1, tzinfo=UTC) and query.until == datetime(2026, 12, 1, tzinfo=UTC)
    assert parse_search(query.as_text(), categories=CATEGORIES) == query


def test_every_writer_keeps_the_index_current(database_url, open_session):
    """Rows written by plain SQL (an import), edited and deleted, are found as they are now."""
    clock = FakeClock()
    with unit_of_work(open_session) as session:
        complaint = log(session, clock, "printer jammed")
    with open_session() as session:
        session.execute(text("UPDATE complaint SET description = 'scanner jammed' WHERE id = :id"), {"id": complaint.id})
        session.execute(text("INSERT INTO complaint_event (complaint_id, kind, actor_id, at, owner_id, note) "
                             "VALUES (:id, 'noted', 'U1', :at, '', 'replaced the toner')"), {"id": complaint.id, "at": clock()})
        session.commit()
    assert found(search(open_session, clock, "scanner toner")) == [complaint.id]
    assert found(search(open_session, clock, "printer")) == []
    with open_session() as session:
        session.execute(text("DELETE FROM complaint_event WHERE note = 'replaced the toner'"))
        session.commit()
    assert found(search(open_session, clock, "toner")) == []
    with open_session() as session:
        session.execute(text("DELETE FROM complaint_event WHERE complaint_id = :id"), {"id": complaint.id})
        session.execute(text("DELETE FROM complaint WHERE id = :id"), {"id": complaint.id})
        session.commit()
    assert found(search(open_session, clock, "scanner")) == []


def test_the_database_never_errors_on_a_query_object(desk):
    """Queries built in code (list resolved, paging) go through the same safe path."""
    open_session, clock, _ = desk
    odd = SearchQuery(words=("and", "near", "or"), customer=("not",), status="resolved")
    try:
        results = search(open_session, clock, query=odd)
    except DBAPIError as exc:  # pragma: no cover - the failure this test is here to catch
        pytest.fail(f"the database rejected a query: {exc}")
    assert results.matches == []


def test_dates_become_the_days_and_months_that_cover_them():
    tokens = _days_and_months(datetime(2026, 1, 30, 23, tzinfo=UTC), datetime(2026, 3, 2, tzinfo=UTC))
    assert tokens == ["0day20260130", "0day20260131", "0month202602", "0day20260301"]
    # Tokyo's December runs from 15:00 UTC on 30 November to 15:00 UTC on 31 December.
    tokyo = parse_search("since:2026-12-01 until:2026-12-31", categories=CATEGORIES, zone=ZoneInfo("Asia/Tokyo"))
    assert _days_and_months(tokyo.since, tokyo.until) == ["0day20261130", "0month202612"]


def test_one_slip_away():
    edits = one_edit_away("card")
    assert {"crad", "cad", "cardd", "cart", "carde"} <= edits and "card" not in edits
    assert "josé" in one_edit_away("jose")


def test_complaints_committed_together_are_each_found_by_their_own_words(engine, open_session):
    # The group commit saves a burst in one statement (on PostgreSQL, indexed per statement).
    writer = ComplaintWriter(engine, open_session)
    clock = FakeClock()
    words = ["parcel", "voucher", "invoice", "scooter", "blender", "mattress"]
    with ThreadPoolExecutor(max_workers=len(words)) as pool:
        saved = dict(zip(words, pool.map(lambda word: writer.log(
            service.new_complaint_row(draft=ComplaintDraft(f"the {word} was wrong"), reporter_id=ALICE, now=clock()),
            key=f"command:{word}", now=clock()), words)))
    for word, complaint in saved.items():
        assert found(search(open_session, clock, word)) == [complaint.id]
    typo = search(open_session, clock, "matress")
    assert found(typo) == [saved["mattress"].id] and typo.corrections == {"matress": ("mattress",)}
