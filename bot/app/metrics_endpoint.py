"""/metrics: the counts of bot/metrics.py in Prometheus' text format, for the whole server.

With one process the counts are this process's. Under gunicorn with several
workers each worker counts into files of its own in a shared directory
(PROMETHEUS_MULTIPROC_DIR), and whichever worker is asked adds them all up:
`servicedesk run` makes that directory for its run and removes it afterwards, unless
one is given. The gauge of team copies waiting is read from the database at most
every half minute, whichever process answers.
"""

from __future__ import annotations

import glob
import hmac
import logging
import os
import shutil
import tempfile
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from http import HTTPStatus

from prometheus_client import REGISTRY, CollectorRegistry, multiprocess
from prometheus_client import make_wsgi_app as prometheus_wsgi_app

from bot import metrics
from bot.app.inbound import Refused
from bot.config import SettingsError
from bot.services import Services
from bot.team_copies import waiting_count

logger = logging.getLogger("servicedesk")
WAITING_TTL_SECONDS = 30.0


def metrics_endpoint(services: Services) -> Callable:
    """The WSGI app answering GET /metrics (behind METRICS_TOKEN when that is set)."""
    registry = CollectorRegistry()
    if metrics.shared_between_processes():
        SettledFilesCollector(registry)
    else:
        registry.register(REGISTRY)
    if services.settings.complaints_channel:
        registry.register(metrics.CachedGauge(
            metrics.TEAM_COPIES_WAITING, "Complaints of the last week whose team copy is not posted yet",
            lambda: waiting_count(services.open_session, now=services.clock()),
            ttl=WAITING_TTL_SECONDS,
            # The services' clock, so tests move time instead of waiting out the cache.
            monotonic=lambda: services.clock().timestamp(),
        ))
    exposition = prometheus_wsgi_app(registry)
    token = services.settings.metrics_token

    def answer(environ: dict, start_response: Callable) -> Iterable[bytes]:
        if token and not _bearer_matches(environ.get("HTTP_AUTHORIZATION", ""), token):
            raise Refused(HTTPStatus.UNAUTHORIZED, "a bearer token is required (METRICS_TOKEN)",
                          headers=(("WWW-Authenticate", "Bearer"),))
        return exposition(environ, start_response)

    return answer


class SettledFilesCollector(multiprocess.MultiProcessCollector):
    """prometheus_client's collector of the workers' files, leaving out one that a process
    is creating at that moment: it is empty for an instant (before its first page is
    allocated), and reading it would fail the whole scrape."""

    def collect(self):
        files = [path for path in glob.glob(os.path.join(self._path, "*.db")) if _size(path) > 0]
        return self.merge(files, accumulate=True)


def _size(path: str) -> int:
    try:
        return os.path.getsize(path)
    except OSError:  # gone since it was listed
        return 0


def _bearer_matches(header: str, token: str) -> bool:
    scheme, _, given = header.partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), token.encode())


@contextmanager
def counts_shared_by_workers(workers: int) -> Iterator[bool]:
    """Around serving with `workers` gunicorn workers: whether the counts go to shared files.

    A directory given in PROMETHEUS_MULTIPROC_DIR is used as it is (whoever set it
    empties it between runs); otherwise, with more than one worker, one is made for
    this run, before the workers fork, and removed when the server stops.
    """
    given = os.environ.get(metrics.MULTIPROCESS_DIRECTORY)
    if given:
        if not os.path.isdir(given):
            raise SettingsError(f"{metrics.MULTIPROCESS_DIRECTORY} is invalid: {given!r} is not a directory")
        yield True
        return
    if workers == 1:
        yield False
        return
    directory = tempfile.mkdtemp(prefix="servicedesk-metrics-")
    metrics.share_between_processes(directory)
    logger.info("the %d workers count into %s for /metrics (removed when the server stops)", workers, directory)
    server = os.getpid()
    try:
        yield True
    finally:
        # A worker leaves through here too (gunicorn ends it with SystemExit); only the
        # server that made the directory removes it, or the next workers have none.
        if os.getpid() == server:
            metrics.share_between_processes(None)
            shutil.rmtree(directory, ignore_errors=True)


def forget_worker(server, worker) -> None:
    """gunicorn's `child_exit` hook: a dead worker's live gauges no longer count."""
    multiprocess.mark_process_dead(worker.pid)
