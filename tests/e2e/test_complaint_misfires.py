"""Common words never create real complaints: a command that was not quite a command
gets help, an unknown `!word` the list of severities, and nothing is saved or posted."""

from __future__ import annotations

import pytest
from sqlmodel import func, select

from models.complaints import Complaint, ComplaintEvent, EventKind


def saved(desk) -> int:
    with desk.open_session() as session:
        return session.exec(select(func.count()).select_from(Complaint)).one()


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("close C-1 done", "Did you mean `resolve`?"),
        ("Close c1 customer is happy now", "Did you mean `resolve`?"),
        ("status C-1", "Did you mean `show`?"),
        ("status 1", "`/complaint show 1`"),
        ("comment C-1 called back", "Did you mean `note`?"),
        ("reslove C-1 refunded", "Did you mean `resolve`?"),
        ("frobnicate C-42 now", "is not a command I know, so nothing was logged"),
        ("please c42", "is not a command I know"),
        ("!critical broken zip on a coat", "“!critical” is not a severity. Use one of: !low, !normal, !high, !urgent."),
        ("the van was late !asap", "“!asap” is not a severity"),
    ],
)
def test_a_near_command_gets_help_and_logs_nothing(desk, slack, typed, expected):
    reply = desk.client.command(typed)
    desk.settle()
    assert reply.status == 200
    assert expected in reply.text
    assert saved(desk) == 0
    assert slack.calls_to("chat.postMessage") == []


def test_the_help_says_how_to_log_a_complaint_starting_with_such_a_word(desk, slack):
    assert "put its severity first: `/complaint !normal status …`" in desk.client.command("status page was down").text
    desk.client.command("!normal status page was down for an hour")
    desk.settle()
    assert saved(desk) == 1
    with desk.open_session() as session:
        assert session.exec(select(Complaint.description)).one() == "status page was down for an hour"


def test_exclamation_marks_in_ordinary_text_are_kept(desk):
    desk.client.command("!high customer said never again! and hung up")
    desk.settle()
    with desk.open_session() as session:
        complaint = session.exec(select(Complaint)).one()
    assert (complaint.severity, complaint.description) == ("high", "customer said never again! and hung up")


@pytest.mark.parametrize("typed", ["close C-1 done", "edit C-1 !urgent", "status C-1", "search refund"])
def test_the_words_that_used_to_log_complaints_log_nothing(desk, slack, typed):
    reply = desk.client.command(typed)
    desk.settle()
    assert reply.status == 200 and reply.text
    assert saved(desk) == 0
    assert slack.calls_to("chat.postMessage") == []


def test_a_command_typed_after_the_complaint_id_works_on_that_complaint(desk, slack):
    desk.client.command("#billing charged twice for order 1182")
    desk.settle()
    assert desk.client.command("C-1 note called the customer back").text.startswith("Noted on *C-1*")
    assert "C-1" in desk.client.command("c1").text  # shown, as `show C-1` would
    reply = desk.client.command("C-1 called the customer back")
    desk.settle()
    assert "`/complaint note C-1 called the customer back`" in reply.text and "Nothing was logged" in reply.text
    assert saved(desk) == 1
    with desk.open_session() as session:
        notes = session.exec(select(ComplaintEvent.note).where(ComplaintEvent.kind == EventKind.NOTED)).all()
    assert notes == ["called the customer back"]
