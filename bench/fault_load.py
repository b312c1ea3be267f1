"""The parts of the fault run (bench/faults.py, tests/faults/): the real `servicedesk run`
as production runs it, signed Slack clients keeping it busy, and the counts taken
afterwards from the database and from what the fake Slack was sent.

Every complaint the load logs carries a marker of its own (`fault-<12 hex digits>`), so
each request can be matched with the rows it made: none, one, or (a duplicate) more.
"""

from __future__ import annotations

import os
import random
import re
import secrets
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import create_engine, text

from bot.app.console.loopback import SignedClient
from bot.app.console.slack_emulator import SlackEmulator
from handlers.ids import Block
from handlers.messaging import STORE_DOWN
from models.db import normalise_url
from tests.harness import ALICE, COMPLAINTS, GENERAL, SIGNING_SECRET
from tests.running import free_port, wait_until_healthy

MARKER = re.compile(r"fault-[0-9a-f]{12}")
CONFIRMED = re.compile(r"Logged \*(C-\d+)\*")
# People the load names as owners, so new owners' DMs go out too.
OWNERS = tuple((f"UOWNER{n:04d}", f"Owner{n}") for n in range(1, 9))


def add_owners(slack: SlackEmulator) -> None:
    for user_id, name in OWNERS:
        slack.add_user(user_id, name)


class RealServer:
    """`servicedesk run` (gunicorn, WEB_CONCURRENCY workers) in its own process group, so
    a SIGKILL takes the whole server, workers and all, as a crashed machine would."""

    def __init__(self, *, database_url: str, slack: SlackEmulator, workdir: Path, workers: int = 2) -> None:
        self.slack, self.workdir, self.port = slack, workdir, free_port()
        self.metrics_dir = workdir / "metrics"
        self.env = {
            **{name: value for name, value in os.environ.items()
               if name not in ("SLACK_APP_TOKEN", "PROMETHEUS_MULTIPROC_DIR", "prometheus_multiproc_dir")},
            "SLACK_BOT_TOKEN": "xoxb-fault-run", "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "SLACK_API_URL": slack.api_url, "DATABASE_URL": database_url, "HOST": "127.0.0.1",
            "PORT": str(self.port), "WEB_CONCURRENCY": str(workers), "COMPLAINTS_CHANNEL": COMPLAINTS,
            "KNOWLEDGE_DIR": str(workdir / "knowledge"), "PROMETHEUS_MULTIPROC_DIR": str(self.metrics_dir),
        }
        self.process: subprocess.Popen | None = None
        self.log = workdir / "server.log"

    def client(self) -> SignedClient:
        return SignedClient(f"http://127.0.0.1:{self.port}", SIGNING_SECRET, self.slack.response_url(),
                            user=ALICE, channel=GENERAL)

    def start(self) -> float:
        """Start it and return the seconds until /healthz answers 200."""
        # A killed server leaves its workers' count files behind; the next one starts afresh.
        shutil.rmtree(self.metrics_dir, ignore_errors=True)
        self.metrics_dir.mkdir(parents=True)
        started = time.monotonic()
        with self.log.open("a") as log:
            self.process = subprocess.Popen([sys.executable, "-m", "bot.app.cli", "run"], env=self.env,
                                            cwd=self.workdir, stdout=log, stderr=subprocess.STDOUT,
                                            start_new_session=True)
        wait_until_healthy(self.client(), self.process, timeout=60)
        return time.monotonic() - started

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()



@dataclass
class Sent:
    """One `/complaint` as the client saw it; status 0 is no answer (refused or cut off)."""

    marker: str
    owner: str
    started: float  # time.time(), comparable with the fake Slack's message timestamps
    seconds: float
    status: int
    text: str

    @property
    def reference(self) -> str:
        found = CONFIRMED.search(self.text) if self.status == 200 else None
        return found.group(1) if found else ""

    @property
    def try_again(self) -> bool:
        return self.status == 200 and STORE_DOWN in self.text


