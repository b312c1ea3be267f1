"""`scripts/try`, then typing in a live terminal: every command is saved, in this
session and the next one on the same database (issue 12, "Done when").

`scripts/try` plays the sample scenario and then runs `servicedesk console` at the
prompt. Here the prompt is a real pseudo-terminal (stdlib `pty`), so the console takes
the interactive path it takes for a person (readline, `input()` prompts), and each
command is typed only once the prompt for it is shown.
"""

from __future__ import annotations

import os
import pty
import re
import select
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlmodel import select as query

from bot.app.console.workspace import PEOPLE
from models.complaints import Complaint, ComplaintEvent
from models.kudos import Recognition

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "scenarios" / "sample.txt"
CONSOLE = [sys.executable, "-m", "bot.app.cli", "console"]
PROMPT = re.compile(r"(?m)^(?:" + "|".join(PEOPLE) + r")> ")
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b[=>]")
TIMEOUT = 60

pytestmark = pytest.mark.skipif(not hasattr(pty, "openpty"), reason="needs a pseudo-terminal (POSIX)")


class Terminal:
    """`servicedesk console` on a pseudo-terminal, typed into line by line."""

    def __init__(self, database_url: str, cwd: Path) -> None:
        controller, terminal = pty.openpty()
        self.controller, self.transcript = controller, ""
        env = {**os.environ, "TERM": "dumb", "COLUMNS": "200"}
        self.process = subprocess.Popen([*CONSOLE, "--db", database_url], stdin=terminal, stdout=terminal,
                                        stderr=terminal, cwd=cwd, env=env, close_fds=True)
        os.close(terminal)
        self.prompts = 0
        self.wait_for_prompt()

    def read(self, seconds: float) -> bool:
        """Read what the console printed within `seconds`; False once it has closed."""
        ready, _, _ = select.select([self.controller], [], [], seconds)
        if not ready:
            return True
        try:
            chunk = os.read(self.controller, 65536)
        except OSError:  # the console exited and closed the terminal
            return False
        self.transcript += ANSI.sub("", chunk.decode("utf-8", "replace").replace("\r", ""))
        return bool(chunk)

    def wait_for_prompt(self) -> None:
        deadline = time.monotonic() + TIMEOUT
        while len(PROMPT.findall(self.transcript)) <= self.prompts:
            assert time.monotonic() < deadline, f"no prompt came:\n{self.transcript[-3000:]}"
            assert self.read(0.2), f"the console closed:\n{self.transcript[-3000:]}"
        self.prompts += 1

    def type(self, line: str) -> None:
        os.write(self.controller, (line + "\n").encode("utf-8"))
        self.wait_for_prompt()

    def quit(self) -> str:
        os.write(self.controller, b"quit\n")
        deadline = time.monotonic() + TIMEOUT
        while self.read(0.2) and self.process.poll() is None:
            assert time.monotonic() < deadline, "the console did not quit"
        assert self.process.wait(timeout=TIMEOUT) == 0, self.transcript[-3000:]
        os.close(self.controller)
        return self.transcript


def live_session(database_url: str, cwd: Path, lines: list[str]) -> str:
    terminal = Terminal(database_url, cwd)
    try:
        for line in lines:
            terminal.type(line)
        return terminal.quit()
    finally:
        if terminal.process.poll() is None:
            terminal.process.kill()


def test_typed_commands_after_the_sample_are_all_saved_across_two_live_sessions(database_url, open_session, tmp_path):
    # What scripts/try does first: play the sample (here on the test's database).
    sample = subprocess.run([*CONSOLE, "--db", database_url, str(SAMPLE)], capture_output=True, text=True,
                            cwd=tmp_path, timeout=120)
    assert sample.returncode == 0, sample.stderr
    first = live_session(database_url, tmp_path, [
        "/complaint !high #billing refund never arrived for order 77",
        "as bob",
        "press Take ownership",
        "/complaint note C-3 typed in a terminal",
        "/complaint note C-1 Jane called again",
        "/complaint",
        'submit description="Box crushed on order 78" category=delivery',
    ])
    second = live_session(database_url, tmp_path, [
        "/complaint !low #website login page is slow",
        "as carol",
        "press Take ownership",
        "/complaint note C-5 asked for a screenshot",
        "/complaint note C-1 refund confirmed by the bank",
        "/complaint resolve C-5 cleared the cache",
        "/kudos @bob #ownership took C-3 at once",
    ])

    for out in (first, second):
        assert "Already done" not in out and "Slack would reject" not in out and "I don't know" not in out
        assert "Logged *C-" in out
    with open_session() as session:
        complaints = session.exec(query(Complaint).order_by(Complaint.id)).all()
        notes = session.exec(query(ComplaintEvent.complaint_id, ComplaintEvent.note)
                             .where(ComplaintEvent.kind == "noted").order_by(ComplaintEvent.id)).all()
        kudos = session.exec(query(Recognition)).all()
    assert [(c.reference, c.description, c.owner_id, c.reporter_id) for c in complaints[2:]] == [
        ("C-3", "refund never arrived for order 77", "U0BOB", "U0ALICE"),
        ("C-4", "Box crushed on order 78", "U0BOB", "U0BOB"),
        ("C-5", "login page is slow", "U0CAROL", "U0ALICE"),
    ]
    assert (complaints[4].status, complaints[4].resolution) == ("resolved", "cleared the cache")
    assert [(f"C-{complaint_id}", note) for complaint_id, note in notes] == [
        ("C-3", "typed in a terminal"), ("C-1", "Jane called again"),
        ("C-5", "asked for a screenshot"), ("C-1", "refund confirmed by the bank"),
    ]
    assert [(r.giver_id, r.recipient_id, r.complaint_id) for r in kudos if r.reason == "took C-3 at once"] == [
        ("U0CAROL", "U0BOB", 3)]
