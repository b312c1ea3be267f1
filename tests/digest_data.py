"""A small, known history for checking the digest's figures by hand (week 2026-W47, UTC).

| C | severity | category | channel | logged      | first response | resolved     | score        |
|---|----------|----------|---------|-------------|----------------|--------------|--------------|
| 1 | urgent   | billing  | email   | Mon 16 10:00| Mon 16 10:30   | Mon 16 16:00 | 10           |
| 2 | high     | billing  | phone   | Tue 17 09:00| Tue 17 15:00   | Wed 18 08:59 | 6            |
| 3 | normal   | delivery | chat    | Wed 18 12:00| Wed 18 14:00   | Fri 20 12:00 | 9            |
| 4 | low      | delivery | email   | Thu 19 08:00| Fri 20 12:00   | —            | —            |
| 5 | urgent   | product  | other   | Sun 22 20:00| —              | —            | —            |
| 6 | normal   | billing  | email   | Tue 10 09:00| Tue 10 10:00   | Mon 16 09:00 | 8 (Mon 16)   |
| 7 | high     | service  | phone   | Wed 11 09:00| Wed 11 10:00   | Wed 11 12:00 | 3 (Wed 11)   |
| 8 | normal   | website  | email   | Mon 02 09:00| —              | —            | —            |
| 9 | urgent   | billing  | chat    | Wed 18 09:00| Wed 18 09:30   | Wed 18 20:00 | —            |

Scores are recorded when the complaint is resolved. Nov 2026: W45 starts Mon 2,
W46 Mon 9, W47 Mon 16, W48 Mon 23.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot import complaints as service
from bot.complaints import ComplaintDraft, Permissions
from models.complaints import ContactChannel, Severity
from models.db import SessionFactory, unit_of_work

ROWS = [
    # severity, category, channel, logged, responded, resolved, score
    ("urgent", "billing", "email", (16, 10, 0), (16, 10, 30), (16, 16, 0), 10),
    ("high", "billing", "phone", (17, 9, 0), (17, 15, 0), (18, 8, 59), 6),
    ("normal", "delivery", "chat", (18, 12, 0), (18, 14, 0), (20, 12, 0), 9),
    ("low", "delivery", "email", (19, 8, 0), (20, 12, 0), None, None),
    ("urgent", "product", "other", (22, 20, 0), None, None, None),
    ("normal", "billing", "email", (10, 9, 0), (10, 10, 0), (16, 9, 0), 8),
    ("high", "service", "phone", (11, 9, 0), (11, 10, 0), (11, 12, 0), 3),
    ("normal", "website", "email", (2, 9, 0), None, None, None),
    ("urgent", "billing", "chat", (18, 9, 0), (18, 9, 30), (18, 20, 0), None),
]
OWNER = "UALICE0001"
# What the digest for 2026-W47 must say, worked out by hand from the table above.
EXPECTED_W47 = {
    "logged": (6, 2),  # C1-5, C9 / C6, C7
    "resolved": (5, 1),  # C1, C2, C3, C6, C9 / C7
    "open": (3, 2),  # C4, C5, C8 at Mon 23 00:00 / C6, C8 at Mon 16 00:00
    # First responses in W47 (s): 1800, 1800, 7200, 21600, 100800 -> median 7200;
    # p90 at rank 0.9 * 4 = 3.6: 21600 + 0.6 * (100800 - 21600) = 69120.
    "first_response": (5, 7200.0, 69120.0),
    # Resolutions in W47 (s): 21600, 39600, 86340, 172800, 518400 -> median 86340;
    # p90: 172800 + 0.6 * (518400 - 172800) = 380160.
    "resolution": (5, 86340.0, 380160.0),
    # Due in W47 and missed: first response C2 (13:00, 15:00), C4 (Fri 08:00, 12:00),
    # C5 (Sun 21:00, none); resolution C9 (17:00, 20:00). C2 resolved 1 min early.
    "breaches": {"first_response": 3, "resolution": 1},
    "by_category": [("billing", 3), ("delivery", 2), ("product", 1)],
    "by_channel": [("chat", 2), ("email", 2), ("other", 1), ("phone", 1)],
    "oldest_open": ["C-8", "C-4", "C-5"],
    # Answers in W47: 10, 6, 9, 8 -> 2 promoters, 1 passive, 1 detractor: (2 - 1) / 4 = +25.
    "nps": (4, 2, 1, 1, 25.0),
}


def at(day: int, hour: int, minute: int) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=UTC)


def load_known_history(open_session: SessionFactory) -> None:
    everyone = Permissions(frozenset({OWNER}))
    with unit_of_work(open_session) as session:
        for severity, category, channel, logged, responded, resolved, score in ROWS:
            draft = ComplaintDraft(
                description=f"{severity} {category} complaint", severity=Severity(severity), category=category,
                contact_channel=ContactChannel(channel),
            )
            complaint = service.log_complaint(session, draft=draft, reporter_id=OWNER, now=at(*logged))
            if responded:
                service.record_response(session, complaint_id=complaint.id, actor_id=OWNER, note="", now=at(*responded))
            if resolved:
                service.resolve(session, complaint_id=complaint.id, actor_id=OWNER, resolution="done",
                                permissions=everyone, now=at(*resolved), score=score)


def assert_figures_match(digest, expected: dict) -> None:
    """Every service figure of `digest` named in `expected` (shaped like EXPECTED_W47)."""
    for name in ("logged", "resolved", "open"):
        figure = getattr(digest, name)
        assert (figure.value, figure.previous) == expected[name], name
    for name in ("first_response", "resolution"):
        durations = getattr(digest, name)
        count, median, p90 = expected[name]
        assert durations.count == count, name
        assert durations.median_seconds == pytest.approx(median, abs=0.5), name
        assert durations.p90_seconds == pytest.approx(p90, abs=0.5), name
    assert digest.breaches == expected["breaches"]
    for name in ("by_category", "by_channel"):
        if name in expected:
            assert getattr(digest, name) == expected[name], name
    assert [c.reference for c in digest.oldest_open] == expected["oldest_open"]
    nps = digest.nps
    assert (nps.answers, nps.promoters, nps.passives, nps.detractors, nps.score) == expected["nps"]
