"""Three weeks of history in UTC, for figures computed late (issue 15).

W46 (Mon 9 to Sun 15 Nov 2026), W47 (Mon 16 to Sun 22) and W48 (from Mon 23); the
figures are computed on Wed 25 Nov 12:00 (`COMPUTED_AT`), after W48's events changed
the complaints' rows. Default targets (urgent 1h/8h, high 4h/24h, normal 8h/72h, low
24h/120h); everything is owned by Alice unless said otherwise.

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

from bot import complaint_waiting, complaints
from bot.complaints import ComplaintDraft, Permissions
from models.complaints import Severity
from models.db import unit_of_work
from tests.digest_data import OWNER as ALICE
from tests.harness import BOB, CAROL

EVERYONE = Permissions(frozenset({ALICE}))
COMPUTED_AT = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


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
