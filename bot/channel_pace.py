"""Pacing posts to a Slack channel: about one message per second per channel is what
chat.postMessage allows, short bursts above it tolerated (FACTS.md, rate limits).

A token bucket per channel, shared by the threads of one process. A post takes the
next free slot if it is near enough (`reserve`), else it is left for later rather
than queued in memory: the team copies that cannot go at once are posted by the
retry job at the pace (bot/team_copies.py), so a burst never makes the publisher
threads sleep in a long line or Slack answer 429 after 429. When Slack does answer
429, `hold` keeps every post of this process back for its Retry-After.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from slack_sdk.http_retry.handler import RetryHandler
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState

# Posts one channel may take at once before the pace applies.
BURST = 3


class ChannelPacer:
    def __init__(self, per_second: float, *, burst: int = BURST, monotonic: Callable[[], float] = time.monotonic) -> None:
        self.interval = 1.0 / per_second
        self.burst = burst
        self._monotonic = monotonic
        self._lock = threading.Lock()
        # Per channel: when the bucket would be full again (the last slot handed out, plus the burst).
        self._next_free: dict[str, float] = {}
        self._held_until = 0.0

    def reserve(self, channel: str, *, max_wait: float | None) -> float | None:
        """Take a slot in `channel`: the seconds to wait before posting, or None (nothing
        taken) when the slot is further away than `max_wait` (None: any wait)."""
        with self._lock:
            now = self._monotonic()
            earliest = now - (self.burst - 1) * self.interval
            slot = max(self._next_free.get(channel, earliest), earliest, self._held_until)
            wait = max(slot - now, 0.0)
            if max_wait is not None and wait > max_wait:
                return None
            self._next_free[channel] = slot + self.interval
            return wait

    def backlog(self, channel: str) -> float:
        """Seconds until every slot handed out in `channel` (and any hold) is past: when a
        post left for later will surely find the channel free."""
        with self._lock:
            now = self._monotonic()
            return max(self._next_free.get(channel, now) - now, self._held_until - now, 0.0)

    def hold(self, seconds: float) -> None:
        with self._lock:
            self._held_until = max(self._held_until, self._monotonic() + seconds)


def retry_after_seconds(response: HttpResponse) -> float:
    for name, values in response.headers.items():
        if name.lower() == "retry-after" and values:
            try:
                return float(values[0] if isinstance(values, list) else values)
            except ValueError:
                break
    return 1.0


class RetryAfterHold(RetryHandler):
    """Sees every answer (put it before the handler that retries 429s) and, on a 429 to
    chat.postMessage, holds this process's posts for Slack's Retry-After; never retries."""

    def __init__(self, pacer: ChannelPacer) -> None:
        super().__init__(max_retry_count=0)
        self.pacer = pacer

    def can_retry(self, *, state: RetryState, request: HttpRequest, response: HttpResponse | None = None,
                  error: Exception | None = None) -> bool:
        if response is not None and response.status_code == 429 and request.url.endswith("chat.postMessage"):
            self.pacer.hold(retry_after_seconds(response))
        return False
