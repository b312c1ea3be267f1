"""The messages in Slack still to be redacted (bot/redactions.py): recorded with the
redaction, claimed by one process at a time, tried again with longer and longer waits."""

from __future__ import annotations

from datetime import timedelta

from bot import redactions
from bot.complaints import ComplaintDraft
from bot import complaints as service
from models.db import unit_of_work
from models.privacy import SlackMessage
from tests.harness import ALICE, FakeClock


def two_pending(open_session, clock) -> None:
    with unit_of_work(open_session) as session:
        complaint = service.log_complaint(session, draft=ComplaintDraft("charged twice", customer_name="Jane Roe"),
                                          reporter_id=ALICE, now=clock())
        redactions.record(session, messages=[(complaint.id, 0, SlackMessage.TEAM), (complaint.id, 7, SlackMessage.REPLY), (complaint.id, 0, SlackMessage.TEAM)], now=clock())


def test_each_is_claimed_by_one_process_until_its_lease_runs_out(open_session):
    clock = FakeClock()
    two_pending(open_session, clock)
    first = redactions.claim_due(open_session, now=clock())
    assert [(r.complaint_id, r.event_id, r.tries) for r in first] == [(1, 0, 1), (1, 7, 1)]
    assert [r.what for r in first] == ["C-1's team message", "a reply in C-1's thread"]
    assert redactions.claim_due(open_session, now=clock()) == []  # another process finds them taken
    # A process that died with them claimed lets go when the lease runs out.
    again = redactions.claim_due(open_session, now=clock() + redactions.LEASE)
    assert [r.tries for r in again] == [2, 2]
    redactions.done(open_session, redaction=again[0])
    with open_session() as session:
        assert [r.event_id for r in redactions.pending(session)] == [7]


def test_a_failed_try_waits_twice_as_long_each_time_up_to_an_hour(open_session):
    clock = FakeClock()
    two_pending(open_session, clock)
    waits = []
    for _ in range(9):
        for claimed in redactions.claim_due(open_session, now=clock()):
            redactions.try_later(open_session, redaction=claimed, now=clock(), error="the bot could not reach Slack")
        with open_session() as session:
            due = redactions.pending(session)[0].due_at
        waits.append(due - clock())
        clock.now = due
    assert waits[:4] == [timedelta(minutes=m) for m in (1, 2, 4, 8)]
    assert waits[-1] == redactions.LONGEST_WAIT
    with open_session() as session:
        assert {r.error for r in redactions.pending(session)} == {"the bot could not reach Slack"}


def test_one_erasure_claims_only_its_own_complaints(open_session):
    clock = FakeClock()
    two_pending(open_session, clock)
    assert redactions.claim_due(open_session, now=clock(), complaint_ids=[2]) == []
    assert len(redactions.claim_due(open_session, now=clock(), complaint_ids=[1])) == 2
