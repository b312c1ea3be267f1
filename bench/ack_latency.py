"""Acknowledgement latency of `/complaint <text>` through the production HTTP server.

In one run, side by side, each target is started under gunicorn with the options
`servicedesk run` uses and sent signed slash commands: the framework floor (a bare
Bolt app that only acks, with Bolt's defaults and with `process_before_response=True`),
and, for each backend, a minimal Bolt app that saves a row with the plain driver
(`sqlite3`, psycopg) and then acks, and servicedesk, on SQLite and on PostgreSQL (a
cluster of its own with PostgreSQL's durable defaults), each with and without posting
the team's copy. Slack's Web API is the local emulator, in
its own process.

Each target gets a closed loop (`--requests` from `--clients` keep-alive clients) and an
open loop at each `--rates` (requests sent on a schedule, latency from each one's due
time). Afterwards the rows are read: every acknowledged request must have saved one,
and no row may be there twice.

    python -m bench.ack_latency [--quick] [--requests 2000] [--clients 32] [--rates 50,200] [--slack-latency-ms 0]
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from bench.ack_load import CpuMeter, Fired, fire, free_port, wait_for_port
from bot.app.console.loopback import SignedClient
from models.db import normalise_url, upgrade

SECRET = "bench-signing-secret"
EMULATOR = """
import sys, threading
from bot.app.console.slack_emulator import SlackEmulator
SlackEmulator(latency=float(sys.argv[2])).start(int(sys.argv[1]))
threading.Event().wait()
"""
FLOOR = "floor: Bolt defaults, ack only"
MARKER = re.compile(r"bench complaint (\S+-\d+:)")


@dataclass
class Target:
    name: str
    command: list[str]
    env: dict[str, str]
    database_url: str | None = None  # where the rows are counted (and team copies awaited)
    table: str = "complaint"  # the minimal apps save to "saved"
    posts: bool = False


@dataclass
class Result:
    target: Target
    closed: Fired
    cpu: dict[str, float]
    drained: float | None
    opened: dict[float, Fired] = field(default_factory=dict)
    sent: int = 0
    acked: set[str] = field(default_factory=set)  # the markers of the requests answered with 200
    warned: set[str] = field(default_factory=set)  # of those, told ":warning:" (not saved: try again)
    unanswered: int = 0
    rows: int | None = None
    distinct: int | None = None
    missing: list[str] = field(default_factory=list)  # markers acknowledged, but not in the database
    answers: dict[str, bytes] = field(default_factory=dict)  # what each acknowledged request was told
    log: Path | None = None  # the server's output


def saved_descriptions(target: Target) -> list[str] | None:
    if not target.database_url:
        return None
    engine = create_engine(normalise_url(target.database_url))
    try:
        with engine.connect() as connection:
            return list(connection.execute(text(f"SELECT description FROM {target.table}")).scalars())
    finally:
        engine.dispose()


def wait_until_posted(database_url: str, *, table: str = "complaint", timeout: float = 300) -> float:
    """Seconds until every row's team message is posted."""
    started = time.perf_counter()
    engine = create_engine(normalise_url(database_url))
    try:
        while time.perf_counter() - started < timeout:
            with engine.connect() as connection:
                unposted = connection.execute(
                    text(f"SELECT count(*) FROM {table} WHERE slack_ts = ''")).scalar_one()
            if not unposted:
                return time.perf_counter() - started
            time.sleep(0.05)
        raise RuntimeError(f"{unposted} team messages still unposted after {timeout} s")
    finally:
        engine.dispose()


