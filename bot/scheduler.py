"""The background tick: every minute, run each scheduled job once.

Jobs decide for themselves what is due from the clock and the database (see
bot/reminders.py and bot/digest.py) and claim each send in the database ledger, so
this loop holds no state: any number of processes may run it, a restart loses
nothing, and a digest that fell due while the bot was down goes out on the first tick.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence

from bot.metrics import SCHEDULED_JOB_FAILURES, SCHEDULED_JOB_RUNS

logger = logging.getLogger("servicedesk.scheduler")

Job = Callable[[], None]
TICK_SECONDS = 60


def run_jobs(jobs: Sequence[Job]) -> None:
    """Run every job once; one failing job does not stop the others."""
    for job in jobs:
        name = job_name(job)
        SCHEDULED_JOB_RUNS.labels(name).inc()
        try:
            job()
        except Exception:  # noqa: BLE001 — logged, and tried again on the next tick
            SCHEDULED_JOB_FAILURES.labels(name).inc()
            logger.exception("scheduled job %s failed", name)


def every(seconds: float, job: Job) -> Job:
    """Mark `job` to run every `seconds` instead of every tick (a job that must follow
    up sooner than a minute, like the team copies' retry)."""
    job.every_seconds = seconds
    return job


def job_name(job: Job) -> str:
    """A function's name, or the class of a callable object: a few fixed names (a metric label)."""
    return getattr(job, "__name__", type(job).__name__)


class Ticker:
    def __init__(self, jobs: Sequence[Job], *, interval: float = TICK_SECONDS, first_after: float = 0.0) -> None:
        """`first_after`: seconds before the first tick (a worker just started answers first)."""
        self.jobs = jobs
        self.interval = interval
        self.first_after = first_after
        self._stopped = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> Ticker:
        self._thread = threading.Thread(target=self._loop, daemon=True, name="servicedesk-scheduler")
        self._thread.start()
        return self

    def _loop(self) -> None:
        if self._stopped.wait(self.first_after):
            return
        due_at = [0.0] * len(self.jobs)
        while not self._stopped.is_set():
            now = time.monotonic()
            due = [index for index, at in enumerate(due_at) if at <= now]
            run_jobs([self.jobs[index] for index in due])
            for index in due:
                due_at[index] = now + getattr(self.jobs[index], "every_seconds", self.interval)
            self._stopped.wait(max(min(due_at, default=now + self.interval) - time.monotonic(), 0.0))

    def stop(self) -> None:
        self._stopped.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
