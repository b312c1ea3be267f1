"""Throughput and latency of `POST /api/v1/complaints` through the production server.

In one run, side by side: servicedesk under `servicedesk run` (gunicorn with its
options, the web side on, SQLite and optionally PostgreSQL, the team's copy posted to
the local Web API emulator after each answer), and the floor, a minimal Flask app
served by gunicorn with the same options that checks the bearer token, reads the JSON
and inserts one row with plain `sqlite3` (WAL, synchronous=NORMAL, a connection per
thread). Each request carries its own Idempotency-Key, as a web form retrying would.
A third target runs servicedesk on SQLite without COMPLAINTS_CHANNEL, to show what the
team's copy (and the owner's DM, sent either way) costs the API when they share its
processes.

The targets take turns for `--rounds` rounds (a fresh server each time, so a busy
minute on a shared machine falls on all of them); each round is a closed loop of
`--requests` from `--clients` keep-alive clients. Reported: the median over rounds of
requests/s, p50 and p99, and ratios against the floor. Afterwards the rows are counted:
every 201 must have made exactly one row.

    python -m bench.intake [--quick] [--requests 1000] [--clients 16] [--rounds 3] [--backends sqlite[,postgresql]]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import create_engine, text

from bench.ack_latency import EMULATOR, new_postgres_database
from bench.ack_load import free_port, wait_for_port
from models.db import normalise_url, upgrade

TOKEN = "bench-intake-token-0123456789abcdef"
SECRET_KEY = "bench-secret-key-4f3e2d1c0b9a8f7e6d5c4b3a2f1e0d9c"
OWNER = "UBENCHOWN1"
FLOOR = "floor: minimal Flask, sqlite3 insert"
NO_ANSWER = "no answer"
FLOOR_TABLE = ("CREATE TABLE IF NOT EXISTS complaint (id INTEGER PRIMARY KEY, idempotency_key TEXT UNIQUE, "
               "description TEXT, customer_contact TEXT, created_at REAL)")


@dataclass
class Round:
    latencies: list[float]
    seconds: float
    status: dict[int, int]

    @property
    def rate(self) -> float:
        return len(self.latencies) / self.seconds

    def quantile(self, q: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


@dataclass
class Target:
    name: str
    command: list[str]
    env: dict[str, str]
    count_rows: Callable[[], tuple[int, int]]
    rounds: list[Round] = field(default_factory=list)
    created: int = 0  # answered 201, warm-ups included

    def median(self, figure) -> float:
        return statistics.median(figure(r) for r in self.rounds)


def payload(key: str) -> bytes:
    # A customer of its own each time: one customer's growing history (shown on each team
    # copy) would slow every round more than the last.
    return json.dumps({"description": f"bench complaint {key}: charged twice for order 1182",
                       "customer_name": "Jane Roe", "customer_contact": f"customer-{key}@example.com",
                       "contact_channel": "email", "category": "billing", "severity": "high",
                       "source": "web form"}).encode()


def fire(port: int, keys: list[str], clients: int) -> Round:
    """A closed loop: each client sends the next complaint as soon as its last was answered."""
    latencies: list[float] = []
    status: dict[int, int] = {}
    lock = threading.Lock()
    queue = iter(keys)

    def client() -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        while True:
            with lock:
                key = next(queue, None)
            if key is None:
                break
            headers = {"Content-Type": "application/json", "Authorization": f"Bearer {TOKEN}", "Idempotency-Key": key}
            sent = time.perf_counter()
            try:
                connection.request("POST", "/api/v1/complaints", body=payload(key), headers=headers)
                response = connection.getresponse()
                response.read()
                code = response.status
            except (OSError, http.client.HTTPException):
                connection.close()
                code = 0  # never answered
            elapsed = time.perf_counter() - sent
            with lock:
                status[code] = status.get(code, 0) + 1
                if code:
                    latencies.append(elapsed)
        connection.close()

    started = time.perf_counter()
    threads = [threading.Thread(target=client) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return Round(latencies, time.perf_counter() - started, status)


def run_round(target: Target, args, round_number: int) -> None:
    port = free_port()
    process = subprocess.Popen(target.command, env={**target.env, "PORT": str(port)},
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for_port(port, process)
        warm = fire(port, [f"warm-{round_number}-{i}" for i in range(args.warmup)], args.clients)
        measured = fire(port, [f"r{round_number}-{i}" for i in range(args.requests)], args.clients)
        target.rounds.append(measured)
        target.created += warm.status.get(201, 0) + measured.status.get(201, 0)
    finally:
        process.terminate()
        process.wait(timeout=60)


def servicedesk_rows(url: str):
    def count() -> tuple[int, int]:
        engine = create_engine(normalise_url(url))
        try:
            with engine.connect() as connection:
                return tuple(connection.execute(text(
                    "SELECT count(*), count(DISTINCT description) FROM complaint WHERE source != ''")).one())
        finally:
            engine.dispose()
    return count


def floor_rows(path: str):
    def count() -> tuple[int, int]:
        with sqlite3.connect(path) as db:
            return db.execute("SELECT count(*), count(DISTINCT description) FROM complaint").fetchone()
    return count


def targets(env: dict[str, str], workdir: Path, backends: list[str], postgres_url: str, *,
            without_channel: bool) -> list[Target]:
    floor_file = str(workdir / "floor.db")
    chosen = [Target(FLOOR, [sys.executable, "-m", "bench.intake", "--serve-floor", floor_file], env,
                     floor_rows(floor_file))]
    for backend in backends:
        if backend == "postgresql":
            url, label = new_postgres_database(postgres_url, "bench_intake"), "PostgreSQL"
        else:
            url, label = f"sqlite:///{workdir / 'servicedesk.db'}", "SQLite"
            upgrade(url)
        chosen.append(Target(f"servicedesk run, {label}", [sys.executable, "-m", "bot.app.cli", "run"],
                             {**env, "DATABASE_URL": url}, servicedesk_rows(url)))
    if without_channel:
        # The same on SQLite with no COMPLAINTS_CHANNEL: what the team's copy, posted after
        # each answer in the same processes, costs the API.
        url = f"sqlite:///{workdir / 'no_channel.db'}"
        upgrade(url)
        chosen.append(Target("servicedesk run, SQLite, no team channel", [sys.executable, "-m", "bot.app.cli", "run"],
                             {**env, "DATABASE_URL": url, "COMPLAINTS_CHANNEL": ""}, servicedesk_rows(url)))
    return chosen


def serve_floor(database: str) -> None:
    """The floor: what logging a complaint from a form costs with nothing of the project's."""
    import hmac

    from flask import Flask, jsonify, request

    from bot.app.server import gunicorn_options, serve_wsgi
    from bot.config import load_settings

    with sqlite3.connect(database) as db:
        db.execute("PRAGMA journal_mode=WAL")
        db.execute(FLOOR_TABLE)
    connections = threading.local()

    def connection() -> sqlite3.Connection:
        if not hasattr(connections, "db"):
            connections.db = sqlite3.connect(database, timeout=30, isolation_level=None)
            connections.db.execute("PRAGMA synchronous=NORMAL")
        return connections.db

    def build() -> Flask:
        web = Flask(__name__)

        @web.post("/api/v1/complaints")
        def log_complaint():
            given = request.headers.get("Authorization", "").removeprefix("Bearer ")
            if not hmac.compare_digest(given.encode(), TOKEN.encode()):
                return jsonify(error="unauthorized"), 401
            body = request.get_json()
            db = connection()
            db.execute("BEGIN IMMEDIATE")
            cursor = db.execute(
                "INSERT INTO complaint (idempotency_key, description, customer_contact, created_at) VALUES (?, ?, ?, ?)",
                (request.headers.get("Idempotency-Key"), body["description"], body["customer_contact"], time.time()))
            db.execute("COMMIT")
            return jsonify(reference=f"C-{cursor.lastrowid}", status="open"), 201

        return web

    serve_wsgi(build, gunicorn_options(load_settings(env_file=None)))