def run_target(target: Target, args, others: dict[str, int], log: Path) -> Result:
    port = free_port()
    signer = SignedClient("", SECRET, target.env["SLACK_API_URL"].replace("/api/", "/respond/bench"))

    def bodies(phase: str, count: int) -> list[str]:
        return [signer.command_body(f"!high #billing bench complaint {phase}-{i}: charged twice for order {i}",
                                    user=f"UBENCH{i % 50:04d}", command="/complaint", channel="CBENCH0001")
                for i in range(count)]

    def note(phase: str, fired: Fired) -> Fired:
        acked.update(f"{phase}-{i}:" for i in fired.acked)
        warned.update(f"{phase}-{i}:" for i in fired.warned)
        answers.update((f"{phase}-{i}:", answer) for i, answer in fired.answers.items())
        unanswered[0] += fired.unanswered
        return fired

    acked: set[str] = set()
    warned: set[str] = set()
    answers: dict[str, bytes] = {}
    unanswered = [0]

    def settle() -> float | None:
        return wait_until_posted(target.database_url, table=target.table) if target.posts else None

    output = log.open("wb")
    process = subprocess.Popen(target.command, env={**target.env, "PORT": str(port)},
                               stdout=output, stderr=subprocess.STDOUT)
    sent = 0
    try:
        wait_for_port(port, process)
        sent += args.warmup
        note("warm-up", fire(port, bodies("warm-up", args.warmup), secret=SECRET, clients=args.clients))
        settle()
        meter = CpuMeter({"app": process.pid, **others})
        before = meter.sample()
        closed = note("closed", fire(port, bodies("closed", args.requests), secret=SECRET, clients=args.clients))
        sent += args.requests
        drained = settle()
        after = meter.sample()
        result = Result(target, closed, {part: (after[part] - before[part]) / args.requests * 1000 for part in after},
                        drained)
        for rate in args.rates:
            count = max(1, round(rate * args.open_seconds))
            phase = f"open-{rate:g}"
            result.opened[rate] = note(phase, fire(port, bodies(phase, count), secret=SECRET, clients=args.clients,
                                                   rate=rate))
            sent += count
            settle()
    finally:
        process.terminate()
        process.wait(timeout=60)
        output.close()
    result.sent, result.acked, result.warned, result.unanswered = sent, acked, warned, unanswered[0]
    result.answers, result.log = answers, log
    descriptions = saved_descriptions(target)
    if descriptions is not None:
        result.rows, result.distinct = len(descriptions), len(set(descriptions))
        saved = {match.group(1) for match in map(MARKER.search, descriptions) if match}
        result.missing = sorted(acked - warned - saved)
    return result


def postgres_settings(url: str) -> str:
    engine = create_engine(normalise_url(url))
    try:
        with engine.connect() as connection:
            values = [f"{name}={connection.execute(text(f'SHOW {name}')).scalar_one()}"
                      for name in ("fsync", "synchronous_commit", "full_page_writes")]
    finally:
        engine.dispose()
    return ", ".join(values)


