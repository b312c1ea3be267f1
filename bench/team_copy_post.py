"""CPU per team copy posted (issue 17, point 4), step by step, side by side in one run.

Each variant runs in a fresh interpreter that logs `--posts` complaints into a SQLite
database of its own and then posts their team copies one after another through
`handlers.team_copy.post_team_copy`, against the Web API emulator (keep-alive, in its
own process). CPU is read from /proc for both (steadier than wall time on a shared
machine); each variant runs `--repeat` times, interleaved, and the median is shown.

- baseline: the code at `--baseline` (a checkout of main before this work: urllib's
  new connection per call, the blocks built twice, an ORM `UPDATE … RETURNING`);
- this code with the ORM update and a new connection per call (so the step from the
  baseline is the blocks built once);
- this code with a new connection per call (the step: the Core update);
- this code (the step: keep-alive connections).

    python -m bench.team_copy_post --baseline DIR [--posts 300] [--repeat 5]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.ack_load import free_port, tree_cpu_seconds, wait_for_port
from bench.ack_latency import EMULATOR

# Run in the variant's interpreter: log the complaints, then time their posts.
POSTER = r"""
import json, sys, time
from datetime import UTC, datetime
from sqlalchemy import update
from sqlmodel import Session
from slack_sdk import WebClient
from bot import complaints as service
from bot.config import load_settings
from bot.services import build_services, make_client
from handlers import team_copy
from models.complaints import Complaint
from models.db import make_engine, unit_of_work, upgrade

api_url, database, posts, variant = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
settings = load_settings(env_file=None, database_url=database, slack_bot_token="xoxb-bench", slack_api_url=api_url,
                         complaints_channel="CCOMPLAIN1", knowledge_dir=sys.argv[5],
                         **({"slack_channel_posts_per_second": 1000} if variant != "baseline" else {}))
upgrade(settings.database_url)
services = build_services(settings, engine=make_engine(settings.database_url))
client = make_client(settings)
if variant in ("orm", "urllib"):
    client = WebClient(token=client.token, base_url=client.base_url, timeout=client.timeout,
                       retry_handlers=client.retry_handlers)
if variant == "orm":
    def orm_set_message_location(connection, *, complaint_id, channel, ts):
        statement = (update(Complaint).where(Complaint.id == complaint_id)
                     .values(slack_channel=channel, slack_ts=ts).returning(Complaint))
        with Session(bind=connection) as session:
            return session.execute(statement, execution_options={"populate_existing": True}).scalar_one(), True
    service.set_message_location = orm_set_message_location
complaints = []
with unit_of_work(services.open_session) as session:
    for n in range(posts + 20):
        complaints.append(service.log_complaint(session, draft=service.ComplaintDraft(f"bench complaint {n}"),
                                                reporter_id="UBENCH0001", now=datetime.now(UTC)))
for complaint in complaints[:20]:  # warm up: imports, statement caches, the first connection
    team_copy.post_team_copy(services, client, complaint)
print("ready", flush=True)
sys.stdin.readline()
cpu, wall = time.process_time(), time.perf_counter()
for complaint in complaints[20:]:
    team_copy.post_team_copy(services, client, complaint)
print(json.dumps({"cpu": time.process_time() - cpu, "wall": time.perf_counter() - wall}), flush=True)
"""

VARIANTS = {
    "baseline": "baseline: main (a new connection per call, blocks twice, ORM update)",
    "orm": "+ blocks built once (ORM update, a new connection per call)",
    "urllib": "+ Core update (a new connection per call)",
    "pooled": "+ keep-alive connections (this code)",
}


def run_variant(variant: str, *, baseline: Path, api_url: str, emulator_pid: int, posts: int, workdir: Path) -> dict:
    database = f"sqlite:///{workdir / f'{variant}-{time.monotonic_ns()}.db'}"
    root = baseline if variant == "baseline" else Path(__file__).resolve().parents[1]
    env = {**os.environ, "PYTHONPATH": str(root)}
    process = subprocess.Popen([sys.executable, "-c", POSTER, api_url, database, str(posts), variant, str(workdir)],
                               cwd=root,
                               env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        if process.stdout.readline().strip() != "ready":
            raise RuntimeError(f"{variant}: the poster did not start")
        emulator_before = tree_cpu_seconds(emulator_pid)
        process.stdin.write("go\n")
        process.stdin.flush()
        measured = json.loads(process.stdout.readline())
        measured["emulator"] = tree_cpu_seconds(emulator_pid) - emulator_before
    finally:
        process.wait(timeout=60)
    return {name: seconds * 1000 / posts for name, seconds in measured.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--baseline", type=Path, required=True, help="a checkout of the code to compare with")
    parser.add_argument("--posts", type=int, default=300)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)
    port = free_port()
    emulator = subprocess.Popen([sys.executable, "-c", EMULATOR, str(port), "0"])
    load_before = os.getloadavg()[0]
    try:
        wait_for_port(port, emulator)
        runs: dict[str, list[dict]] = {variant: [] for variant in VARIANTS}
        with tempfile.TemporaryDirectory() as workdir:
            for _ in range(args.repeat):
                for variant in VARIANTS:
                    runs[variant].append(run_variant(variant, baseline=args.baseline, api_url=f"http://127.0.0.1:{port}/api/",
                                                     emulator_pid=emulator.pid, posts=args.posts, workdir=Path(workdir)))
    finally:
        emulator.terminate()
        emulator.wait(timeout=10)
    print(f"{args.posts} team copies posted one after another, {args.repeat} runs each, interleaved; medians; "
          f"load average {load_before:.1f} before, {os.getloadavg()[0]:.1f} after")
    print()
    print("| variant | app CPU ms per post | Web API emulator CPU ms | wall ms | app CPU vs baseline |")
    print("|---|---|---|---|---|")
    base = statistics.median(run["cpu"] for run in runs["baseline"])
    for variant, label in VARIANTS.items():
        cpu, emu, wall = (statistics.median(run[part] for run in runs[variant]) for part in ("cpu", "emulator", "wall"))
        print(f"| {label} | {cpu:.2f} | {emu:.2f} | {wall:.2f} | {cpu / base:.2f}x |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
