"""A digest computed late says what it would have said on time (issue 15, point 1).

Three weeks of history in UTC: W46 (Mon 9 to Sun 15 Nov 2026), W47 (Mon 16 to Sun 22)
and W48 (from Mon 23). The digest for W47 is computed on Wed 25 Nov 12:00, after W48's
events below changed the complaints' rows. Default targets (urgent 1h/8h, high 4h/24h,
normal 8h/72h, low 24h/120h); everything is owned by Alice unless said otherwise.

| C | sev    | logged     | in W46-W47                                      | in W48 (after the week)              |
|---|--------|------------|-------------------------------------------------|--------------------------------------|
| 1 | normal | Tue 10 09  | responded Tue 10 10:00                          | resolved Tue 24 10:00                |
| 2 | high   | Mon 16 09  | responded 10:00, resolved Mon 16 15:00, score 6 | reopened Mon 23 10:00                |
| 3 | urgent | Wed 18 09  | responded 09:30, waiting 10:00, replied Thu 19 10:00 | resolved Mon 23 12:00           |
| 4 | normal | Mon 16 08  | responded 09:00                                 | waiting Mon 23 09:00, replied Tue 24 09:00 |
| 5 | urgent | Sat 21 09  | responded 09:10, waiting 10:00                  | replied Tue 24 10:00                 |
| 6 | low    | Mon 23 09  | —                                               | logged, owned by Carol               |
| 7 | normal | Thu 19 09  | responded Thu 19 18:00                          | reassigned to Bob Mon 23 11:00       |
| 8 | normal | Tue 17 09  | responded 11:00, resolved Wed 18 09:00, score 9 | re-rated 3 on Tue 24                 |
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot import complaint_waiting, complaints
from bot.complaints import ComplaintDraft, Permissions
from bot.config import load_settings
from bot.digest import compute_digest
from bot.weeks import IsoWeek
from handlers.digest_views import digest_blocks
from models.complaints import Severity
from models.db import unit_of_work
from tests.digest_data import OWNER as ALICE
from tests.digest_data import assert_figures_match
from tests.harness import BOB, CAROL

EVERYONE = Permissions(frozenset({ALICE}))
COMPUTED_AT = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)

# Worked out by hand from the table, as the W47 digest stood at Mon 23 00:00.
EXPECTED = {
    "logged": (6, 1),  # C2, C3, C4, C5, C7, C8 / C1
    "resolved": (2, 0),  # C2 (reopened only later) and C8
    "open": (5, 1),  # C1, C3, C4, C5, C7 (not C2, resolved then; not C6, not yet logged) / C1
    # First responses given in W47 (s): C5 600, C3 1800, C2 3600, C4 3600, C8 7200, C7 32400:
    # median (3600 + 3600) / 2; p90 at rank 4.5: 7200 + 0.5 * (32400 - 7200) = 19800.
    "first_response": (6, 3600.0, 19800.0),
    # Resolutions in W47: C2 21600, C8 86400: median 54000, p90 21600 + 0.9 * 64800 = 79920.
    "resolution": (2, 54000.0, 79920.0),
    # First response: C7 (due Thu 19 17:00, came 18:00). Resolution: C3 (due 17:00 Wed,
    # moved by its 24 h wait to Thu 19 17:00), C4 (Thu 19 08:00) and C7 (Sun 22 09:00).
    # C2 met its target (resolved in 6 h) although reopened since; C5 was waiting at the
    # week's end with 7 h left, so not due; C4's wait began after its deadline.
    "breaches": {"first_response": 1, "resolution": 3},
    "oldest_open": ["C-1", "C-4", "C-3", "C-7", "C-5"],
    # C2's 6 and C8's 9 (its 3 came later): one promoter, one detractor, +0.
    "nps": (2, 1, 0, 1, 0.0),
}


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=UTC)


def load_three_weeks(open_session) -> None:
    rows = [
        (Severity.NORMAL, at(10, 9), ALICE), (Severity.HIGH, at(16, 9), ALICE), (Severity.URGENT, at(18, 9), ALICE),
        (Severity.NORMAL, at(16, 8), ALICE), (Severity.URGENT, at(21, 9), ALICE), (Severity.LOW, at(23, 9), CAROL),
        (Severity.NORMAL, at(19, 9), ALICE), (Severity.NORMAL, at(17, 9), ALICE),
    ]
    with unit_of_work(open_session) as session:
        for severity, logged, owner in rows:
            draft = ComplaintDraft(description=f"{severity} complaint", severity=severity, owner_id=owner)
            complaints.log_complaint(session, draft=draft, reporter_id=owner, now=logged)

    def respond(c, moment):
        complaints.record_response(session, complaint_id=c, actor_id=ALICE, note="", now=moment)

    def resolve(c, moment, score=None):
        complaints.resolve(session, complaint_id=c, actor_id=ALICE, resolution="done", permissions=EVERYONE,
                           now=moment, score=score)

    def wait(c, moment):
        complaint_waiting.wait_on_customer(session, complaint_id=c, actor_id=ALICE, note="", permissions=EVERYONE, now=moment)

    def replied(c, moment):
        complaint_waiting.customer_replied(session, complaint_id=c, actor_id=ALICE, note="they wrote back", now=moment)

    steps = [
        # W46 and W47
        lambda: respond(1, at(10, 10)),
        lambda: respond(4, at(16, 9)), lambda: respond(2, at(16, 10)), lambda: resolve(2, at(16, 15), score=6),
        lambda: respond(8, at(17, 11)), lambda: resolve(8, at(18, 9), score=9),
        lambda: respond(3, at(18, 9, 30)), lambda: wait(3, at(18, 10)), lambda: replied(3, at(19, 10)),
        lambda: respond(7, at(19, 18)),
        lambda: respond(5, at(21, 9, 10)), lambda: wait(5, at(21, 10)),
        # W48: what a digest read from the rows alone would get wrong
        lambda: wait(4, at(23, 9)),
        lambda: complaints.reopen(session, complaint_id=2, actor_id=ALICE, permissions=EVERYONE, now=at(23, 10)),
        lambda: complaints.assign(session, complaint_id=7, actor_id=ALICE, new_owner_id=BOB, permissions=EVERYONE,
                                  now=at(23, 11)),
        lambda: resolve(3, at(23, 12)),
        lambda: replied(4, at(24, 9)), lambda: resolve(1, at(24, 10)), lambda: replied(5, at(24, 10)),
        lambda: complaints.rate(session, complaint_id=8, actor_id=ALICE, score=3, comment="", now=at(24, 11)),
    ]
    for step in steps:
        with unit_of_work(open_session) as session:
            step()


@pytest.fixture
def late_digest(open_session):
    load_three_weeks(open_session)
    settings = load_settings(env_file=None, tz="UTC")
    return compute_digest(
        open_session=open_session, settings=settings, people=None, week=IsoWeek.parse("2026-W47"), now=COMPUTED_AT,
        articles=[], shown=lambda report: report.unrecognised,
    )


def test_a_late_digest_matches_the_figures_worked_out_by_hand(late_digest):
    digest = late_digest
    assert digest.as_of == at(23, 0)
    assert_figures_match(digest, EXPECTED)
    assert [(p.week, p.logged, p.resolved) for p in digest.trend[-2:]] == [("2026-W46", 1, 0), ("2026-W47", 6, 2)]


def test_oldest_open_complaints_show_their_owner_and_age_at_the_weeks_end(late_digest):
    owners = {c.reference: c.owner_id for c in late_digest.oldest_open}
    assert owners["C-7"] == ALICE  # given to Bob only in W48
    text = str(digest_blocks(late_digest))
    # C1: Tue 10 09:00 to Mon 23 00:00 is 12 days 15 h; C5: Sat 21 09:00 to Mon 23 00:00 is 39 h.
    assert "*C-1* (normal, #other) open 13 days" in text
    assert "*C-5* (urgent, #other) open 39 h" in text


def test_morale_counts_the_staff_active_in_that_week_not_those_active_since(late_digest):
    # Bob got C7 and Carol C6 only in W48: in W47 only Alice handled complaints.
    report = late_digest.morale.report
    assert (report.active_staff, report.unrecognised) == (1, (ALICE,))