@dataclass
class Load:
    """`clients` threads sending `/complaint` with a unique marker each until stopped;
    every third names an owner (a DM to send)."""

    server: RealServer
    clients: int = 4
    pause: float = 0.05
    sent: list[Sent] = field(default_factory=list)
    _stopped: threading.Event = field(default_factory=threading.Event)
    _threads: list[threading.Thread] = field(default_factory=list)

    def __enter__(self) -> Load:
        self._threads = [threading.Thread(target=self._run, daemon=True) for _ in range(self.clients)]
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stopped.set()
        for thread in self._threads:
            thread.join(timeout=30)

    def _run(self) -> None:
        number = 0
        while not self._stopped.is_set():
            number += 1
            marker = f"fault-{secrets.token_hex(6)}"
            owner, name = random.choice(OWNERS) if number % 3 == 0 else ("", "")
            typed = f"#billing charged twice {marker}" + (f" <@{owner}|{name.lower()}>" if owner else "")
            started, clock = time.time(), time.monotonic()
            try:
                reply = self.server.client().command(typed)
                status, answer = reply.status, reply.text
            except OSError as exc:  # refused, reset or timed out: Slack shows the user an error
                status, answer = 0, type(exc).__name__
            self.sent.append(Sent(marker, owner, started, time.monotonic() - clock, status, answer))
            self._stopped.wait(self.pause)


def _query(database_url: str, sql: str) -> list:
    engine = create_engine(normalise_url(database_url))
    try:
        with engine.connect() as connection:
            return connection.execute(text(sql)).all()
    finally:
        engine.dispose()


def stored_markers(database_url: str) -> Counter:
    descriptions = (row.description for row in _query(database_url, "SELECT description FROM complaint"))
    return Counter(found.group(0) for description in descriptions if (found := MARKER.search(description)))


def owner_notice_ledger(database_url: str) -> Counter:
    """How many new owners' DMs the ledger holds, by status (sent, failed: to retry, sending)."""
    rows = _query(database_url, "SELECT status, count(*) AS n FROM notification WHERE kind = 'owner notice' GROUP BY status")
    return Counter({row.status: row.n for row in rows})


@dataclass
class Tally:
    sent: int
    acknowledged: int
    stored: int
    lost: int  # acknowledged, not stored
    duplicated: int  # stored more than once
    unanswered: int
    unanswered_but_saved: int
    try_again: int
    try_again_but_saved: int  # told "try again" although it was saved: both
    neither: int  # answered, neither acknowledged nor "try again", yet not saved
    server_errors: int  # HTTP 5xx
    slowest: float  # seconds, of every answered request


def tally(database_url: str, sent: list[Sent]) -> Tally:
    stored = stored_markers(database_url)
    acknowledged = [s for s in sent if s.reference]
    unanswered = [s for s in sent if s.status == 0]
    try_again = [s for s in sent if s.try_again]
    return Tally(
        sent=len(sent), acknowledged=len(acknowledged), stored=sum(1 for s in sent if stored[s.marker]),
        lost=sum(1 for s in acknowledged if not stored[s.marker]),
        duplicated=sum(1 for s in sent if stored[s.marker] > 1),
        unanswered=len(unanswered), unanswered_but_saved=sum(1 for s in unanswered if stored[s.marker]),
        try_again=len(try_again), try_again_but_saved=sum(1 for s in try_again if stored[s.marker]),
        neither=sum(1 for s in sent if s.status and not s.reference and not s.try_again),
        server_errors=sum(1 for s in sent if s.status >= 500),
        slowest=max((s.seconds for s in sent if s.status), default=0.0),
    )


def team_copies(slack: SlackEmulator) -> dict[str, list[float]]:
    """Complaint reference -> the timestamps of its copies in the team channel (known by
    the buttons, which carry the complaint's ID)."""
    copies: dict[str, list[float]] = {}
    for (channel, ts), message in list(slack.messages.items()):
        if channel != COMPLAINTS:
            continue
        for block in message.get("blocks") or []:
            if block.get("block_id") == Block.ACTIONS:
                values = {element.get("value") for element in block.get("elements") or []}
                for value in values - {None}:
                    copies.setdefault(f"C-{value}", []).append(float(ts))
    return copies


def owner_dms(slack: SlackEmulator) -> Counter:
    """(owner, reference) -> how many "made you the owner" DMs Slack took."""
    told: Counter = Counter()
    for (channel, _), message in list(slack.messages.items()):
        found = re.search(r"made you the owner of \*(C-\d+)\*", message.get("text", ""))
        if channel.startswith("D") and found:
            told["U" + channel[1:], found.group(1)] += 1
    return told


def stored_references(database_url: str) -> dict[str, str]:
    """Reference -> owner of every complaint the load made."""
    rows = _query(database_url, "SELECT id, owner_id, description FROM complaint")
    return {f"C-{row.id}": row.owner_id for row in rows if MARKER.search(row.description)}
