"""Waiting on the customer pauses the resolution clock (across several waits), and a
merged duplicate is left out of the digest's figures: the domain, on both databases."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest

from bot import complaint_waiting, complaints
from bot.complaint_merges import merge
from bot.complaints import ComplaintDraft
from bot.customer_history import earlier_complaints, repeat_complainers
from bot.digest import IsoWeek, weekly_digest
from bot.permissions import Permissions
from bot.reminders import NoticeKind, notices_due
from bot.sla import SlaState, breached_open, parse_targets, sla_status
from models.complaints import ContactChannel, Severity
from models.db import unit_of_work
from tests.digest_data import EXPECTED_W47, OWNER, at, load_known_history

TARGETS = parse_targets("")  # normal: first response 8 h, resolution 72 h
EVERYONE = Permissions(frozenset({OWNER}))
T0 = at(2, 9, 0)  # Monday 2 November 2026, 09:00 UTC


def log(open_session, severity=Severity.NORMAL, now=T0) -> int:
    with unit_of_work(open_session) as session:
        draft = ComplaintDraft(description="the parcel never came", severity=severity)
        return complaints.log_complaint(session, draft=draft, reporter_id=OWNER, now=now).id


def wait(open_session, complaint_id, now) -> None:
    with unit_of_work(open_session) as session:
        complaint_waiting.wait_on_customer(session, complaint_id=complaint_id, actor_id=OWNER, note="",
                                           permissions=EVERYONE, now=now)


def load(open_session, complaint_id):
    with open_session() as session:
        return complaints.get_complaint(session, complaint_id)


def resolution_at(open_session, complaint_id, now):
    return sla_status(load(open_session, complaint_id), now=now, targets=TARGETS, due_soon=0.75).resolution


def breached_ids(open_session, now) -> list[int]:
    with open_session() as session:
        return [c.id for c in breached_open(session, now=now, targets=TARGETS, limit=50)[0]]


def test_several_waits_move_the_resolution_deadline_by_exactly_their_length(open_session):
    complaint_id = log(open_session)
    wait(open_session, complaint_id, T0 + timedelta(hours=10))
    with unit_of_work(open_session) as session:  # a 20-hour wait ended by the customer's reply
        complaint_waiting.customer_replied(session, complaint_id=complaint_id, actor_id=OWNER,
                                           note="sent the photos", now=T0 + timedelta(hours=30))
    wait(open_session, complaint_id, T0 + timedelta(hours=40))
    with unit_of_work(open_session) as session:  # and a 5-hour one ended by a response
        complaints.record_response(session, complaint_id=complaint_id, actor_id=OWNER, note="", now=T0 + timedelta(hours=45))

    saved = load(open_session, complaint_id)
    assert (saved.status, saved.paused_seconds, saved.waiting_since) == ("open", 25 * 3600, None)
    due = T0 + timedelta(hours=72 + 25)
    assert resolution_at(open_session, complaint_id, due - timedelta(minutes=1)).state is SlaState.DUE_SOON
    assert resolution_at(open_session, complaint_id, due).due_at == due
    assert resolution_at(open_session, complaint_id, due).state is SlaState.BREACHED
    # The database asks the same question the same way.
    assert breached_ids(open_session, due - timedelta(minutes=1)) == []
    assert breached_ids(open_session, due + timedelta(minutes=1)) == [complaint_id]


def test_while_waiting_the_target_stands_still_and_nothing_nags_about_it(open_session):
    complaint_id = log(open_session)
    with unit_of_work(open_session) as session:  # the first response is met: only the resolution counts
        complaints.record_response(session, complaint_id=complaint_id, actor_id=OWNER, note="", now=T0 + timedelta(hours=1))
    wait(open_session, complaint_id, T0 + timedelta(hours=60))  # 12 h of the 72 left
    for later in (timedelta(hours=100), timedelta(days=30)):
        target = resolution_at(open_session, complaint_id, T0 + later)
        assert target.state is SlaState.DUE_SOON
        assert target.due_at == T0 + later + timedelta(hours=12)
        assert target.used == pytest.approx(60 / 72) and target.paused
        assert breached_ids(open_session, T0 + later) == []
    # Once resumed, the 12 hours left run from then.
    resumed = T0 + timedelta(days=30)
    with unit_of_work(open_session) as session:
        complaint_waiting.resume(session, complaint_id=complaint_id, actor_id=OWNER, note="", now=resumed)
    assert resolution_at(open_session, complaint_id, resumed + timedelta(hours=12)).state is SlaState.BREACHED
    assert breached_ids(open_session, resumed + timedelta(hours=11)) == []
    assert breached_ids(open_session, resumed + timedelta(hours=12, minutes=1)) == [complaint_id]


def test_a_wait_begun_after_the_deadline_does_not_undo_the_breach(open_session):
    complaint_id = log(open_session)
    wait(open_session, complaint_id, T0 + timedelta(hours=80))
    target = resolution_at(open_session, complaint_id, T0 + timedelta(hours=200))
    assert target.state is SlaState.BREACHED and target.due_at == T0 + timedelta(hours=72) and not target.paused
    assert breached_ids(open_session, T0 + timedelta(hours=200)) == [complaint_id]


def test_a_long_wait_reminds_the_owner_once_per_wait_and_not_about_the_paused_target(open_session):
    complaint_id = log(open_session)
    with unit_of_work(open_session) as session:
        complaints.record_response(session, complaint_id=complaint_id, actor_id=OWNER, note="", now=T0 + timedelta(hours=1))
    wait(open_session, complaint_id, T0 + timedelta(hours=60))  # resolution already due soon (75% = 54 h)

    def due(now):
        return notices_due([load(open_session, complaint_id)], now=now, targets=TARGETS, due_soon=0.75,
                           follow_up_days=3, waiting_days=3)

    assert due(T0 + timedelta(hours=60 + 71)) == []
    [notice] = due(T0 + timedelta(hours=60 + 72))
    assert notice.kind is NoticeKind.WAITING and notice.due_at == T0 + timedelta(hours=132)
    first_key = notice.key
    with unit_of_work(open_session) as session:
        complaint_waiting.resume(session, complaint_id=complaint_id, actor_id=OWNER, note="", now=T0 + timedelta(hours=140))
    wait(open_session, complaint_id, T0 + timedelta(hours=141))
    [again] = due(T0 + timedelta(hours=141 + 72))
    assert again.kind is NoticeKind.WAITING and again.key != first_key


# ----- the digest ---------------------------------------------------------------------------
def digest(open_session, now=at(23, 9, 0)):
    with open_session() as session:
        return weekly_digest(session, week=IsoWeek.parse("2026-W47"), zone=ZoneInfo("UTC"), now=now, targets=TARGETS)


def figures(d) -> dict:
    return {
        "logged": (d.logged.value, d.logged.previous), "resolved": (d.resolved.value, d.resolved.previous),
        "open": (d.open.value, d.open.previous),
        "first_response": (d.first_response.count, d.first_response.median_seconds, d.first_response.p90_seconds),
        "resolution": (d.resolution.count, d.resolution.median_seconds, d.resolution.p90_seconds),
        "breaches": d.breaches, "by_category": d.by_category, "by_channel": d.by_channel,
        "oldest_open": [c.reference for c in d.oldest_open],
        "nps": (d.nps.answers, d.nps.promoters, d.nps.passives, d.nps.detractors, d.nps.score),
    }


def add_duplicates(open_session) -> tuple[int, int]:
    """Two W47 complaints that touch every figure: one resolved late and rated, one open and breached."""
    ids = []
    with unit_of_work(open_session) as session:
        for resolved in (True, False):
            draft = ComplaintDraft(description="charged twice again", severity=Severity.URGENT, category="website",
                                   contact_channel=ContactChannel.SOCIAL)
            complaint = complaints.log_complaint(session, draft=draft, reporter_id=OWNER, now=at(17, 9, 0))
            if resolved:
                complaints.record_response(session, complaint_id=complaint.id, actor_id=OWNER, note="", now=at(17, 12, 0))
                complaints.resolve(session, complaint_id=complaint.id, actor_id=OWNER, resolution="refunded",
                                   permissions=EVERYONE, now=at(19, 9, 0), score=0)
            ids.append(complaint.id)
    return ids[0], ids[1]


def test_merged_duplicates_are_left_out_of_every_digest_figure(open_session):
    load_known_history(open_session)
    expected = figures(digest(open_session))
    expected_trend = [(p.logged, p.resolved, p.median_first_response_seconds) for p in digest(open_session).trend]
    assert expected["logged"] == EXPECTED_W47["logged"] and expected["nps"] == EXPECTED_W47["nps"]
    resolved_duplicate, open_duplicate = add_duplicates(open_session)
    with_duplicates = figures(digest(open_session))
    # Unmerged, they show in every figure the test then expects them gone from.
    for name in ("logged", "resolved", "open", "first_response", "resolution", "breaches", "by_category",
                 "by_channel", "oldest_open", "nps"):
        assert with_duplicates[name] != expected[name], name

    with unit_of_work(open_session) as session:
        for duplicate in (resolved_duplicate, open_duplicate):
            merge(session, complaint_id=duplicate, into_id=1, actor_id=OWNER, permissions=EVERYONE, now=at(20, 9, 0))
    assert figures(digest(open_session)) == expected
    # The trend's weeks leave them out too (its medians of first responses included).
    assert [(p.logged, p.resolved) for p in digest(open_session).trend[-1:]] == [(6, 5)]
    assert [(p.logged, p.resolved, p.median_first_response_seconds) for p in digest(open_session).trend] == expected_trend


def test_a_paused_complaint_breaches_in_the_week_its_moved_deadline_falls(open_session):
    # Logged Mon 9 Nov 09:00 (urgent: resolution 8 h, due 17:00 in W46), then waited on
    # the customer for exactly 7 days.
    complaint_id = log(open_session, Severity.URGENT, now=at(9, 9, 0))
    with unit_of_work(open_session) as session:
        complaints.record_response(session, complaint_id=complaint_id, actor_id=OWNER, note="", now=at(9, 9, 30))
    wait(open_session, complaint_id, at(9, 10, 0))
    with unit_of_work(open_session) as session:
        complaint_waiting.resume(session, complaint_id=complaint_id, actor_id=OWNER, note="", now=at(16, 10, 0))
    # Now due Mon 16 17:00, in W47; not yet resolved at the end of the week: a W47 breach.
    assert digest(open_session).breaches == {"first_response": 0, "resolution": 1}
    with unit_of_work(open_session) as session:
        complaints.resolve(session, complaint_id=complaint_id, actor_id=OWNER, resolution="done",
                           permissions=EVERYONE, now=at(16, 16, 0))
    # Resolved an hour before the moved deadline: met, although 7 days after logging.
    assert digest(open_session).breaches == {"first_response": 0, "resolution": 0}


def test_a_merged_duplicate_is_not_a_repeat_complaint(open_session):
    ids = []
    with unit_of_work(open_session) as session:
        for day in (16, 17):
            draft = ComplaintDraft(description="charged twice", customer_name="Jane Roe", customer_contact="jane@example.com")
            ids.append(complaints.log_complaint(session, draft=draft, reporter_id=OWNER, now=at(day, 9, 0)).id)

    def repeats() -> tuple[list[int], int]:
        with open_session() as session:
            later = complaints.get_complaint(session, ids[1])
            return ([c.id for c in earlier_complaints(session, complaint=later).latest],
                    repeat_complainers(session, start=at(16, 0, 0), end=at(23, 0, 0)))

    assert repeats() == ([ids[0]], 1)
    with unit_of_work(open_session) as session:
        merge(session, complaint_id=ids[0], into_id=ids[1], actor_id=OWNER, permissions=EVERYONE, now=at(18, 9, 0))
    assert repeats() == ([], 0)
