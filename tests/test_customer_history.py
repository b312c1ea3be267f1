"""A customer's earlier complaints, recognised by contact (or name) across complaints."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot import complaints as service
from bot.complaints import ComplaintDraft, Permissions
from bot.customer_history import customer_history, earlier_complaints, repeat_complainers
from handlers.complaint_views import repeat_line
from bot.errors import InvalidInput
from models.db import unit_of_work
from tests.harness import ALICE, FakeClock


def log(session, clock, text, *, name="", contact=""):
    draft = ComplaintDraft(text, customer_name=name, customer_contact=contact)
    return service.log_complaint(session, draft=draft, reporter_id=ALICE, now=clock())


@pytest.fixture
def clock():
    return FakeClock()


def test_earlier_complaints_are_the_same_customers_in_the_last_90_days(open_session, clock):
    with unit_of_work(open_session) as session:
        old = log(session, clock, "long ago", contact="jane@example.com")
        clock.advance(days=100)
        first = log(session, clock, "charged twice", name="Jane Roe", contact="Jane@Example.com")
        service.resolve(session, complaint_id=first.id, actor_id=ALICE, resolution="refunded", score=9,
                        permissions=Permissions(), now=clock())
        log(session, clock, "someone else", name="Sam", contact="sam@example.com")
        clock.advance(days=3)
        latest = log(session, clock, "late again", name="J Roe", contact=" JANE@example.com")
        named = log(session, clock, "no contact given", name="Jane Roe")
    with open_session() as session:
        earlier = earlier_complaints(session, complaint=latest)
        assert earlier.total == 1 and [past.reference for past in earlier.latest] == [first.reference]
        assert (earlier.latest[0].status, earlier.latest[0].satisfaction_score) == ("resolved", 9)
        assert not earlier_complaints(session, complaint=named)  # a name alone is another key
        assert old.id not in [past.id for past in earlier.latest]


def test_a_frequent_complainer_is_counted_and_only_the_latest_few_named(open_session, clock):
    # Hundreds of earlier complaints must not make the message longer than Slack takes.
    with unit_of_work(open_session) as session:
        made = [log(session, clock, f"again {n}", contact="jane@example.com") for n in range(8)]
    with open_session() as session:
        earlier = earlier_complaints(session, complaint=made[-1])
    assert earlier.total == 7
    assert [past.id for past in earlier.latest] == [c.id for c in made[2:7]]  # the latest five, oldest first
    line = repeat_line(earlier)
    assert line.startswith(":repeat: 8th complaint from this customer in 90 days: ")
    assert line.endswith(f"{made[2].reference}, {made[3].reference}, {made[4].reference}, {made[5].reference}, "
                         f"{made[6].reference} and 2 earlier")


def test_customer_history_lists_newest_first_by_contact_or_name(open_session, clock):
    with unit_of_work(open_session) as session:
        for day in range(3):
            log(session, clock, f"problem {day}", name="Jane Roe", contact="+44 20 7946 0000")
            clock.advance(days=1)
        log(session, clock, "by name only", name="jane  roe")
    with open_session() as session:
        history = customer_history(session, customer="+44 (0)20 7946 0000".replace("(0)", ""), limit=2)
        assert (history.total, [c.reference for c in history.complaints]) == (3, ["C-3", "C-2"])
        assert history.customer_name == "Jane Roe"
        assert customer_history(session, customer="Jane Roe").total == 1
        assert customer_history(session, customer="nobody@example.com").total == 0
        with pytest.raises(InvalidInput):
            customer_history(session, customer="  ")


def test_repeat_complainers_in_a_week(open_session, clock):
    with unit_of_work(open_session) as session:
        log(session, clock, "first", contact="a@example.com")
        start = clock() + timedelta(days=10)
        clock.advance(days=12)
        log(session, clock, "again", contact="a@example.com")       # repeat (earlier one 12 days before)
        log(session, clock, "new", contact="b@example.com")         # first time
        log(session, clock, "twice", contact="c@example.com")
        log(session, clock, "twice more", contact="c@example.com")  # twice this week: repeat
        log(session, clock, "anonymous")                            # unknown customer: not counted
    with open_session() as session:
        assert repeat_complainers(session, start=start, end=start + timedelta(days=7)) == 2


def test_the_weekly_digest_counts_repeat_complainers(open_session, clock):
    from zoneinfo import ZoneInfo

    from bot.digest import weekly_digest
    from bot.sla import parse_targets
    from bot.weeks import IsoWeek

    with unit_of_work(open_session) as session:
        log(session, clock, "first", contact="a@example.com")
        clock.advance(days=7)
        log(session, clock, "again", contact="a@example.com")
        log(session, clock, "new", contact="b@example.com")
    zone = ZoneInfo("UTC")
    with open_session() as session:
        digest = weekly_digest(session, week=IsoWeek.at(clock(), zone), zone=zone, now=clock(), targets=parse_targets(""))
        earlier = weekly_digest(session, week=IsoWeek.at(clock(), zone).shift(-1), zone=zone, now=clock(),
                                targets=parse_targets(""))
    assert (digest.repeat_customers, earlier.repeat_customers) == (1, 0)
    assert digest.as_json()["repeat_customers"] == 1
