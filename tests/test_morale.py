"""The morale report on a small data set whose figures are worked out by hand below."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from bot import complaints, kudos
from bot.complaints import ComplaintDraft, Permissions
from bot.kudos import KudosDraft, KudosRules
from bot.morale import LimitHitter, PeriodCounts, ReciprocalPair, morale_report, report_end
from models.db import unit_of_work
from models.kudos import KudosSource

A, B, C, D, E, STAFF_ONLY, OLD = "UA", "UB", "UC", "UD", "UE", "US", "UX"
UTC_ZONE = ZoneInfo("UTC")
RULES = KudosRules(values=("ownership", "speed", "empathy", "extra-mile"), daily_limit=2, zone=UTC_ZONE)
END = date(2026, 11, 24)  # this week: 17–23 Nov; the week before: 10–16 Nov; 30 days: 25 Oct – 23 Nov


def at(day: int, hour: int, month: int = 11) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=UTC)


def log_complaint(open_session, *, reporter, owner, when) -> int:
    with unit_of_work(open_session) as session:
        return complaints.log_complaint(
            session, draft=ComplaintDraft("parcel lost twice", owner_id=owner), reporter_id=reporter, now=when
        ).id


def resolve(open_session, complaint_id, *, by, when) -> None:
    with unit_of_work(open_session) as session:
        complaints.resolve(session, complaint_id=complaint_id, actor_id=by, resolution="refunded",
                           permissions=Permissions(), now=when)


def give(open_session, giver, recipients, when, *, value="", complaint_id=None):
    return kudos.give(
        open_session, giver_id=giver, draft=KudosDraft(tuple(recipients), "sorted it out fast", value, complaint_id),
        source=KudosSource.COMMAND, dedup_key=f"test:{giver}:{when.isoformat()}", rules=RULES, now=when,
    )


@pytest.fixture
def known_data(open_session):
    resolved = log_complaint(open_session, reporter=A, owner=B, when=at(20, 9))      # A logged, B owns
    resolve(open_session, resolved, by=B, when=at(21, 9))                           # B resolved
    still_open = log_complaint(open_session, reporter=C, owner=C, when=at(22, 9))   # C logged and owns
    old = log_complaint(open_session, reporter=OLD, owner=OLD, when=at(1, 9, month=9))
    resolve(open_session, old, by=OLD, when=at(2, 9, month=9))                      # before the window

    give(open_session, A, [B], at(21, 10), value="ownership", complaint_id=resolved)
    give(open_session, B, [A], at(21, 12), value="speed", complaint_id=still_open)  # answers A within 2 h
    give(open_session, A, [B], at(22, 9), value="ownership")                         # answers B within 21 h
    give(open_session, C, [D], at(12, 10), value="empathy")                          # the week before
    give(open_session, D, [C], at(13, 10), value="empathy")                          # one exchange only
    for day in (17, 18, 19):                                                         # E at the limit of 2
        give(open_session, E, [C, D], at(day, 15))
    kudos.give_for_reaction(open_session, giver_id=E, recipient_id=C, channel="CX", message_ts="1.2",
                            reason="for their message", rules=RULES, now=at(20, 15))
    kudos.revoke_reaction(open_session, giver_id=E, recipient_id=C, channel="CX", message_ts="1.2", now=at(20, 16))
    give(open_session, A, [E], at(20, 10, month=10))                                 # before the window


def test_morale_figures_match_the_hand_count(open_session, known_data):
    with open_session() as session:
        report = morale_report(session, end=END, zone=UTC_ZONE, daily_limit=2, staff_ids=[STAFF_ONLY, A])

    # This week: A→B twice, B→A, and E→C, E→D on three days (the revoked E→C counts nowhere).
    assert report.this_week == PeriodCounts(recognitions=9, givers=3, receivers=4)
    assert report.last_week == PeriodCounts(recognitions=2, givers=2, receivers=2)
    # 30 days: those 11; only A→B for the resolved complaint is linked to a resolved one.
    assert (report.recognitions_30d, report.linked_to_resolved_30d) == (11, 1)
    assert report.linked_share == pytest.approx(1 / 11)
    # Active: A (logged), B (owned, resolved), C (logged, owns), D and E (gave), plus the
    # staff channel's US. Recognised among them: A, B, C, D. Not OLD: his work is too old.
    assert (report.active_staff, report.recognised_staff) == (6, 4)
    assert report.coverage == pytest.approx(4 / 6)
    assert report.unrecognised == (E, STAFF_ONLY)
    assert report.top_values == (("empathy", 2), ("ownership", 2), ("speed", 1))
    # B answered A within 2 h, then A answered B within 21 h: two exchanges. C and D: one.
    assert report.reciprocal_pairs == (ReciprocalPair(A, B, 2),)
    # E gave 2 (the limit) on each of the three days E gave kudos this week.
    assert report.limit_hitters == (LimitHitter(E, 3),)


def test_json_form_carries_every_figure_with_names(open_session, known_data):
    with open_session() as session:
        report = morale_report(session, end=END, zone=UTC_ZONE, daily_limit=2)
    data = json.loads(report.to_json({E: "Eve"}))
    assert data["this_week"] == {"recognitions": 9, "givers": 3, "receivers": 4}
    assert data["week_start"] == "2026-11-17" and data["end"] == "2026-11-24"
    assert data["coverage"] == round(4 / 5, 4)
    assert data["unrecognised"] == [{"id": E, "name": "Eve"}]
    assert data["reciprocal_pairs"] == [{"people": [{"id": A, "name": A}, {"id": B, "name": B}], "exchanges": 2}]
    assert data["limit_hitters"] == [{"id": E, "name": "Eve", "days_at_limit": 3}]


def test_an_empty_database_gives_an_empty_report(open_session):
    with open_session() as session:
        report = morale_report(session, end=END, zone=UTC_ZONE, daily_limit=5)
    assert report.this_week == report.last_week == PeriodCounts(0, 0, 0)
    assert report.coverage is None and report.linked_share is None
    assert (report.unrecognised, report.top_values, report.reciprocal_pairs, report.limit_hitters) == ((), (), (), ())


def test_days_are_counted_in_the_configured_time_zone(open_session):
    auckland = ZoneInfo("Pacific/Auckland")
    rules = KudosRules(values=RULES.values, daily_limit=1, zone=auckland)
    # 23:30 UTC on the 20th is already the 21st in Auckland: a new day, a fresh limit.
    for hour, key in ((9, "one"), (23, "two")):
        kudos.give(open_session, giver_id=A, draft=KudosDraft((B,), "stayed late for a customer"), source=KudosSource.COMMAND,
                   dedup_key=key, rules=rules, now=datetime(2026, 11, 20, hour, 30, tzinfo=UTC))
    with open_session() as session:
        assert kudos.stats(session, user_id=A, today=date(2026, 11, 21)).given == (("", 2),)
        report = morale_report(session, end=report_end(datetime(2026, 11, 20, 23, 30, tzinfo=UTC), auckland),
                               zone=auckland, daily_limit=1)
    assert report.end == date(2026, 11, 22)
    assert report.this_week.recognitions == 2


def test_the_rendered_report_names_people_and_flags_patterns_without_pinging(open_session, known_data):
    from bot.app.console.blockkit import block_kit_problems
    from handlers.morale_views import morale_blocks, morale_lines, people_shown

    with open_session() as session:
        report = morale_report(session, end=END, zone=UTC_ZONE, daily_limit=2, staff_ids=[STAFF_ONLY])
    assert people_shown(report) == [A, B, E, STAFF_ONLY]
    names = {A: "Ann", B: "Bo <!channel>", E: "Eve", STAFF_ONLY: "Sam"}
    lines = morale_lines(report, names)
    assert "*Kudos this week*: 9, up 7 on the week before (2)" in lines
    assert "*Coverage*: 67% of active staff recognised in 30 days (4 of 6)" in lines
    assert "*Top values*: #empathy (2), #ownership (2), #speed (1)" in lines
    assert "*Active but not recognised in 30 days* (2): Eve, Sam" in lines
    assert "• Ann and Bo &lt;!channel&gt; thanked each other within 48 hours, 2 times" in lines
    assert "• Eve gave the daily limit of 2 on each of the 3 days they gave kudos this week" in lines
    blocks = morale_blocks(report, names)
    assert blocks[0]["text"]["text"] == "Morale, 17 Nov – 23 Nov 2026"
    assert block_kit_problems(blocks=blocks) == []
    assert "<@" not in str(blocks)
