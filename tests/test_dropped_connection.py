"""The pool lends connections without pinging them first; a connection PostgreSQL has
closed since is noticed by the write itself, which is tried once more on a new one."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import create_engine, text
from sqlmodel import func, select

from bot.complaints import ComplaintDraft, log_complaint
from bot.errors import DuplicateRequest
from bot.request_dedup import run_once
from models.complaints import Complaint, ComplaintEvent
from models.requests import ProcessedRequest

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def _log(open_session, key: str, text_: str) -> Complaint:
    return run_once(open_session, key=key, now=NOW, summary=lambda complaint: f"logged as {complaint.reference}",
                    work=lambda session: log_complaint(session, draft=ComplaintDraft(text_), reporter_id="UALICE0001",
                                                       now=NOW))


def _backend_pid(engine) -> int:
    with engine.connect() as connection:
        return connection.execute(text("SELECT pg_backend_pid()")).scalar_one()


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_a_complaint_logged_on_a_connection_the_server_dropped_is_saved_once(engine, open_session, database_url):
    assert not engine.pool._pre_ping  # the drop must be met by the write, not by a ping
    first = _log(open_session, "command:1", "charged twice")
    pooled = _backend_pid(engine)
    killer = create_engine(engine.url, isolation_level="AUTOCOMMIT")
    with killer.connect() as connection:
        assert connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pooled}).scalar_one()
    killer.dispose()

    second = _log(open_session, "command:2", "parcel never came")

    assert _backend_pid(engine) != pooled
    with open_session() as session:
        assert [c.description for c in session.exec(select(Complaint).order_by(Complaint.id))] == [
            "charged twice", "parcel never came"]
        assert session.exec(select(func.count()).select_from(ComplaintEvent)).one() == 2
        assert session.exec(select(func.count()).select_from(ProcessedRequest)).one() == 2
    assert second.id == first.id + 1
    with pytest.raises(DuplicateRequest) as repeat:
        _log(open_session, "command:2", "parcel never came")
    assert repeat.value.result == "logged as C-2"
