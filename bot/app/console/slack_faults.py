"""The faults the Slack emulator (slack_emulator.py) can be told to play.

Per method: a failure (`fail("chat.postMessage", "channel_not_found")`, or HTTP 429 with
Retry-After), a stall (`stall("users.info", seconds=5)`: its next call is held until the
time is up or the stall is released), or a cut (`cut("chat.postMessage")`: the next
call is carried out — the message is posted — and then the connection is closed with no
answer, as when a network breaks after Slack acted, so the bot cannot know it did).
For the whole Web API at once (the fault run, bench/faults.py): every call failing alike
(`break_all`), held (`stall_all`) or cut (`cut_all`), until `mend()`; no connection
accepted at all is the emulator's own `refuse_connections()`.
"""

from __future__ import annotations

import threading
from collections import defaultdict, deque
from dataclasses import dataclass, field


@dataclass
class Failure:
    error: str
    status: int = 200
    retry_after: int | None = None


@dataclass
class Stall:
    """One call held for up to `seconds`: `held` is set when it arrives, `answered` once it
    has been let go (time up, or `release()`)."""

    seconds: float
    held: threading.Event = field(default_factory=threading.Event)
    answered: threading.Event = field(default_factory=threading.Event)
    _released: threading.Event = field(default_factory=threading.Event)

    def release(self) -> None:
        self._released.set()

    def hold(self) -> None:
        self.held.set()
        self._released.wait(self.seconds)
        self.answered.set()


@dataclass
class Faults:
    """What the next call to a method meets; taken (and used up) one call at a time."""

    failure: Failure | None = None
    stall: Stall | None = None
    stall_seconds: float = 0.0
    cut: bool = False


class FaultControls:
    """The test controls of the emulator's faults (mixed into SlackEmulator, which has `_lock`)."""

    _lock: threading.Lock

    def _init_faults(self) -> None:
        self._failures: dict[str, deque[Failure]] = defaultdict(deque)
        self._stalls: dict[str, deque[Stall]] = defaultdict(deque)
        self._cuts: dict[str, int] = defaultdict(int)
        # Faults of the whole Web API (response URLs keep working: they are another host).
        self._outage: Failure | None = None
        self._stall_seconds = 0.0
        self._cut_all = False

    def fail(self, method: str, error: str = "channel_not_found", *, status: int = 200,
             retry_after: int | None = None, times: int = 1) -> None:
        for _ in range(times):
            self._failures[method].append(Failure(error, status, retry_after))

    def stall(self, method: str, *, seconds: float = 5.0) -> Stall:
        """Hold the next call to `method` for `seconds`, or until the stall is released."""
        stall = Stall(seconds)
        with self._lock:
            self._stalls[method].append(stall)
        return stall

    def cut(self, method: str, *, times: int = 1) -> None:
        """Carry out the next `times` calls to `method`, then close each one's connection
        without answering."""
        with self._lock:
            self._cuts[method] += times

    def break_all(self, error: str = "internal_error", *, status: int = 200, retry_after: int | None = None) -> None:
        """Every Web API call fails with `error` (and HTTP `status`) until `mend()`."""
        self._outage = Failure(error, status, retry_after)

    def stall_all(self, seconds: float) -> None:
        """Every Web API call is answered `seconds` late until `mend()`."""
        self._stall_seconds = seconds

    def cut_all(self) -> None:
        """Every Web API call is carried out and then cut off unanswered until `mend()`."""
        self._cut_all = True

    def mend(self) -> None:
        self._outage, self._stall_seconds, self._cut_all = None, 0.0, False

    def _take_faults(self, method: str) -> Faults:
        with self._lock:
            cut = self._cut_all or self._cuts[method] > 0
            if self._cuts[method] > 0:
                self._cuts[method] -= 1
            return Faults(
                failure=self._failures[method].popleft() if self._failures[method] else self._outage,
                stall=self._stalls[method].popleft() if self._stalls[method] else None,
                stall_seconds=self._stall_seconds,
                cut=cut,
            )
