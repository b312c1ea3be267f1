"""The end-to-end harness: the real app over HTTP, Slack faked only at the network edge.

* `SlackEmulator` (bot/app/console/slack_emulator.py) plays Slack's Web API and checks every call
  against Slack's OpenAPI spec and every Block Kit payload against slack_sdk's models.
* `SignedClient` (bot/app/console/loopback.py) sends requests into the running app signed exactly
  as Slack signs them (v0 HMAC-SHA256 over `v0:timestamp:body`), shaped like Slack's
  payloads; here it acts as Alice in #general unless a test says otherwise.
* `Desk` is one running bot (bot/app/console/loopback.py): the WSGI app (the same one gunicorn
  serves) on a threaded local HTTP server, its settings, database sessions and a
  clock tests move.

Listeners finish their work after `ack()`; `Desk.settle()` waits for that work, so
tests never sleep.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.app.console.blockkit import block_kit_problems
from bot.config import Settings
from bot.app.console.loopback import TEAM, LoopbackDesk, Reply, SignedClient
from bot.app.console.slack_emulator import PING, SlackEmulator

__all__ = ["TEAM", "Reply", "SignedClient"]

SIGNING_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
# For what does not depend on the store (exit codes, processes, the WSGI layer, the
# terminal): run once, on SQLite. Each such test starts real processes, and the
# suite must stay fast on two cores.
ON_SQLITE_ONLY = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
ALICE, BOB, CAROL, MANAGER, ADMIN, BOT_USER, GONE = (
    "UALICE0001", "UBOB00002", "UCAROL0003", "UMANAGER04", "UADMIN0005", "UROBOT0006", "UGONE00007",
)
GENERAL, COMPLAINTS = "CGENERAL01", "CCOMPLAIN1"


def add_staff(slack: SlackEmulator) -> None:
    for user_id, name in ((ALICE, "Alice"), (BOB, "Bob"), (CAROL, "Carol"), (MANAGER, "Mona"), (ADMIN, "Adam")):
        slack.add_user(user_id, name)
    slack.add_user(BOT_USER, "Helperbot", is_bot=True)
    slack.add_user(GONE, "Gone", deleted=True)


class FakeClock:
    """A clock tests move by hand; aware UTC like the system clock."""

    def __init__(self, start: datetime = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


def _check_ack(reply: Reply) -> None:
    """An ack's body reaches Slack too: hold it to the same rules as Web API calls."""
    assert not PING.search(reply.text), f"the ack would ping a whole channel: {reply.text[:200]}"
    if not reply.headers.get("Content-Type", "").startswith("application/json"):
        return
    body = reply.json() or {}
    problems = []
    if "blocks" in body:
        problems += block_kit_problems(blocks=body["blocks"])
    if "view" in body:
        problems += block_kit_problems(view=body["view"])
    assert problems == [], f"the ack carries invalid Block Kit: {problems}"


class Desk(LoopbackDesk):
    """One running servicedesk for one test; every ack it sends is held to Slack's rules."""

    def __init__(self, settings: Settings, slack: SlackEmulator, clock: FakeClock) -> None:
        super().__init__(settings, clock=clock, response_url=slack.response_url(), user=ALICE, channel=GENERAL,
                         on_reply=_check_ack)
        self.slack = slack

    def opened_view(self, index: int = -1) -> dict:
        return self.slack.calls_to("views.open")[index].args["view"]
