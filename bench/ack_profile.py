"""Where the CPU of one `/complaint <text>` acknowledgement goes, in-process.

The WSGI application `servicedesk run` serves (built by `bot.app.server.build_wsgi_app`
from the environment's settings, on a fresh SQLite file or `--database-url`) is called
directly, one signed slash command after another on each of `--threads` threads (one
by default), with the Web API
emulator on a thread of its own. No HTTP server, so what is measured is the project
and Bolt, not gunicorn. The team channel is unset unless `--channel` is given: the
acknowledgement path alone.

    python -m bench.ack_profile [--requests 2000] [--threads 1] [--profile top.txt] [--channel CCOMPLAIN1]

It prints the CPU per request (the whole process, the publisher threads included) and,
with `--profile`, cProfile's top functions of the request's thread, by own and by
cumulative time, in microseconds per request.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import sys
import tempfile
import threading
import time
from pathlib import Path

from bot.app.console.loopback import SignedClient
from bot.app.console.slack_emulator import SlackEmulator
from bot.config import load_settings
from models.db import upgrade

SECRET = "bench-signing-secret"


def environ_for(body: str, secret: str) -> dict:
    from slack_sdk.signature import SignatureVerifier

    timestamp = str(int(time.time()))
    raw = body.encode()
    return {
        "REQUEST_METHOD": "POST", "PATH_INFO": "/slack/events", "QUERY_STRING": "", "SERVER_NAME": "bench",
        "SERVER_PORT": "3000", "CONTENT_TYPE": "application/x-www-form-urlencoded", "CONTENT_LENGTH": str(len(raw)),
        "HTTP_X_SLACK_REQUEST_TIMESTAMP": timestamp,
        "HTTP_X_SLACK_SIGNATURE": SignatureVerifier(secret).generate_signature(timestamp=timestamp, body=body),
        "wsgi.input": io.BytesIO(raw), "wsgi.url_scheme": "http",
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--warmup", type=int, default=200)
    parser.add_argument("--database-url", help="default: a fresh SQLite file")
    parser.add_argument("--channel", default="", help="COMPLAINTS_CHANNEL: post the team copy too")
    parser.add_argument("--threads", type=int, default=1,
                        help="send from this many threads at once (complaints then share commits)")
    parser.add_argument("--profile", help="write cProfile's top functions here (one thread only)")
    parser.add_argument("--top", type=int, default=40)
    args = parser.parse_args(argv)

    slack = SlackEmulator().start()
    database_url = args.database_url or f"sqlite:///{Path(tempfile.mkdtemp(prefix='ack-profile-')) / 'bench.db'}"
    upgrade(database_url)
    os.environ.update({
        "SLACK_BOT_TOKEN": "xoxb-bench", "SLACK_SIGNING_SECRET": SECRET, "SLACK_APP_TOKEN": "",
        "SLACK_API_URL": slack.api_url,
        "COMPLAINTS_CHANNEL": args.channel, "DATABASE_URL": database_url, "SCHEDULER_ENABLED": "false",
    })
    from bot.app.server import build_wsgi_app

    wsgi = build_wsgi_app(load_settings())
    signer = SignedClient("", SECRET, slack.response_url("bench"))
    statuses: list[str] = []

    def start_response(status, headers, exc_info=None):
        statuses.append(status)

    def bodies(phase: str, count: int) -> list[dict]:
        return [environ_for(signer.command_body(
            f"!high #billing bench complaint {phase}-{i}: charged twice for order {i}",
            user=f"UBENCH{i % 50:04d}", command="/complaint", channel="CBENCH0001"), SECRET) for i in range(count)]

    def run_one_thread(environs: list[dict]) -> None:
        for environ in environs:
            b"".join(wsgi(environ, start_response))

    def run(environs: list[dict]) -> None:
        threads = [threading.Thread(target=run_one_thread, args=(environs[n::args.threads],))
                   for n in range(args.threads)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    run(bodies("warm-up", args.warmup))
    measured = bodies("measured", args.requests)
    # The request's thread's own CPU time, not the wall clock (other threads and other
    # processes would show up as time spent in whatever was waiting).
    profiler = cProfile.Profile(time.thread_time) if args.profile else None
    if profiler and args.threads != 1:
        parser.error("--profile profiles one thread: leave --threads at 1")
    cpu, wall = time.process_time(), time.perf_counter()
    if profiler:
        profiler.enable()
    run(measured)
    if profiler:
        profiler.disable()
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    failed = [status for status in statuses if not status.startswith("200")]
    print(f"{args.requests} requests: {cpu / args.requests * 1000:.3f} ms CPU and "
          f"{wall / args.requests * 1000:.3f} ms wall per request (whole process){' with cProfile' if profiler else ''};"
          f" {len(failed)} not 200")
    if profiler:
        out = io.StringIO()
        stats = pstats.Stats(profiler, stream=out)
        for order in ("tottime", "cumulative"):
            out.write(f"\n==== by {order} (times in seconds over {args.requests} requests) ====\n")
            stats.sort_stats(order).print_stats(args.top)
        Path(args.profile).write_text(out.getvalue())
    slack.stop()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
