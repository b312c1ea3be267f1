"""Acknowledgement latency of `/complaint <text>` through the production HTTP server.

For each target — a bare Bolt app that only acks (the framework floor), servicedesk on
SQLite, servicedesk on PostgreSQL — start it under gunicorn with the same options
(`servicedesk run` for the real app), send signed slash commands from concurrent
keep-alive clients, and time each request until its HTTP response (Slack's 3-second
clock stops there). Slack's Web API is the local emulator, in its own process. After
each run the complaint rows are counted: every request must have made exactly one.

    python -m bench.ack_latency [--requests 2000] [--clients 32] [--slack-latency-ms 0] [--complaints-channel ID]
"""

from __future__ import annotations

import argparse
import http.client
import os
import resource
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from slack_sdk.signature import SignatureVerifier
from sqlalchemy import create_engine, text

from bot.app.console.loopback import SignedClient
from models.db import normalise_url, upgrade

SECRET = "bench-signing-secret"
WARMUP = 64
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
EMULATOR = """
import sys, threading
from bot.app.console.slack_emulator import SlackEmulator
SlackEmulator(latency=float(sys.argv[2])).start(int(sys.argv[1]))
threading.Event().wait()
"""


@dataclass
class Result:
    target: str
    latencies: list[float]
    seconds: float
    errors: int
    cpu: dict[str, float]
    drained: float | None
    rows: int | None = None
    distinct: int | None = None

    def quantile(self, q: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000

    @property
    def rate(self) -> float:
        return len(self.latencies) / self.seconds


def tree_cpu_seconds(root: int) -> float:
    """CPU time used so far by a process and all its descendants, live or reaped."""
    parents, used = {}, {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rpartition(")")[2].split()
        except OSError:
            continue  # exited while we looked
        pid = int(entry.name)
        parents[pid] = int(fields[1])
        # utime, stime, and the times of children it has waited for (so exited
        # children are counted once, by their parent).
        used[pid] = sum(int(value) for value in fields[11:15]) / CLOCK_TICKS
    tree, frontier = {root}, [root]
    while frontier:
        parent = frontier.pop()
        children = [pid for pid, ppid in parents.items() if ppid == parent]
        tree.update(children)
        frontier += children
    return sum(used.get(pid, 0.0) for pid in tree)


class CpuMeter:
    """CPU seconds spent by each part of the benchmark while the measured requests ran."""

    def __init__(self, processes: dict[str, int]) -> None:
        self.processes = processes

    def sample(self) -> dict[str, float]:
        sample = {name: tree_cpu_seconds(pid) for name, pid in self.processes.items()}
        usage = resource.getrusage(resource.RUSAGE_SELF)
        sample["load generator"] = usage.ru_utime + usage.ru_stime
        return sample


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, process: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"nothing listening on {port} after {timeout} s")


def fire(port: int, bodies: list[str], clients: int) -> tuple[list[float], float, int]:
    """Send every body from `clients` threads over keep-alive connections."""
    signer = SignatureVerifier(SECRET)
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    queue = iter(range(len(bodies)))

    def client() -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        while True:
            with lock:
                index = next(queue, None)
            if index is None:
                break
            body = bodies[index]
            timestamp = str(int(time.time()))
            headers = {
                "Content-Type": "application/x-www-form-urlencoded",
                "X-Slack-Request-Timestamp": timestamp,
                "X-Slack-Signature": signer.generate_signature(timestamp=timestamp, body=body),
            }
            started = time.perf_counter()
            connection.request("POST", "/slack/events", body=body.encode(), headers=headers)
            response = connection.getresponse()
            response.read()
            elapsed = time.perf_counter() - started
            with lock:
                latencies.append(elapsed)
                errors[0] += response.status != 200
        connection.close()

    threads = [threading.Thread(target=client) for _ in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return latencies, time.perf_counter() - started, errors[0]


def wait_until_posted(database_url: str, *, started: float, timeout: float = 300) -> float:
    """Seconds after the last acknowledgement until every complaint's team message is posted."""
    engine = create_engine(normalise_url(database_url))
    try:
        while time.perf_counter() - started < timeout:
            with engine.connect() as connection:
                unposted = connection.execute(text("SELECT count(*) FROM complaint WHERE slack_ts = ''")).scalar_one()
            if not unposted:
                return time.perf_counter() - started
            time.sleep(0.05)
        raise RuntimeError(f"{unposted} team messages still unposted after {timeout} s")
    finally:
        engine.dispose()


def run_target(name: str, command: list[str], env: dict, args, database_url: str | None, others: dict[str, int]) -> Result:
    port = free_port()
    signer_client = SignedClient("", SECRET, env["SLACK_API_URL"].replace("/api/", "/respond/bench"))
    bodies = [
        signer_client.command_body(f"!high #billing bench complaint {i}: charged twice for order {i}",
                                   user=f"UBENCH{i % 50:04d}", command="/complaint", channel="CBENCH0001")
        for i in range(WARMUP + args.requests)
    ]
    process = subprocess.Popen(
        command, env={**env, "PORT": str(port)}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        wait_for_port(port, process)
        fire(port, bodies[:WARMUP], args.clients)
        meter = CpuMeter({"app": process.pid, **others})
        before = meter.sample()
        latencies, seconds, errors = fire(port, bodies[WARMUP:], args.clients)
        posting = database_url and env["COMPLAINTS_CHANNEL"]
        drained = wait_until_posted(database_url, started=time.perf_counter()) if posting else None
        after = meter.sample()
    finally:
        process.terminate()
        process.wait(timeout=60)
    cpu = {part: (after[part] - before[part]) / len(latencies) * 1000 for part in after}
    result = Result(name, latencies, seconds, errors, cpu, drained)
    if database_url:
        engine = create_engine(normalise_url(database_url))
        with engine.connect() as connection:
            result.rows = connection.execute(text("SELECT count(*) FROM complaint")).scalar_one()
            result.distinct = connection.execute(text("SELECT count(DISTINCT description) FROM complaint")).scalar_one()
        engine.dispose()
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (WEB_CONCURRENCY)")
    parser.add_argument("--complaints-channel", default="CCOMPLAIN1",
                        help="COMPLAINTS_CHANNEL; empty: no team message, so no Web API call after the ack")
    parser.add_argument("--slack-latency-ms", type=float, default=0,
                        help="how long the fake Web API takes to answer, like Slack across a network")
    args = parser.parse_args()

    from tests.postgres import start_cluster

    emulator_port = free_port()
    emulator = subprocess.Popen(
        [sys.executable, "-c", EMULATOR, str(emulator_port), str(args.slack_latency_ms / 1000)]
    )
    cluster = start_cluster()
    workdir = Path(tempfile.mkdtemp(prefix="servicedesk-bench-"))
    env = {
        **os.environ,
        "SLACK_BOT_TOKEN": "xoxb-bench", "SLACK_SIGNING_SECRET": SECRET, "SLACK_APP_TOKEN": "",
        "SLACK_API_URL": f"http://127.0.0.1:{emulator_port}/api/", "COMPLAINTS_CHANNEL": args.complaints_channel,
        "WEB_CONCURRENCY": str(args.workers),
    }
    sqlite_url = f"sqlite:///{workdir / 'bench.db'}"
    postgres_url = cluster.url
    try:
        wait_for_port(emulator_port, emulator)
        for url in (sqlite_url, postgres_url):
            upgrade(url)
        servicedesk = [sys.executable, "-m", "bot.app.cli", "run"]
        postmaster = int((cluster.root / "data" / "postmaster.pid").read_text().split()[0])
        others = {"Web API emulator": emulator.pid, "PostgreSQL": postmaster}
        results = [
            run_target("bare Bolt app, ack only (floor)", [sys.executable, "-m", "bench.floor_app"],
                       {**env, "DATABASE_URL": sqlite_url}, args, None, others),
            run_target("servicedesk, SQLite", servicedesk, {**env, "DATABASE_URL": sqlite_url}, args, sqlite_url,
                       others),
            run_target("servicedesk, PostgreSQL", servicedesk, {**env, "DATABASE_URL": postgres_url}, args,
                       postgres_url, others),
        ]
    finally:
        cluster.stop()
        emulator.terminate()
    floor = results[0]
    print(f"{args.requests} signed /complaint requests, {args.clients} concurrent clients, "
          f"{args.workers} gunicorn workers x 8 threads, {os.cpu_count()} CPUs, "
          f"Web API answers in {args.slack_latency_ms:g} ms\n")
    print("| target | p50 ms | p99 ms | acks/s | vs floor | non-200 | complaint rows (distinct) "
          "| team messages all posted | complaints/s end to end |")
    print("|---|---|---|---|---|---|---|---|---|")
    for result in results:
        rows = "—" if result.rows is None else f"{result.rows} ({result.distinct})"
        posted = f"{result.drained:.1f} s after the last ack" if result.drained is not None else "—"
        end_to_end = f"{len(result.latencies) / (result.seconds + result.drained):.0f}" if result.drained is not None else "—"
        print(f"| {result.target} | {result.quantile(0.5):.1f} | {result.quantile(0.99):.1f} | "
              f"{result.rate:.0f} | {floor.rate / result.rate:.2f}x slower | {result.errors} | {rows} | "
              f"{posted} | {end_to_end} |")
    parts = list(results[0].cpu)
    print("\nCPU per request (ms), by process, from the first measured request until every team message was posted:\n")
    print(f"| target | {' | '.join(parts)} | total |")
    print("|---|" + "---|" * (len(parts) + 1))
    for result in results:
        print(f"| {result.target} | {' | '.join(f'{result.cpu[p]:.2f}' for p in parts)} | {sum(result.cpu.values()):.2f} |")
    expected = WARMUP + args.requests
    lost = [r.target for r in results[1:] if (r.rows, r.distinct) != (expected, expected)]
    if lost:
        print(f"\nLOST OR DUPLICATED COMPLAINTS in: {', '.join(lost)} (expected {expected} rows)")
        return 1
    print(f"\nEvery run stored exactly {expected} complaints ({WARMUP} warm-up + {args.requests}).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