def report(chosen: list[Target], args, header: str) -> int:
    floor = chosen[0]
    print(header + "\n")
    print(f"Closed loop: {args.requests} requests from {args.clients} clients, {args.rounds} rounds; "
          "medians over the rounds.\n")
    print("| target | requests/s | p50 ms | p99 ms | floor's requests/s ÷ this | this p50 ÷ floor's | answers |")
    print("|---|---|---|---|---|---|---|")
    for target in chosen:
        rate, p50, p99 = (target.median(lambda r: r.rate), target.median(lambda r: r.quantile(0.5)),
                          target.median(lambda r: r.quantile(0.99)))
        answers = {}
        for one in target.rounds:
            for code, n in one.status.items():
                answers[code] = answers.get(code, 0) + n
        print(f"| {target.name} | {rate:.0f} | {p50:.1f} | {p99:.1f} | {floor.median(lambda r: r.rate) / rate:.2f}x "
              f"| {p50 / floor.median(lambda r: r.quantile(0.5)):.2f}x "
              f"| {', '.join(f'{n} × {code or NO_ANSWER}' for code, n in sorted(answers.items()))} |")
    print("\nEach round's requests/s: " + "; ".join(
        f"{t.name}: {', '.join(f'{r.rate:.0f}' for r in t.rounds)}" for t in chosen))
    wrong = []
    for target in chosen:
        rows, distinct = target.count_rows()
        if rows != target.created or distinct != rows:
            wrong.append(f"{target.name}: {target.created} answered 201, {rows} rows, {distinct} distinct")
    if wrong:
        print("\nROWS DO NOT MATCH THE ANSWERS: " + "; ".join(wrong))
        return 1
    print("\nEvery 201 made exactly one row, on every target.")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a small run that checks the benchmark works")
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--warmup", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (WEB_CONCURRENCY)")
    parser.add_argument("--backends", default="sqlite", help="sqlite and/or postgresql, comma-separated")
    parser.add_argument("--postgres-url", help="a superuser URL instead of a durable cluster of its own")
    parser.add_argument("--only-with-channel", action="store_true",
                        help="skip the SQLite run without COMPLAINTS_CHANNEL")
    parser.add_argument("--serve-floor", metavar="DB", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve_floor:
        serve_floor(args.serve_floor)
        return 0
    if args.quick:
        args.requests, args.clients, args.warmup, args.rounds = 60, 4, 4, 1
    backends = [backend for backend in args.backends.split(",") if backend]

    emulator_port = free_port()
    emulator = subprocess.Popen([sys.executable, "-c", EMULATOR, str(emulator_port), "0"])
    cluster = None
    if "postgresql" in backends and not args.postgres_url:
        from tests.postgres import start_cluster

        cluster = start_cluster(durable=True)
    workdir = Path(tempfile.mkdtemp(prefix="servicedesk-bench-intake-"))
    env = {
        **os.environ,
        "SLACK_BOT_TOKEN": "xoxb-bench", "SLACK_SIGNING_SECRET": "bench-signing-secret", "SLACK_APP_TOKEN": "",
        "SLACK_API_URL": f"http://127.0.0.1:{emulator_port}/api/", "COMPLAINTS_CHANNEL": "CCOMPLAIN1",
        "WEB_CONCURRENCY": str(args.workers), "PUBLIC_URL": "https://desk.example.com", "SECRET_KEY": SECRET_KEY,
        "API_TOKENS": TOKEN, "INTAKE_OWNER": OWNER, "API_RATE_LIMIT": "100000", "SCHEDULER_ENABLED": "false",
    }
    load_before = os.getloadavg()
    try:
        wait_for_port(emulator_port, emulator)
        chosen = targets(env, workdir, backends, args.postgres_url or (cluster.url if cluster else ""),
                         without_channel=not args.only_with_channel)
        for round_number in range(args.rounds):
            for target in chosen:
                run_round(target, args, round_number)
    finally:
        if cluster:
            cluster.stop()
        emulator.terminate()
    load_after = os.getloadavg()
    header = (f"{args.workers} gunicorn workers x 8 threads, {os.cpu_count()} CPUs; load average (1 min) "
              f"{load_before[0]:.1f} before, {load_after[0]:.1f} after; ratios against '{FLOOR}'")
    return report(chosen, args, header)


if __name__ == "__main__":
    sys.exit(main())
