"""No complaint is acknowledged before it is committed, shown on the real `servicedesk run`
(gunicorn, two workers) killed with SIGKILL while requests are in flight: afterwards
every request answered "Logged" has its row, and no row is there twice.

First, every write is held by another transaction, so that each complaint sent is
queued and not committed when the server is killed: none may have been acknowledged.
Then a burst is cut short by the kill at a moment nobody chose.
"""

from __future__ import annotations

import http.client
import os
import re
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import create_engine, text

from tests.harness import ALICE, SIGNING_SECRET, SignedClient
from tests.running import free_port, wait_until_healthy
from tests.test_group_commit import writes_held

MARKER = re.compile(r"order (\S+)$")


def start_server(database_url: str, slack, tmp_path) -> tuple[subprocess.Popen, SignedClient]:
    port = free_port()
    env = {
        **os.environ, "SLACK_BOT_TOKEN": "xoxb-test", "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": slack.api_url, "DATABASE_URL": database_url, "HOST": "127.0.0.1", "PORT": str(port),
        "WEB_CONCURRENCY": "2", "COMPLAINTS_CHANNEL": "", "SCHEDULER_ENABLED": "false",
    }
    env.pop("SLACK_APP_TOKEN", None)
    # A session of its own, so that the kill takes gunicorn's workers with it.
    server = subprocess.Popen([sys.executable, "-m", "bot.app.cli", "run"], env=env, cwd=tmp_path,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    client = SignedClient(f"http://127.0.0.1:{port}", SIGNING_SECRET, slack.response_url(), user=ALICE)
    wait_until_healthy(client, server)
    return server, client


def kill(server: subprocess.Popen) -> None:
    os.killpg(server.pid, signal.SIGKILL)
    server.wait(timeout=30)


def send(client: SignedClient, marker: str) -> str | None:
    """The marker when the complaint was acknowledged as logged, else None (no answer)."""
    try:
        reply = client.command(f"!high #billing charged twice for order {marker}")
    except (OSError, http.client.HTTPException):  # the connection broke: killed before (or while) answering
        return None
    return marker if reply.status == 200 and reply.text.startswith("Logged *C-") else None


def saved_markers(database_url: str) -> list[str]:
    engine = create_engine(database_url)
    with engine.connect() as connection:
        descriptions = connection.execute(text("SELECT description FROM complaint")).scalars().all()
    engine.dispose()
    return [MARKER.search(description).group(1) for description in descriptions]


def test_a_complaint_is_never_acknowledged_before_its_commit(database_url, slack, tmp_path):
    server, client = start_server(database_url, slack, tmp_path)
    try:
        assert send(client, "warm-0") == "warm-0"  # both workers may have their connection by now
        with ThreadPoolExecutor(max_workers=8) as pool:
            with writes_held(database_url):
                queued = [pool.submit(send, client, f"held-{n}") for n in range(8)]
                time.sleep(1.5)  # each request reaches its worker's writer and waits behind the lock
                assert not any(future.done() for future in queued), "answered while its write was held"
                kill(server)
                answers = [future.result(timeout=30) for future in queued]
        assert answers == [None] * 8
        assert saved_markers(database_url) == ["warm-0"]

        server, client = start_server(database_url, slack, tmp_path)
        with ThreadPoolExecutor(max_workers=8) as pool:
            burst = [pool.submit(send, client, f"burst-{n}") for n in range(200)]
            while sum(future.done() for future in burst) < 20:
                time.sleep(0.01)
            kill(server)
            acknowledged = {future.result(timeout=30) for future in burst} - {None}
    finally:
        if server.poll() is None:
            kill(server)
    saved = saved_markers(database_url)
    assert len(saved) == len(set(saved)), "a complaint saved twice"
    assert acknowledged and acknowledged <= set(saved), acknowledged - set(saved)
    assert len(acknowledged) < 200, "the kill came after the whole burst: nothing was cut short"