def new_postgres_database(admin_url: str, name: str, *, schema: bool = True) -> str:
    admin = create_engine(normalise_url(admin_url), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            connection.execute(text(f"CREATE DATABASE {name}"))
    finally:
        admin.dispose()
    url = make_url(normalise_url(admin_url)).set(database=name).render_as_string(hide_password=False)
    if schema:
        upgrade(url)
    return url


def minimal_targets(env: dict[str, str], workdir: Path, postgres_admin_url: str, backend: str) -> list[Target]:
    """The least the job costs: save a row with the database's own driver, ack, and (team
    copy) post it from a publisher thread and record where it went (bench/floor_app.py)."""
    chosen = []
    for posts in (False, True):
        name = f"minimal_{'posts' if posts else 'ack'}"
        if backend == "postgresql":
            url = new_postgres_database(postgres_admin_url, name, schema=False)
            kind, label = "postgres", "psycopg"
            where = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
        else:
            url = f"sqlite:///{workdir / (name + '.db')}"
            kind, label, where = "sqlite3", "sqlite3", str(workdir / (name + ".db"))
        suffix = ", team copy posted" if posts else ""
        chosen.append(Target(f"minimal app: {label} save, then ack{suffix}",
                             [sys.executable, "-m", "bench.floor_app", kind, where],
                             {**env, "DATABASE_URL": f"sqlite:///{workdir / 'floor.db'}",
                              "FLOOR_PROCESS_BEFORE_RESPONSE": "1",
                              "FLOOR_TEAM_COPY": env["COMPLAINTS_CHANNEL"] if posts else ""},
                             database_url=url, table="saved", posts=posts))
    return chosen


def targets(env: dict[str, str], workdir: Path, postgres_admin_url: str, backends: list[str]) -> list[Target]:
    floor = [sys.executable, "-m", "bench.floor_app", "ack"]
    floor_env = {**env, "DATABASE_URL": f"sqlite:///{workdir / 'floor.db'}"}
    chosen = [
        Target(FLOOR, floor, floor_env),
        Target("floor: process_before_response, ack only", floor, {**floor_env, "FLOOR_PROCESS_BEFORE_RESPONSE": "1"}),
    ]
    channel = env["COMPLAINTS_CHANNEL"]
    for backend in backends:
        chosen += minimal_targets(env, workdir, postgres_admin_url, backend)
        for posts in (False, True):
            suffix = "team copy posted" if posts else "ack path"
            name = f"bench_{'posts' if posts else 'ack'}"
            url = (new_postgres_database(postgres_admin_url, name) if backend == "postgresql"
                   else f"sqlite:///{workdir / (name + '.db')}")
            if backend == "sqlite":
                upgrade(url)
            label = "PostgreSQL" if backend == "postgresql" else "SQLite"
            chosen.append(Target(f"servicedesk, {label}, {suffix}", [sys.executable, "-m", "bot.app.cli", "run"],
                                 {**env, "DATABASE_URL": url, "COMPLAINTS_CHANNEL": channel if posts else ""},
                                 database_url=url, posts=posts))
    return chosen


def report(results: list[Result], args, header: str) -> int:
    floor = results[0].closed
    print(header + "\n")
    print(f"Closed loop: {args.requests} requests from {args.clients} clients.\n")
    print("| target | p50 ms | p99 ms | acks/s | vs floor | non-200 | team copies all posted |")
    print("|---|---|---|---|---|---|---|")
    for result in results:
        closed = result.closed
        posted = f"{result.drained:.1f} s after the last ack" if result.drained is not None else "—"
        print(f"| {result.target.name} | {closed.quantile(0.5):.1f} | {closed.quantile(0.99):.1f} | {closed.rate:.0f} "
              f"| {floor.rate / closed.rate:.2f}x | {closed.errors} | {posted} |")
    print(f"\nOpen loop: {args.open_seconds:g} s at each rate, latency from each request's due time.\n")
    print("| target | " + " | ".join(f"{rate:g}/s p50 ms | {rate:g}/s p99 ms" for rate in args.rates) + " | non-200 |")
    print("|---|" + "---|---|" * len(args.rates) + "---|")
    for result in results:
        cells = " | ".join(f"{fired.quantile(0.5):.1f} | {fired.quantile(0.99):.1f}" for fired in result.opened.values())
        print(f"| {result.target.name} | {cells} | {sum(fired.errors for fired in result.opened.values())} |")
    parts = list(results[0].cpu)
    print("\nCPU ms per request in the closed loop, by process (until every team copy was posted):\n")
    print(f"| target | {' | '.join(parts)} | total |")
    print("|---|" + "---|" * (len(parts) + 1))
    for result in results:
        print(f"| {result.target.name} | {' | '.join(f'{result.cpu[p]:.2f}' for p in parts)} "
              f"| {sum(result.cpu.values()):.2f} |")
    print("\n| target | requests sent | acknowledged | of them, told to try again | never answered | rows | distinct "
          "| acknowledged, not saved |")
    print("|---|---|---|---|---|---|---|---|")
    wrong = []
    for result in results:
        if result.rows is None:
            continue
        print(f"| {result.target.name} | {result.sent} | {len(result.acked)} | {len(result.warned)} | {result.unanswered} "
              f"| {result.rows} "
              f"| {result.distinct} | {len(result.missing)} |")
        if result.missing or result.rows != result.distinct or result.rows > result.sent:
            wrong.append(result.target.name)
    for result in results:
        if result.warned:
            example = result.answers[min(result.warned)]
            print(f"\n{result.target.name}: {len(result.warned)} told to try again, e.g. {example!r}; "
                  f"server output in {result.log}")
    if wrong:
        print(f"\nLOST OR DUPLICATED ROWS in: {', '.join(wrong)}")
        for result in results:
            for marker in result.missing:
                print(f"- {result.target.name}: '{marker}' was told {result.answers[marker]!r}; "
                      f"server output in {result.log}")
        return 1
    print("\nEvery acknowledged request's row is saved, and no row twice.")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a small run that checks the benchmark works")
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--warmup", type=int, default=64)
    parser.add_argument("--rates", default="50,200", help="open-loop rates, requests per second")
    parser.add_argument("--open-seconds", type=float, default=10.0, help="how long each open loop runs")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (WEB_CONCURRENCY)")
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--complaints-channel", default="CCOMPLAIN1", help="where the team copy goes when posted")
    parser.add_argument("--slack-latency-ms", type=float, default=0,
                        help="how long the fake Web API takes to answer, like Slack across a network")
    parser.add_argument("--postgres-url", help="a superuser URL to use instead of a durable cluster of its own")
    args = parser.parse_args(argv)
    if args.quick:
        args.requests, args.clients, args.warmup, args.open_seconds = 60, 8, 8, 0.5
    args.rates = [float(rate) for rate in args.rates.split(",") if rate]
    backends = [backend for backend in args.backends.split(",") if backend]

    emulator_port = free_port()
    emulator = subprocess.Popen([sys.executable, "-c", EMULATOR, str(emulator_port), str(args.slack_latency_ms / 1000)])
    cluster = None
    if "postgresql" in backends and not args.postgres_url:
        from tests.postgres import start_cluster

        cluster = start_cluster(durable=True)
    postgres_url = args.postgres_url or (cluster.url if cluster else "")
    workdir = Path(tempfile.mkdtemp(prefix="servicedesk-bench-"))
    env = {
        **os.environ,
        "SLACK_BOT_TOKEN": "xoxb-bench", "SLACK_SIGNING_SECRET": SECRET, "SLACK_APP_TOKEN": "",
        "SLACK_API_URL": f"http://127.0.0.1:{emulator_port}/api/", "COMPLAINTS_CHANNEL": args.complaints_channel,
        "WEB_CONCURRENCY": str(args.workers),
        # The burst is thousands of copies into one channel: at Slack's own pace (one a
        # second) they would take most of an hour; the emulator sets no limit, and the
        # rows measure what posting costs, not how long Slack's pace takes.
        "SLACK_CHANNEL_POSTS_PER_SECOND": "1000",
    }
    load_before = os.getloadavg()
    try:
        wait_for_port(emulator_port, emulator)
        others = {"Web API emulator": emulator.pid}
        if cluster:
            others["PostgreSQL"] = int((cluster.root / "data" / "postmaster.pid").read_text().split()[0])
        results = [run_target(target, args, others, workdir / f"server-{number}.log")
                   for number, target in enumerate(targets(env, workdir, postgres_url, backends))]
        durability = f"; PostgreSQL {postgres_settings(postgres_url)}" if postgres_url else ""
    finally:
        if cluster:
            cluster.stop()
        emulator.terminate()
    load_after = os.getloadavg()
    header = (f"{args.workers} gunicorn workers x 8 threads, {os.cpu_count()} CPUs, Web API answers in "
              f"{args.slack_latency_ms:g} ms{durability}; load average {load_before[0]:.1f} before, "
              f"{load_after[0]:.1f} after; ratios against '{FLOOR}'")
    return report(results, args, header)


if __name__ == "__main__":
    sys.exit(main())
