"""The complaint service and the one-line parser, without Slack."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlmodel import func, select

from bot import complaints as service
from bot.complaint_text import HelpRequest, OpenModal, Subcommand, parse, plain_text
from bot.complaints import ComplaintDraft, Permissions
from bot.errors import InvalidInput, NotAllowed, NotFound
from models.complaints import Complaint, ComplaintEvent, Severity
from models.db import unit_of_work
from tests.harness import ALICE, BOB, CAROL, MANAGER, FakeClock

CATEGORIES = ("billing", "delivery", "other")
PERMISSIONS = Permissions(manager_ids=frozenset({MANAGER}))


@pytest.mark.parametrize(
    "text, expected",
    [
        ("", OpenModal()),
        ("   ", OpenModal()),
        ("help", HelpRequest()),
        ("show C-4", Subcommand("show", ["C-4"], "C-4")),
        ("!URGENT #Billing <@UBOB00002|bob> refund missing",
         ComplaintDraft("refund missing", Severity.URGENT, "billing", owner_id="UBOB00002")),
        ("<#C0123|delivery> late <@UCAROL0003>", ComplaintDraft("late", Severity.NORMAL, "delivery", owner_id="UCAROL0003")),
        ("printer on fire !high", ComplaintDraft("printer on fire", Severity.HIGH, "other")),
        ("costs 5 &lt;€&gt; &amp; more", ComplaintDraft("costs 5 <€> & more", Severity.NORMAL, "other")),
    ],
)
def test_parse(text, expected):
    assert parse(text, categories=CATEGORIES) == expected


@pytest.mark.parametrize(
    "text, expected",
    [
        ("C-4", Subcommand("show", ["C-4"], "C-4")),
        ("c4 note called the courier", Subcommand("note", ["c4", "called", "the", "courier"], "c4 called the courier")),
        ("C-4 close refunded", Subcommand("resolve", ["C-4", "refunded"], "C-4 refunded")),
        ("C-43 merge into C-42", Subcommand("merge", ["C-43", "into", "C-42"], "C-43 into C-42")),
        ("C-4 take", Subcommand("take", ["C-4"], "C-4")),
    ],
)
def test_a_complaint_named_first_means_the_command_after_it(text, expected):
    assert parse(text, categories=CATEGORIES) == expected


@pytest.mark.parametrize("text", ["C-4 called the courier", "C-4 list", "C-4 search refund"])
def test_a_complaint_named_first_is_never_logged_as_a_new_one(text):
    parsed = parse(text, categories=CATEGORIES)
    assert isinstance(parsed, HelpRequest)
    assert "Nothing was logged" in parsed.hint and "`/complaint note C-4" in parsed.hint


def test_a_complaint_that_starts_with_an_id_is_logged_after_a_severity():
    assert parse("!normal C-4 was never answered", categories=CATEGORIES) == ComplaintDraft(
        "C-4 was never answered", Severity.NORMAL, "other")


def test_special_mentions_become_plain_words():
    assert plain_text("<!channel> <!here|here> <!everyone> hi") == "@channel @here @everyone hi"


def log(session, clock, description="charged twice", owner_id=None, reporter_id=ALICE) -> Complaint:
    return service.log_complaint(
        session, draft=ComplaintDraft(description, owner_id=owner_id), reporter_id=reporter_id, now=clock()
    )


def test_exactly_one_owner_through_every_change(open_session):
    clock = FakeClock()
    with unit_of_work(open_session) as session:
        complaint = log(session, clock)
        service.take(session, complaint_id=complaint.id, actor_id=BOB, now=clock.advance(minutes=1))
        service.assign(session, complaint_id=complaint.id, actor_id=MANAGER, new_owner_id=CAROL,
                       permissions=PERMISSIONS, now=clock.advance(minutes=1))
        with pytest.raises(NotAllowed, match="only the owner of C-1"):
            service.resolve(session, complaint_id=complaint.id, actor_id=BOB, resolution="x",
                            permissions=PERMISSIONS, now=clock())
        service.resolve(session, complaint_id=complaint.id, actor_id=CAROL, resolution="refunded",
                        permissions=PERMISSIONS, now=clock.advance(minutes=1))
        with pytest.raises(InvalidInput, match="already resolved"):
            service.resolve(session, complaint_id=complaint.id, actor_id=CAROL, resolution="again",
                            permissions=PERMISSIONS, now=clock())
        service.reopen(session, complaint_id=complaint.id, actor_id=MANAGER, permissions=PERMISSIONS, now=clock())
        owners = [e.owner_id for e in service.history(session, complaint.id) if e.owner_id]
        assert owners == [ALICE, BOB, CAROL]
        assert session.get(Complaint, complaint.id).owner_id == CAROL
        assert session.get(Complaint, complaint.id).resolved_at is None


def test_first_response_time_is_kept_from_the_first_response(open_session):
    clock = FakeClock()
    with unit_of_work(open_session) as session:
        complaint = log(session, clock)
        first = clock.advance(minutes=7)
        service.record_response(session, complaint_id=complaint.id, actor_id=ALICE, note="", now=first)
        service.record_response(session, complaint_id=complaint.id, actor_id=ALICE, note="again", now=clock.advance(hours=1))
        assert session.get(Complaint, complaint.id).first_responded_at == first


def test_a_failed_change_writes_nothing(open_session):
    clock = FakeClock()
    with unit_of_work(open_session) as session:
        complaint_id = log(session, clock).id
    with pytest.raises(InvalidInput):
        with unit_of_work(open_session) as session:
            service.add_note(session, complaint_id=complaint_id, actor_id=BOB, note="x" * 3001, now=clock())
    with pytest.raises(NotFound):
        with unit_of_work(open_session) as session:
            service.take(session, complaint_id=999, actor_id=BOB, now=clock())
    with open_session() as session:
        assert session.exec(select(func.count()).select_from(ComplaintEvent)).one() == 1


def test_concurrent_logging_from_many_threads_loses_nothing(open_session):
    clock = FakeClock()

    def log_one(number: int) -> str:
        with unit_of_work(open_session) as session:
            return log(session, clock, description=f"complaint {number}").reference

    with ThreadPoolExecutor(max_workers=16) as pool:
        references = list(pool.map(log_one, range(200)))
    assert len(set(references)) == 200
    with open_session() as session:
        assert session.exec(select(func.count()).select_from(Complaint)).one() == 200
        assert session.exec(select(func.count()).select_from(ComplaintEvent)).one() == 200
