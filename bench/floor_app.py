"""The framework floors, served exactly as `servicedesk run` serves the real app (same
gunicorn options, same settings):

- `ack`: a bare Bolt app that only acks `/complaint`;
- `sqlite3`: a minimal Bolt app that saves a complaint-like row with plain `sqlite3`
  (WAL, synchronous=NORMAL, one connection per thread) and then acks: what saving
  first costs without any of the project's code.

`FLOOR_PROCESS_BEFORE_RESPONSE=1` runs Bolt with `process_before_response=True` (the
listener runs on the request's thread; no 10 ms polling for the ack).

Run by bench/ack_latency.py: `python -m bench.floor_app ack|sqlite3 [DB FILE]` with the usual environment.
"""

from __future__ import annotations

import os
import sqlite3
import sys
import threading
import time

from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler

from bot.services import make_client
from bot.config import load_settings
from bot.app.server import SLACK_PATH, gunicorn_options, serve_wsgi

SAVED_TABLE = "CREATE TABLE IF NOT EXISTS saved (id INTEGER PRIMARY KEY, request_key TEXT UNIQUE, user_id TEXT, " \
              "description TEXT, created_at REAL)"


def build_floor_app(settings, kind: str, database: str) -> SlackRequestHandler:
    app = App(client=make_client(settings), signing_secret=settings.slack_signing_secret,
              token_verification_enabled=False,
              process_before_response=os.environ.get("FLOOR_PROCESS_BEFORE_RESPONSE") == "1")
    if kind == "ack":
        @app.command("/complaint")
        def ack_only(ack) -> None:
            ack()
    else:
        connections = threading.local()

        def connection() -> sqlite3.Connection:
            if not hasattr(connections, "db"):
                connections.db = sqlite3.connect(database, timeout=30, isolation_level=None)
                connections.db.execute("PRAGMA journal_mode=WAL")
                connections.db.execute("PRAGMA synchronous=NORMAL")
            return connections.db

        @app.command("/complaint")
        def save_then_ack(ack, command) -> None:
            db = connection()
            db.execute("BEGIN IMMEDIATE")
            db.execute("INSERT INTO saved (request_key, user_id, description, created_at) VALUES (?, ?, ?, ?)",
                       (command["trigger_id"], command["user_id"], command["text"], time.time()))
            db.execute("COMMIT")
            ack(text="Saved.")

    return SlackRequestHandler(app, path=SLACK_PATH)


if __name__ == "__main__":
    kind, database = sys.argv[1], (sys.argv[2] if len(sys.argv) > 2 else "")
    if kind == "sqlite3":
        with sqlite3.connect(database) as db:
            db.execute(SAVED_TABLE)
    settings = load_settings()
    serve_wsgi(lambda: build_floor_app(settings, kind, database), gunicorn_options(settings))
