"""A digest computed late says what it would have said on time (issue 15, point 1).

The history is tests/three_weeks.py's: the digest for W47 is computed on Wed 25 Nov,
during W48, and checked against figures worked out by hand from its table.
"""

from __future__ import annotations

import pytest

from bot.config import load_settings
from bot.digest import compute_digest
from bot.weeks import IsoWeek
from handlers.digest_views import digest_blocks
from tests.digest_data import assert_figures_match
from tests.three_weeks import ALICE, COMPUTED_AT, at, load_three_weeks

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
