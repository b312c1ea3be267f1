"""The database going away while the bot runs (PostgreSQL restarting, say): every
command, button and form answers "try again in a moment", nothing is half-written,
and the bot serves again as soon as the database is back, without a restart.

The outage is real: the test database stops accepting connections and its open
connections are ended, as a restart would.
"""

from __future__ import annotations

import time
from contextlib import contextmanager

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlmodel import func, select

from handlers.messaging import STORE_DOWN
from models.complaints import Complaint
from models.db import make_engine
from models.kudos import Recognition
from tests.harness import BOB, MANAGER

pytestmark = pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)


@contextmanager
def outage(database_url: str):
    url = make_url(database_url)
    admin = make_engine(url.set(database="postgres").render_as_string(hide_password=False))
    name = url.database
    try:
        with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false'))
            connection.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :name"),
                               {"name": name})
        yield
    finally:
        with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true'))
        admin.dispose()


def count(desk, model=Complaint) -> int:
    with desk.open_session() as session:
        return session.exec(select(func.count()).select_from(model)).one()


@pytest.mark.parametrize(("command", "typed"), [
    ("/complaint", "!high charged twice for order 1182"), ("/kb", "refund"),
    ("/kudos", f"<@{BOB}|bob> thanks for calming a furious customer"), ("/desk", "digest"),
])
def test_a_command_during_an_outage_says_try_again_and_works_once_it_is_over(desk, slack, database_url, command, typed):
    with outage(database_url):
        started = time.monotonic()
        reply = desk.client.command(typed, command=command, user=MANAGER)
        assert reply.status == 200 and time.monotonic() - started < 3
        desk.settle()
    # Told in the answer itself, or (where the command had already answered) through its response URL.
    told = [reply.text] + [call.args.get("text", "") for call in slack.calls_to("response_url")]
    assert any(STORE_DOWN in text for text in told), told
    assert count(desk) == 0 and count(desk, Recognition) == 0
    reply = desk.client.command("!high charged twice for order 1182")
    assert reply.status == 200 and "Logged *C-1*" in reply.text
    desk.settle()
    assert count(desk) == 1


def test_a_button_pressed_during_an_outage_is_answered_and_changes_nothing(desk, slack, database_url):
    desk.client.command("charged twice")
    desk.settle()
    with outage(database_url):
        started = time.monotonic()
        reply = desk.client.action("complaint_take", "1", user=BOB)
        assert reply.status == 200 and time.monotonic() - started < 3
        desk.settle()
    told = [call.args.get("text", "") for call in slack.calls_to("response_url")]
    assert any(STORE_DOWN in text for text in told), told
    with desk.open_session() as session:
        assert session.exec(select(Complaint.owner_id)).one() != BOB


def test_a_form_submitted_during_an_outage_stays_open_with_the_apology(desk, database_url):
    desk.client.command("")
    desk.settle()
    view = desk.opened_view()
    with outage(database_url):
        reply = desk.client.submit_view(view, {
            "description": "Zip broke on a returned coat", "customer_name": "Sam Lee", "customer_contact": "sam@example.com",
            "contact_channel": "email", "category": "product", "severity": "urgent", "owner": BOB,
        })
        desk.settle()
    body = reply.json()
    assert body["response_action"] == "errors" and STORE_DOWN in " ".join(body["errors"].values())
    assert count(desk) == 0
