"""Context switches and CPU per acknowledgement, servicedesk against the minimal app.

bench/ack_latency.py says how much more CPU servicedesk spends per `/complaint` than a
minimal Bolt app that saves a row with `sqlite3`; this says how much of it is the
threads handing work to each other rather than work. Each target runs under gunicorn
as bench/ack_latency.py runs it (SQLite, ack path), takes a closed loop of signed slash
commands, and its workers' context switches (voluntary: a thread waited for a lock, a
condition or I/O; involuntary: it was preempted) are read from /proc before and after.

    python -m bench.ack_switches [--requests 2000] [--clients 32]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from bench.ack_latency import EMULATOR, SECRET
from bench.ack_load import CpuMeter, fire, free_port, wait_for_port
from bot.app.console.loopback import SignedClient
from models.db import upgrade


def switches(root: int) -> tuple[int, int]:
    """(voluntary, involuntary) context switches so far of every thread of `root`'s children."""
    totals = [0, 0]
    for child in Path(f"/proc/{root}/task/{root}/children").read_text().split():
        for task in Path(f"/proc/{child}/task").iterdir():
            try:
                lines = (task / "status").read_text().splitlines()
            except OSError:
                continue  # the thread ended meanwhile
            for line in lines:
                if line.startswith("voluntary_ctxt_switches"):
                    totals[0] += int(line.split()[1])
                elif line.startswith("nonvoluntary_ctxt_switches"):
                    totals[1] += int(line.split()[1])
    return totals[0], totals[1]


def measure(name: str, command: list[str], env: dict[str, str], args) -> str:
    port = free_port()
    signer = SignedClient("", SECRET, env["SLACK_API_URL"].replace("/api/", "/respond/bench"))
    bodies = [signer.command_body(f"!high #billing bench complaint {i}: charged twice for order {i}",
                                  user=f"UBENCH{i % 50:04d}", command="/complaint", channel="CBENCH0001")
              for i in range(args.requests + 200)]
    process = subprocess.Popen(command, env={**env, "PORT": str(port)}, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    try:
        wait_for_port(port, process)
        fire(port, bodies[:200], secret=SECRET, clients=args.clients)
        meter, before = CpuMeter({"app": process.pid}), switches(process.pid)
        cpu = meter.sample()
        fired = fire(port, bodies[200:], secret=SECRET, clients=args.clients)
        cpu_after, after = meter.sample(), switches(process.pid)
    finally:
        process.terminate()
        process.wait(timeout=30)
    per = 1 / args.requests
    voluntary, involuntary = ((b - a) * per for a, b in zip(before, after))
    return (f"| {name} | {fired.rate:.0f} | {(cpu_after['app'] - cpu['app']) * per * 1000:.2f} | {voluntary:.1f} "
            f"| {involuntary:.1f} | {fired.errors} |")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--clients", type=int, default=32)
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="servicedesk-switches-"))
    emulator_port = free_port()
    emulator = subprocess.Popen([sys.executable, "-c", EMULATOR, str(emulator_port), "0"])
    env = {**os.environ, "SLACK_BOT_TOKEN": "xoxb-bench", "SLACK_SIGNING_SECRET": SECRET, "SLACK_APP_TOKEN": "",
           "SLACK_API_URL": f"http://127.0.0.1:{emulator_port}/api/", "COMPLAINTS_CHANNEL": "", "WEB_CONCURRENCY": "2",
           "FLOOR_PROCESS_BEFORE_RESPONSE": "1"}
    database_url = f"sqlite:///{workdir / 'servicedesk.db'}"
    upgrade(database_url)
    try:
        wait_for_port(emulator_port, emulator)
        rows = [measure("minimal app: sqlite3 save, then ack",
                        [sys.executable, "-m", "bench.floor_app", "sqlite3", str(workdir / "minimal.db")],
                        {**env, "DATABASE_URL": f"sqlite:///{workdir / 'floor.db'}"}, args),
                measure("servicedesk, SQLite, ack path", [sys.executable, "-m", "bot.app.cli", "run"],
                        {**env, "DATABASE_URL": database_url}, args)]
    finally:
        emulator.terminate()
    print(f"Closed loop, {args.requests} requests from {args.clients} clients; load average {os.getloadavg()[0]:.1f} "
          f"after\n\n| target | acks/s | app CPU ms per request | voluntary switches per request "
          "| involuntary switches per request | non-200 |\n|---|---|---|---|---|---|")
    print("\n".join(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
