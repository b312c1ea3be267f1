"""The framework floors, served exactly as `servicedesk run` serves the real app (same
gunicorn options, same settings):

- `ack`: a bare Bolt app that only acks `/complaint`;
- `sqlite3`: a minimal Bolt app that saves a complaint-like row with plain `sqlite3`
  (WAL, synchronous=NORMAL, one connection per thread) and then acks: what saving
  first costs without any of the project's code;
- `postgres`: the same with plain psycopg on PostgreSQL (a connection per thread, one
  transaction per row, the server's durable settings).

`FLOOR_PROCESS_BEFORE_RESPONSE=1` runs Bolt with `process_before_response=True` (the
listener runs on the request's thread; no 10 ms polling for the ack).
`FLOOR_TEAM_COPY=CHANNEL` also posts each saved row to CHANNEL after the ack (four
publisher threads, `chat.postMessage` with a few blocks and two buttons, then the row's
`slack_ts` updated): the least a team copy costs.

Run by bench/ack_latency.py: `python -m bench.floor_app ack|sqlite3|postgres [DB FILE OR URL]` with the usual
environment.
"""

from __future__ import annotations

import os
import sqlite3
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import psycopg
from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler

from bot.services import make_client
from bot.config import load_settings
from bot.app.server import SLACK_PATH, gunicorn_options, serve_wsgi

SAVED_COLUMNS = "request_key TEXT UNIQUE, user_id TEXT, description TEXT, created_at REAL, slack_ts TEXT DEFAULT ''"
SAVED_TABLE = {"sqlite3": f"CREATE TABLE IF NOT EXISTS saved (id INTEGER PRIMARY KEY, {SAVED_COLUMNS})",
               "postgres": f"CREATE TABLE IF NOT EXISTS saved (id BIGSERIAL PRIMARY KEY, {SAVED_COLUMNS})"}


class SqliteRows:
    def __init__(self, path: str):
        self.path, self.local = path, threading.local()

    def _db(self) -> sqlite3.Connection:
        if not hasattr(self.local, "db"):
            self.local.db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
            self.local.db.execute("PRAGMA journal_mode=WAL")
            self.local.db.execute("PRAGMA synchronous=NORMAL")
        return self.local.db

    def write(self, sql: str, values: tuple):
        db = self._db()
        db.execute("BEGIN IMMEDIATE")
        row = db.execute(sql.replace("%s", "?"), values).fetchone()
        db.execute("COMMIT")
        return row


class PostgresRows:
    def __init__(self, url: str):
        self.url, self.local = url, threading.local()

    def write(self, sql: str, values: tuple):
        if not hasattr(self.local, "db"):
            self.local.db = psycopg.connect(self.url)
        with self.local.db.transaction():
            return self.local.db.execute(sql, values).fetchone()


def team_copy_blocks(text: str) -> list[dict]:
    return [
        {"type": "section", "text": {"type": "mrkdwn", "text": text}},
        {"type": "context", "elements": [{"type": "mrkdwn", "text": "Logged just now · owner unassigned"}]},
        {"type": "actions", "elements": [
            {"type": "button", "action_id": "take", "text": {"type": "plain_text", "text": "Take it"}, "value": "1"},
            {"type": "button", "action_id": "resolve", "text": {"type": "plain_text", "text": "Resolve"}, "value": "1"},
        ]},
    ]


def build_floor_app(settings, kind: str, database: str) -> SlackRequestHandler:
    app = App(client=make_client(settings), signing_secret=settings.slack_signing_secret,
              token_verification_enabled=False,
              process_before_response=os.environ.get("FLOOR_PROCESS_BEFORE_RESPONSE") == "1")
    if kind == "ack":
        @app.command("/complaint")
        def ack_only(ack) -> None:
            ack()
        return SlackRequestHandler(app, path=SLACK_PATH)

    rows = SqliteRows(database) if kind == "sqlite3" else PostgresRows(database)
    channel = os.environ.get("FLOOR_TEAM_COPY", "")
    publisher = ThreadPoolExecutor(max_workers=4, thread_name_prefix="publisher")

    def post_team_copy(row_id: int, text: str) -> None:
        posted = app.client.chat_postMessage(channel=channel, text=text, blocks=team_copy_blocks(text))
        rows.write("UPDATE saved SET slack_ts = %s WHERE id = %s RETURNING id", (posted["ts"], row_id))

    @app.command("/complaint")
    def save_then_ack(ack, command) -> None:
        (row_id,) = rows.write(
            "INSERT INTO saved (request_key, user_id, description, created_at) VALUES (%s, %s, %s, %s) RETURNING id",
            (command["trigger_id"], command["user_id"], command["text"], time.time()))
        ack(text="Saved.")
        if channel:
            publisher.submit(post_team_copy, row_id, command["text"])

    return SlackRequestHandler(app, path=SLACK_PATH)


def create_table(kind: str, database: str) -> None:
    if kind == "sqlite3":
        with sqlite3.connect(database) as db:
            db.execute(SAVED_TABLE[kind])
    elif kind == "postgres":
        with psycopg.connect(database) as db:
            db.execute(SAVED_TABLE[kind])


if __name__ == "__main__":
    kind, database = sys.argv[1], (sys.argv[2] if len(sys.argv) > 2 else "")
    create_table(kind, database)
    settings = load_settings()
    serve_wsgi(lambda: build_floor_app(settings, kind, database), gunicorn_options(settings))
