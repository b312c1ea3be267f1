"""Every metric the bot exposes at /metrics, in one place (Prometheus, through prometheus_client).

Handlers, the domain and the entry points all count here, so this module imports
nothing of the project. Every metric has labels, and every label has a bounded set
of values (an ID nobody registered counts as "other"): a label value is a time
series of its own, and strangers' requests must not be able to create them.

Under gunicorn each worker counts for itself; `share_between_processes` keeps the
counts in files that the /metrics of any worker adds up (prometheus_client's
multiprocess mode).
"""

from __future__ import annotations

import logging
import os
import re
import threading
import time
from collections.abc import Callable, Collection, Iterator

from prometheus_client import Counter, Histogram, values
from prometheus_client.core import GaugeMetricFamily, Metric

logger = logging.getLogger(__name__)
OTHER = "other"
MULTIPROCESS_DIRECTORY = "PROMETHEUS_MULTIPROC_DIR"

REQUESTS = Counter(
    "servicedesk_requests", "Slack requests that reached the listeners, by kind and listener", ["kind", "listener"]
)
REQUEST_ERRORS = Counter(
    "servicedesk_request_errors", "Slack requests whose listener failed, by kind and listener", ["kind", "listener"]
)
ACK_SECONDS = Histogram(
    "servicedesk_ack_seconds", "Seconds from receiving a Slack request to acknowledging it (Slack waits 3)",
    ["kind", "listener"], buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 3.0, 5.0),
)
SLACK_API_REQUESTS = Counter(
    "servicedesk_slack_api_requests", "HTTP requests to Slack's Web API (every attempt, retries too), by method",
    ["method"],
)
SLACK_API_ERRORS = Counter(
    "servicedesk_slack_api_errors",
    "Web API requests that failed, by method and error (Slack's error code, http_<status>, timeout or connection_error)",
    ["method", "error"],
)
TEAM_COPY_POSTS = Counter(
    "servicedesk_team_copy_posts", "Attempts to post a complaint's team copy, by outcome (posted, failed)", ["outcome"]
)
SCHEDULED_JOB_RUNS = Counter("servicedesk_scheduled_job_runs", "Scheduled job runs, by job", ["job"])
SCHEDULED_JOB_FAILURES = Counter("servicedesk_scheduled_job_failures", "Scheduled job runs that failed, by job", ["job"])
KNOWLEDGE_SEARCHES = Counter(
    "servicedesk_knowledge_searches", "Knowledge-base questions, by outcome (answered, unanswered)", ["outcome"]
)
TEAM_COPIES_WAITING = "servicedesk_team_copies_waiting"

SLACK_ERROR_CODE = re.compile(r"[a-z0-9_]{1,60}")
SLACK_METHOD = re.compile(r"[A-Za-z]+(\.[A-Za-z]+)+")


def bounded(value: object, allowed: Collection[str]) -> str:
    """`value` if it is one of `allowed`, else "other"."""
    return value if isinstance(value, str) and value in allowed else OTHER


def slack_method(name: str) -> str:
    return name if SLACK_METHOD.fullmatch(name) and len(name) <= 60 else OTHER


def slack_error(code: object) -> str:
    """Slack's error codes are short snake_case words; anything else is "other"."""
    return code if isinstance(code, str) and SLACK_ERROR_CODE.fullmatch(code) else OTHER


class CachedGauge:
    """A gauge read from somewhere costly (the database) at most once per `ttl` seconds,
    when /metrics is scraped; if the read fails, the gauge is left out of that scrape."""

    def __init__(self, name: str, documentation: str, read: Callable[[], float], *,
                 ttl: float = 30.0, monotonic: Callable[[], float] = time.monotonic) -> None:
        self.name, self.documentation, self.read = name, documentation, read
        self.ttl, self.monotonic = ttl, monotonic
        self._value: float | None = None
        self._read_at = float("-inf")
        self._lock = threading.Lock()

    def collect(self) -> Iterator[Metric]:
        with self._lock:
            if self.monotonic() - self._read_at >= self.ttl:
                try:
                    self._value = float(self.read())
                except Exception as exc:  # noqa: BLE001 — a scrape must not fail for one gauge
                    logger.warning("could not read %s: %s", self.name, exc)
                    self._value = None
                self._read_at = self.monotonic()
            value = self._value
        if value is not None:
            yield GaugeMetricFamily(self.name, self.documentation, value=value)


def share_between_processes(directory: str | None) -> None:
    """Keep every count in files under `directory`, for the processes forked after this
    (None: in this process's memory again).

    prometheus_client decides where counts live when it is first imported, and
    `servicedesk run` has imported it (through the commands) before it knows it will
    fork workers; so the decision is taken again here. No count exists yet: every
    metric above has labels, and a labelled metric holds no value until it is used.
    """
    if directory is None:
        os.environ.pop(MULTIPROCESS_DIRECTORY, None)
    else:
        os.environ[MULTIPROCESS_DIRECTORY] = directory
    values.ValueClass = values.get_value_class()


def shared_between_processes() -> bool:
    return bool(os.environ.get(MULTIPROCESS_DIRECTORY))
