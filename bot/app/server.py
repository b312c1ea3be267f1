"""Serving the app: HTTP through gunicorn, or Socket Mode; and `servicedesk run`.

HTTP mode serves Slack's requests at `/slack/events`, a health check at `/healthz`,
the metrics at `/metrics`, and, when PUBLIC_URL is set, the customers' side (survey
pages and the intake API, a Flask app: bot/app/web/) at every other path. gunicorn
runs `WEB_CONCURRENCY` worker processes with threads, forked from a master that built
the app before listening (`PreforkedApp`); each worker opens its own database
connections after the fork (they must not be
shared across processes), and finishes requests in flight on SIGTERM.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterable
from http import HTTPStatus

from slack_bolt import App
from slack_bolt.adapter.wsgi.http_response import WsgiHttpResponse
from sqlalchemy import text

from bot.app.factory import create_app
from bot.app.inbound import MAX_BODY_BYTES, Refused, slack_request
from bot.app.listener_metrics import RECEIVED_AT
from bot.app.logs import REQUEST_ID, REQUEST_ID_HEADER, configure_logging, gunicorn_logging, new_request_id
from bot.app.metrics_endpoint import counts_shared_by_workers, forget_worker, metrics_endpoint
from bot.services import Services, build_services
from bot.config import Settings, load_settings
from bot.scheduler import Ticker
from models.db import make_engine, upgrade, wait_for_database

logger = logging.getLogger("servicedesk")
SLACK_PATH = "/slack/events"
HEALTH_PATH = "/healthz"
METRICS_PATH = "/metrics"


def make_wsgi_app(
    app: App, engine, *, signing_secret: str, max_body_bytes: int = MAX_BODY_BYTES, metrics: Callable | None = None,
    web: Callable | None = None,
) -> Callable:
    """The WSGI application: Bolt at /slack/events, a database-checking /healthz,
    `metrics` (bot/app/metrics_endpoint.py) at /metrics when given, and `web` (the
    Flask app of bot/app/web/, which routes its own paths) for every other path when given.

    Whatever arrives, the answer is a plain HTTP response from here, never an error
    page from the server: 404 for an unknown path, 405 for a wrong method, and the 4xx
    of `bot.app.inbound` for a request Bolt should not see. Every request gets an id,
    on each of its log lines and in the `X-Request-Id` header of the answer.
    """

    def wsgi(environ: dict, start_response: Callable) -> Iterable[bytes]:
        received_at = time.perf_counter()
        request_id = new_request_id()
        token = REQUEST_ID.set(request_id)

        def start(status: str, headers: list, exc_info=None):
            return start_response(status, [*headers, (REQUEST_ID_HEADER, request_id)], exc_info)

        try:
            return _route(environ, start, received_at)
        finally:
            REQUEST_ID.reset(token)

    def _route(environ: dict, start_response: Callable, received_at: float) -> Iterable[bytes]:
        method, path = environ.get("REQUEST_METHOD", ""), environ.get("PATH_INFO", "")
        try:
            if path == HEALTH_PATH:
                _allow(method, "GET")
                return _health(engine, start_response)
            if path == METRICS_PATH and metrics is not None:
                _allow(method, "GET")
                return metrics(environ, start_response)
            if path != SLACK_PATH and web is not None:
                return web(environ, start_response)
            if path != SLACK_PATH:
                raise Refused(HTTPStatus.NOT_FOUND, "not found")
            _allow(method, "POST")
            request = slack_request(environ, signing_secret=signing_secret, max_body_bytes=max_body_bytes)
            request.context[RECEIVED_AT] = received_at
            answer = app.dispatch(request)
            response = WsgiHttpResponse(status=answer.status, headers=answer.headers, body=answer.body)
            start_response(response.status, response.get_headers())
            return response.get_body()
        except Refused as refusal:
            # One line, the path quoted: strangers' requests must not write tracebacks or lines of their own.
            logger.warning("refused %s %r: %s", method[:10], path[:200], refusal.reason)
            return _plain(start_response, refusal.status, refusal.reason, refusal.headers)
        except Exception:  # noqa: BLE001 — the server would answer its own HTML 500 page instead
            logger.exception("could not handle %s %r", method[:10], path[:200])
            return _plain(start_response, HTTPStatus.BAD_REQUEST, "this request could not be handled", (),
                          exc_info=sys.exc_info())

    return wsgi


def _allow(method: str, *allowed: str) -> None:
    if method not in allowed:
        raise Refused(HTTPStatus.METHOD_NOT_ALLOWED, f"use {' or '.join(allowed)}", headers=(("Allow", ", ".join(allowed)),))


def _health(engine, start_response: Callable) -> Iterable[bytes]:
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception as exc:  # noqa: BLE001 — any failure means unhealthy
        logger.warning("health check failed: %s", exc)
        return _plain(start_response, HTTPStatus.SERVICE_UNAVAILABLE, "database unavailable")
    return _plain(start_response, HTTPStatus.OK, "ok")


def _plain(start_response: Callable, status: HTTPStatus, message: str, headers=(), exc_info=None) -> list[bytes]:
    body = f"{message}\n".encode()
    start_response(
        f"{status.value} {status.phrase}",
        [("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", str(len(body))), *headers],
        exc_info,
    )
    return [body]


def build_app(settings: Settings, services: Services) -> tuple[App, Services]:
    """The app and its services, with the scheduler ticking in this process when SCHEDULER_ENABLED."""
    app, services = create_app(settings, services=services)
    if settings.scheduler_enabled:
        Ticker(services.scheduled_jobs).start()
    return app, services


def web_side(app: App, services: Services) -> Callable | None:
    """The customers' pages and API for `app`, or None when PUBLIC_URL is not set."""
    if not services.settings.web_enabled:
        return None
    from bot.app.web import create_web_app

    return create_web_app(services, app.client)


