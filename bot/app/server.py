"""Serving the app: HTTP through gunicorn, or Socket Mode; and `servicedesk run` / `db`.

HTTP mode serves Slack's requests at `/slack/events` and a health check at
`/healthz`. gunicorn runs `WEB_CONCURRENCY` worker processes with threads; each worker
builds its own app and database engine after the fork (connections must not be
shared across processes), and finishes requests in flight on SIGTERM.
"""

from __future__ import annotations

import argparse
import logging
import signal
import threading
from collections.abc import Callable, Iterable

from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler
from sqlalchemy import text

from bot.app.factory import create_app
from bot.services import build_services
from bot.config import Settings, load_settings
from bot.scheduler import Ticker
from models.db import make_engine, upgrade

logger = logging.getLogger("servicedesk")
SLACK_PATH = "/slack/events"
HEALTH_PATH = "/healthz"


def make_wsgi_app(app: App, engine) -> Callable:
    """The WSGI application: Bolt at /slack/events, a database-checking /healthz."""
    slack = SlackRequestHandler(app, path=SLACK_PATH)

    def wsgi(environ: dict, start_response: Callable) -> Iterable[bytes]:
        if environ.get("PATH_INFO") == HEALTH_PATH:
            try:
                with engine.connect() as connection:
                    connection.execute(text("SELECT 1"))
                status, body = "200 OK", b"ok\n"
            except Exception as exc:  # noqa: BLE001 — any failure means unhealthy
                logger.warning("health check failed: %s", exc)
                status, body = "503 Service Unavailable", b"database unavailable\n"
            start_response(status, [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
            return [body]
        return slack(environ, start_response)

    return wsgi


def build_app(settings: Settings, engine=None) -> App:
    """The app, with its scheduler ticking in this process when SCHEDULER_ENABLED."""
    services = build_services(settings, engine=engine)
    app = create_app(settings, services=services)
    if settings.scheduler_enabled:
        Ticker(services.scheduled_jobs).start()
    return app


def build_wsgi_app(settings: Settings) -> Callable:
    # Called in each gunicorn worker after the fork: every worker ticks, and the
    # ledger makes sure each reminder and digest is still sent once.
    engine = make_engine(settings.database_url)
    return make_wsgi_app(build_app(settings, engine), engine)


def gunicorn_options(settings: Settings, *, threads: int = 8) -> dict[str, object]:
    return {
        "bind": f"0.0.0.0:{settings.port}",
        "workers": settings.web_concurrency,
        "worker_class": "gthread",
        "threads": threads,
        # Slack waits 3 s for an ack; a stuck request should not hold a worker long.
        "timeout": 30,
        "graceful_timeout": 20,
        "accesslog": "-",
    }


def serve_wsgi(load: Callable[[], Callable], options: dict[str, object]) -> None:
    """Run gunicorn in this process; each worker calls `load` after the fork."""
    from gunicorn.app.base import BaseApplication

    class Server(BaseApplication):
        def load_config(self) -> None:
            for name, value in options.items():
                self.cfg.set(name, value)

        def load(self) -> Callable:
            return load()

    Server().run()


def serve_http(settings: Settings) -> None:
    serve_wsgi(lambda: build_wsgi_app(settings), gunicorn_options(settings))


def serve_socket_mode(settings: Settings) -> None:
    from slack_bolt.adapter.socket_mode import SocketModeHandler

    handler = SocketModeHandler(build_app(settings), settings.slack_app_token)
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
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    upgrade(settings.database_url)
    if settings.slack_app_token:
        serve_socket_mode(settings)
    else:
        serve_http(settings)
    return 0


def db_upgrade(args: argparse.Namespace) -> int:
    settings = load_settings()
    upgrade(settings.database_url)
    print(f"database is up to date: {make_engine(settings.database_url).url.render_as_string()}")
    return 0


def register_cli(subparsers) -> None:
    parser = subparsers.add_parser(
        "run", help="run the bot (Socket Mode when SLACK_APP_TOKEN is set, else HTTP on PORT)"
    )
    parser.set_defaults(run=run)
    db = subparsers.add_parser("db", help="database maintenance")
    db_commands = db.add_subparsers(dest="db_command", required=True, metavar="ACTION")
    db_commands.add_parser("upgrade", help="apply every pending migration").set_defaults(run=db_upgrade)
