"""Where the CPU of one `/complaint <text>` acknowledgement goes, in the real server's app.

The WSGI application a gunicorn worker serves (`bot.app.server.PreforkedApp`, built
from the environment's settings on a fresh SQLite file or `--database-url`, then
`after_fork()` as in a worker) is called directly, one signed slash command after
another on each of `--threads` threads. Slack's Web API is the emulator, in a process of
its own (as in bench/ack_latency.py), so its CPU is not counted here. No HTTP server:
what is measured is the project and Bolt, not gunicorn. The team channel is unset
unless `--channel` is given: the acknowledgement path alone.

    python -m bench.ack_profile [--requests 2000] [--threads 1] [--channel CCOMPLAIN1] [--top 25] [--profile all.txt]

Two passes after the warm-up. The first is timed: CPU per request of the whole process
and of each kind of thread (the request threads, the complaint writer, the publisher
threads that post the team copy), read from /proc. The second runs under cProfile, one
profiler per thread, each counting its own thread's CPU time (`time.thread_time`) only
while it works for a request (a request, a write batch, a publisher task); it prints,
per kind of thread, the CPU by area (own time; a C function's is charged to the areas
that called it) and the top functions by own and by cumulative time, in microseconds per
request. `--profile FILE` writes pstats' full listing too.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import re
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

from bench.ack_load import CLOCK_TICKS, free_port, wait_for_port
from bot.app.console.loopback import SignedClient
from models.db import upgrade

SECRET = "bench-signing-secret"
EMULATOR = """
import sys, threading
from bot.app.console.slack_emulator import SlackEmulator
SlackEmulator().start(int(sys.argv[1]))
threading.Event().wait()
"""
REQUEST, WRITER, PUBLISHER = "request threads", "complaint writer", "publisher threads"
# Areas by where a function's file is; the first that matches wins.
AREAS = (
    ("knowledge-base suggestions", ("bot/knowledge/", "/rapidfuzz/", "/numpy/")),
    ("complaint writer and rows", ("bot/complaint_writer.py", "bot/complaints.py", "bot/request_dedup.py")),
    ("team copy", ("handlers/team_copy.py", "bot/team_copies.py", "bot/channel_pace.py")),
    ("Block Kit and text", ("handlers/complaint_views.py", "handlers/knowledge_views.py", "handlers/blocks.py",
                            "bot/complaint_text.py")),
    ("other project code", ("/bot/", "/handlers/", "/models/")),
    ("SQLAlchemy and SQLite", ("/sqlalchemy/", "/sqlmodel/", "sqlite3")),
    ("Bolt", ("/slack_bolt/",)),
    ("slack_sdk (Web API client)", ("/slack_sdk/",)),
    ("pydantic", ("/pydantic",)),
    ("form bodies (urllib.parse)", ("/urllib/parse.py",)),
    ("http and sockets", ("/http/", "/urllib/", "socket.py", "ssl.py", "selectors.py")),
    ("json", ("/json/",)),
    ("threads and queues", ("threading.py", "queue.py", "/concurrent/")),
)


def area_of(filename: str) -> str:
    for area, needles in AREAS:
        if any(needle in filename for needle in needles):
            return area
    return "other (stdlib, logging, ...)"


class ThreadProfiles:
    """One cProfile per thread, on only around the work it is asked to profile (so a
    thread's idle waits and the warm-up are not counted)."""

    def __init__(self) -> None:
        self.on = False
        self._local = threading.local()
        self._lock = threading.Lock()
        self.by_kind: dict[str, list[cProfile.Profile]] = defaultdict(list)

    def run(self, kind: str, work: Callable, *args):
        local = self._local
        if not self.on or getattr(local, "depth", 0):
            return work(*args)
        if not hasattr(local, "profile"):
            local.profile = cProfile.Profile(time.thread_time)
            with self._lock:
                self.by_kind[kind].append(local.profile)
        local.depth = 1
        local.profile.enable()
        try:
            return work(*args)
        finally:
            local.profile.disable()
            local.depth = 0


def thread_cpu() -> dict[str, float]:
    """CPU seconds so far of this process's threads, by kind of thread."""
    names = {thread.native_id: thread.name for thread in threading.enumerate()}
    used: dict[str, float] = defaultdict(float)
    for task in Path("/proc/self/task").iterdir():
        try:
            fields = (task / "stat").read_text().rpartition(")")[2].split()
        except OSError:
            continue
        name = names.get(int(task.name), "")
        kind = (WRITER if name == "complaint-writer" else PUBLISHER if name.startswith("publisher")
                else REQUEST if name.startswith(("MainThread", "bench-request")) else f"other threads ({name or 'not Python'})")
        used[kind] += (int(fields[11]) + int(fields[12])) / CLOCK_TICKS
    return used


def by_area(stats: pstats.Stats) -> dict[str, float]:
    """Own time by area; a built-in's (C code: numpy, rapidfuzz, sqlite3, json's
    encoder...) is charged to its callers, in proportion to the time spent under each."""
    seconds: dict[str, float] = defaultdict(float)
    for (filename, _, name), (_, _, own, _, callers) in stats.stats.items():
        if filename != "~" or not callers:
            seconds[area_of(filename if filename != "~" else name)] += own
            continue
        total = sum(edge[2] for edge in callers.values()) or 1.0
        for (caller_file, _, _), edge in callers.items():
            seconds[area_of(caller_file if caller_file != "~" else name)] += own * edge[2] / total
    return seconds


def describe(function: tuple[str, int, str]) -> str:
    filename, line, name = function
    if filename == "~":
        return name
    short = re.sub(r".*/(site-packages|lib/python3\.\d+)/", "", filename)
    short = re.sub(r"^.*?/((bot|handlers|models|bench)/)", r"\1", short)
    return f"{short}:{line}({name})"


def print_profile(kind: str, profiles: list[cProfile.Profile], requests: int, top: int, out) -> pstats.Stats:
    stats = pstats.Stats(profiles[0], stream=out)
    for profile in profiles[1:]:
        stats.add(profile)
    per_request = 1e6 / requests
    areas = by_area(stats)
    total = sum(areas.values())
    print(f"\n### {kind}: {total * per_request:.0f} µs of CPU per request under cProfile\n", file=out)
    print("| area (own time) | µs per request | share |\n|---|---|---|", file=out)
    for area, seconds in sorted(areas.items(), key=lambda item: -item[1]):
        print(f"| {area} | {seconds * per_request:.0f} | {seconds / total:.0%} |", file=out)
    for order, column in (("own", 2), ("cumulative", 3)):
        print(f"\n| top {top} by {order} time | calls per request | own µs | cumulative µs |\n|---|---|---|---|",
              file=out)
        ranked = sorted(stats.stats.items(), key=lambda item: -item[1][column])[:top]
        for function, (_, calls, own, cumulative, _) in ranked:
            print(f"| {describe(function)} | {calls / requests:.2f} | {own * per_request:.0f} "
                  f"| {cumulative * per_request:.0f} |", file=out)
    return stats


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--warmup", type=int, default=200)
    parser.add_argument("--database-url", help="default: a fresh SQLite file")
    parser.add_argument("--channel", default="", help="COMPLAINTS_CHANNEL: post the team copy too")
    parser.add_argument("--threads", type=int, default=1,
                        help="send from this many threads at once (complaints then share commits)")
    parser.add_argument("--top", type=int, default=25, help="functions listed per kind of thread (0: no profile)")
    parser.add_argument("--profile", help="also write pstats' full listing here")
    args = parser.parse_args(argv)

    emulator_port = free_port()
    emulator = subprocess.Popen([sys.executable, "-c", EMULATOR, str(emulator_port)])
    try:
        wait_for_port(emulator_port, emulator)
        return profile(args, f"http://127.0.0.1:{emulator_port}/api/")
    finally:
        emulator.terminate()
        emulator.wait(timeout=30)


def environ_for(body: str) -> dict:
    from slack_sdk.signature import SignatureVerifier

    timestamp = str(int(time.time()))
    raw = body.encode()
    return {
        "REQUEST_METHOD": "POST", "PATH_INFO": "/slack/events", "QUERY_STRING": "", "SERVER_NAME": "bench",
        "SERVER_PORT": "3000", "CONTENT_TYPE": "application/x-www-form-urlencoded", "CONTENT_LENGTH": str(len(raw)),
        "HTTP_X_SLACK_REQUEST_TIMESTAMP": timestamp,
        "HTTP_X_SLACK_SIGNATURE": SignatureVerifier(SECRET).generate_signature(timestamp=timestamp, body=body),
        "wsgi.input": io.BytesIO(raw), "wsgi.url_scheme": "http",
    }


def profile(args, api_url: str) -> int:
    database_url = args.database_url or f"sqlite:///{Path(tempfile.mkdtemp(prefix='ack-profile-')) / 'bench.db'}"
    upgrade(database_url)
    os.environ.update({
        "SLACK_BOT_TOKEN": "xoxb-bench", "SLACK_SIGNING_SECRET": SECRET, "SLACK_APP_TOKEN": "",
        "SLACK_API_URL": api_url, "COMPLAINTS_CHANNEL": args.channel, "DATABASE_URL": database_url,
        "SCHEDULER_ENABLED": "false", "SLACK_CHANNEL_POSTS_PER_SECOND": "1000",
    })
    from bench.ack_latency import wait_until_posted
    from bot.app.server import PreforkedApp
    from bot.config import load_settings

    server = PreforkedApp(load_settings())
    server.after_fork()
    profiles = ThreadProfiles()
    # Instrumentation only: each write batch and each publisher task runs under its
    # thread's profiler while the profiled pass runs (nothing else changes).
    writer, publisher = server.services.complaint_writer, server.services.publisher
    write, submit = writer._write, publisher.submit
    writer._write = lambda batch: profiles.run(WRITER, write, batch)
    publisher.submit = lambda fn, *a, **kw: submit(profiles.run, PUBLISHER, fn, *a, **kw)
    signer = SignedClient("", SECRET, api_url.replace("/api/", "/respond/bench"))
    statuses: list[str] = []
    request_cpu, lock = [0.0], threading.Lock()

    def start_response(status, headers, exc_info=None):
        statuses.append(status)

    def answer(environ: dict) -> bytes:
        return b"".join(server(environ, start_response))

    def bodies(phase: str, count: int) -> list[dict]:
        return [environ_for(signer.command_body(
            f"!high #billing bench complaint {phase}-{i}: charged twice for order {i}",
            user=f"UBENCH{i % 50:04d}", command="/complaint", channel="CBENCH0001")) for i in range(count)]

    def run(environs: list[dict]) -> None:
        def one_thread(mine: list[dict]) -> None:
            started = time.thread_time()
            for environ in mine:
                profiles.run(REQUEST, answer, environ)
            with lock:  # the thread's /proc entry goes when it ends
                request_cpu[0] += time.thread_time() - started

        threads = [threading.Thread(target=one_thread, args=(environs[n::args.threads],), name=f"bench-request-{n}")
                   for n in range(args.threads)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        if args.channel:
            wait_until_posted(database_url)

    run(bodies("warm-up", args.warmup))
    measured = bodies("measured", args.requests)
    before, cpu, wall = thread_cpu(), time.process_time(), time.perf_counter()
    request_cpu[0] = 0.0
    run(measured)
    cpu, wall, after = time.process_time() - cpu, time.perf_counter() - wall, thread_cpu()
    after[REQUEST] = before.get(REQUEST, 0.0) + request_cpu[0]
    failed = [status for status in statuses if not status.startswith("200")]
    per_request = 1000 / args.requests
    print(f"{args.requests} requests from {args.threads} thread(s), team copy {'posted to ' + args.channel if args.channel else 'not posted'}: "
          f"{cpu * per_request:.3f} ms CPU and {wall * per_request:.3f} ms wall per request (whole process, "
          f"without the profiler); {len(failed)} not 200; load average {os.getloadavg()[0]:.1f}\n")
    print("| threads | CPU ms per request |\n|---|---|")
    for kind in sorted(after, key=lambda kind: -(after[kind] - before.get(kind, 0.0))):
        print(f"| {kind} | {(after[kind] - before.get(kind, 0.0)) * per_request:.3f} |")
    if args.top:
        profiled = bodies("profiled", args.requests)
        profiles.on = True
        run(profiled)
        profiles.on = False
        full = io.StringIO()
        for kind in (REQUEST, WRITER, PUBLISHER):
            if profiles.by_kind.get(kind):
                stats = print_profile(kind, profiles.by_kind[kind], args.requests, args.top, sys.stdout)
                full.write(f"\n==== {kind} (seconds over {args.requests} requests) ====\n")
                stats.stream = full
                stats.sort_stats("tottime").print_stats(100)
                stats.sort_stats("cumulative").print_stats(100)
        if args.profile:
            Path(args.profile).write_text(full.getvalue())
    failed = [status for status in statuses if not status.startswith("200")]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