# A worker's first tick runs every job for the first time (statements compiled, modules
# loaded, whatever fell due while the server was down): left this long, it does not
# compete for the interpreter with the first requests a restarted server takes.
FIRST_TICK_AFTER = 5.0


class PreforkedApp:
    """The WSGI app, built in gunicorn's master before it listens (`preload_app`), so a
    (re)started server refuses connections until its workers can answer at once,
    instead of holding early requests in the listen queue while each worker builds its
    app (seconds on a loaded machine, past Slack's 3 s for the first of them).

    Nothing built here holds what a fork must not share: the engine has connected to
    nothing yet (it is disposed of in each worker all the same), thread pools start
    their threads on first use, and each worker starts its own scheduler (`after_fork`).
    A thread started while building would not exist in the workers (a fork copies only
    the thread that forks): anything that needs one starts it in `after_fork`.
    """

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.engine = make_engine(settings.database_url)
        self.services = build_services(settings, engine=self.engine)
        app, self.services = create_app(settings, services=self.services, signed_upstream=True)
        self.wsgi = make_wsgi_app(app, self.engine, signing_secret=settings.slack_signing_secret,
                                  metrics=metrics_endpoint(self.services), web=web_side(app, self.services))

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        return self.wsgi(environ, start_response)

    def after_fork(self) -> None:
        """In each worker: connections of its own, and a scheduler (every worker ticks;
        the ledger makes sure each reminder and digest is still sent once)."""
        for engine in {self.engine, self.services.report_engine}:
            engine.dispose(close=False)
        if self.settings.scheduler_enabled:
            Ticker(self.services.scheduled_jobs, first_after=FIRST_TICK_AFTER).start()


def gunicorn_options(settings: Settings, *, threads: int = 8, shared_counts: bool = False) -> dict[str, object]:
    """`shared_counts`: the workers count into shared files (bot/app/metrics_endpoint.py)."""
    return {
        "bind": f"[{settings.host}]:{settings.port}" if ":" in settings.host else f"{settings.host}:{settings.port}",
        "workers": settings.web_concurrency,
        "worker_class": "gthread",
        "threads": threads,
        # Slack waits 3 s for an ack; a stuck request should not hold a worker long.
        "timeout": 30,
        "graceful_timeout": 20,
        "accesslog": "-",
        **gunicorn_logging(settings.log_format),
        **({"child_exit": forget_worker} if shared_counts else {}),
    }


def serve_wsgi(load: Callable[[], Callable], options: dict[str, object]) -> None:
    """Run gunicorn in this process; each worker calls `load` after the fork (the master
    calls it once, before listening, with `preload_app`)."""
    from gunicorn.app.base import BaseApplication

    class Server(BaseApplication):
        def load_config(self) -> None:
            for name, value in options.items():
                self.cfg.set(name, value)

        def load(self) -> Callable:
            return load()

    Server().run()


def serve_http(settings: Settings) -> None:
    with counts_shared_by_workers(settings.web_concurrency) as shared:
        built: list[PreforkedApp] = []

        def load() -> PreforkedApp:
            built.append(PreforkedApp(settings))
            return built[0]

        options = gunicorn_options(settings, shared_counts=shared)
        serve_wsgi(load, {**options, "preload_app": True, "post_fork": lambda server, worker: built[0].after_fork()})


def serve_socket_mode(settings: Settings) -> None:
    from slack_bolt.adapter.socket_mode import SocketModeHandler

    if settings.web_enabled:
        logger.warning("PUBLIC_URL is set, but Socket Mode serves no HTTP: the survey pages and the API need HTTP mode")
    handler = SocketModeHandler(build_app(settings, build_services(settings))[0], settings.slack_app_token)
    stopped = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stopped.set())
    handler.connect()
    logger.info("connected to Slack in Socket Mode")
    stopped.wait()
    handler.close()


def run(args: argparse.Namespace) -> int:
    settings = load_settings()
    settings.require("slack_bot_token")
    if not settings.slack_app_token:
        settings.require("slack_signing_secret")
    configure_logging(settings.log_format)
    upgrade_when_reachable(settings)
    if settings.slack_app_token:
        serve_socket_mode(settings)
    else:
        serve_http(settings)
    return 0


def upgrade_when_reachable(settings: Settings) -> None:
    """Migrate once the database answers; raises DatabaseUnavailable after DATABASE_WAIT_SECONDS."""
    wait_for_database(
        settings.database_url, wait_seconds=settings.database_wait_seconds,
        on_retry=lambda message: print(f"servicedesk: {message}", file=sys.stderr, flush=True),
    )
    upgrade(settings.database_url)


def register_cli(subparsers) -> None:
    parser = subparsers.add_parser(
        "run", help="run the bot (Socket Mode when SLACK_APP_TOKEN is set, else HTTP on HOST:PORT)"
    )
    parser.set_defaults(run=run)
