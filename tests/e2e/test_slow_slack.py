"""While the digest or the morale report waits on a slow Slack, other requests still
reach the database.

On SQLite the pool holds one connection per process (models/db.py), so a session held
open across a Web API call would make every other request of the process queue behind
Slack's answer. Here Slack holds one call of the work for up to 5 s, and a complaint
logged meanwhile must be answered while that call is still held.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest

from tests.digest_data import load_known_history
from tests.harness import ALICE, BOB, COMPLAINTS, MANAGER

STAFF = "CSTAFF0001"


def desk_digest(desk) -> Callable[[], None]:
    desk.client.command("digest 2026-W47", command="/desk", user=MANAGER)
    return desk.settle


def desk_morale(desk) -> Callable[[], None]:
    desk.client.command("morale", command="/desk", user=MANAGER)
    return desk.settle


def digest_job(desk) -> Callable[[], None]:
    tick = threading.Thread(target=desk.tick, name="scheduler-tick")
    tick.start()
    return lambda: tick.join(timeout=30)


def delivered(slack) -> list[str]:
    """The texts of the digests and morale reports that reached the manager."""
    replies = [call.args for call in slack.calls_to("response_url")] + [
        call.args for call in slack.calls_to("chat.postMessage") if call.args.get("channel") == MANAGER
    ]
    return [str(reply["blocks"]) for reply in replies if reply.get("text", "").startswith(("Weekly digest", "Morale"))]


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
# With a staff channel the work first asks for its members; without one, the first
# users.info looks up a name the report shows, once its figures are computed.
@pytest.mark.parametrize("method", ["conversations.members", "users.info"])
@pytest.mark.parametrize("start", [desk_digest, desk_morale, digest_job], ids=["desk-digest", "desk-morale", "digest-job"])
def test_work_waiting_on_slack_holds_no_database_connection(make_desk, slack, method, start):
    desk = make_desk(staff_channel=STAFF if method == "conversations.members" else "")
    assert desk.engine.pool.size() == 1  # one connection for every thread of the process
    slack.members[STAFF] = [BOB]
    load_known_history(desk.open_session)  # nine complaints, all Alice's; nobody has kudos
    stall = slack.stall(method, seconds=5)

    finish = start(desk)
    assert stall.held.wait(timeout=10), f"the work never called {method}"
    reply = desk.client.command("#billing charged twice", user=ALICE, channel=COMPLAINTS)
    # Bolt answers 404 when a listener has not acknowledged within 3 s.
    assert reply.status == 200, f"the complaint was not acknowledged in time: {reply.text}"
    assert reply.text.startswith("Logged *C-10*")
    assert not stall.answered.is_set(), f"the complaint waited until Slack answered {method}"

    stall.release()
    finish()
    [report] = delivered(slack)
    # What the held call answered reached the report: Bob counted as staff, or OWNER's name.
    unrecognised = "(2): Alice, Bob" if method == "conversations.members" else "(1): Alice"
    assert f"*Active but not recognised in 30 days* {unrecognised}" in report
