"""What saving new complaints costs PostgreSQL and the app, by how they are written.

The complaint writer's work without the rest of the app: batches of new complaints,
each with its `logged` event, follower and request key, written by one connection into
a durable PostgreSQL cluster of its own (fsync and synchronous_commit on), either

- `transaction`: BEGIN, the four Core INSERTs of bot.complaints.save_new_complaints and
  bot.request_dedup.record_keys, COMMIT (six round trips), or
- `one statement`: BEGIN, models/complaint_inserts.py's statement, COMMIT (three),

into a database whose search index is kept by 0008's row triggers (revision 0016) or by
0017's statement triggers (head). CPU of the app process and of the connection's server
process, per complaint, medians of `--repeat` interleaved rounds.

    python -m bench.pg_complaint_writes [--rows 4000] [--batches 1,16] [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
import uuid
from datetime import UTC, datetime

from sqlalchemy import create_engine, text

from bot.complaint_writer import LOGGED_AS
from bot.complaints import ComplaintDraft, new_complaint_row, save_new_complaints
from bot.request_dedup import record_keys
from models.complaint_inserts import insert_complaints
from models.db import normalise_url, upgrade

TICKS = os.sysconf("SC_CLK_TCK")


def process_cpu(pid: int) -> float:
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def write(engine, batch: int, count: int, way: str) -> None:
    for start in range(0, count, batch):
        now = datetime.now(UTC)
        rows = [new_complaint_row(draft=ComplaintDraft(f"charged twice for order {start + i}, bench complaint",
                                                       category="billing", severity="high"),
                                  reporter_id=f"UBENCH{i % 50:04d}", now=now) for i in range(batch)]
        keys = [uuid.uuid4().hex for _ in rows]
        if way == "one statement":
            with engine.begin() as connection:
                connection.execute(*insert_complaints(rows, [(i, key, now, LOGGED_AS) for i, key in enumerate(keys)]))
        else:
            with engine.begin() as connection:
                saved = save_new_complaints(connection, rows)
                record_keys(connection, [(key, now, LOGGED_AS + c.reference) for key, c in zip(keys, saved)])


def measure(url: str, batch: int, count: int, way: str) -> tuple[float, float]:
    engine = create_engine(normalise_url(url), pool_size=1)
    try:
        with engine.connect() as connection:
            server = connection.execute(text("SELECT pg_backend_pid()")).scalar_one()
        write(engine, batch, 200, way)  # warm: prepared statements, caches
        server_before, app_before = process_cpu(server), time.process_time()
        write(engine, batch, count, way)
        return ((process_cpu(server) - server_before) / count * 1000, (time.process_time() - app_before) / count * 1000)
    finally:
        engine.dispose()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=4000, help="complaints per measurement")
    parser.add_argument("--batches", default="1,16", help="complaints per write")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    from tests.postgres import start_cluster

    cluster = start_cluster(durable=True)
    try:
        admin = create_engine(normalise_url(cluster.url), isolation_level="AUTOCOMMIT")
        urls = {}
        for revision, triggers in (("0016", "row triggers (0016)"), ("heads", "statement triggers (0017)")):
            name = f"writes_{revision}"
            with admin.connect() as connection:
                connection.execute(text(f"CREATE DATABASE {name}"))
            urls[triggers] = cluster.url.rsplit("/", 1)[0] + "/" + name
            upgrade(urls[triggers], revision)
        admin.dispose()
        variants = [(triggers, way, int(batch)) for batch in args.batches.split(",")
                    for triggers in urls for way in ("transaction", "one statement")]
        figures: dict[tuple, list[tuple[float, float]]] = {variant: [] for variant in variants}
        for _ in range(args.repeat):
            for triggers, way, batch in variants:
                rows = args.rows if batch > 1 else args.rows // 4
                figures[(triggers, way, batch)].append(measure(urls[triggers], batch, rows, way))
    finally:
        cluster.stop()
    print(f"load average {os.getloadavg()[0]:.1f}; medians of {args.repeat}\n")
    print("| search index | written as | complaints per write | PostgreSQL CPU ms per complaint | app CPU ms per complaint |")
    print("|---|---|---|---|---|")
    for (triggers, way, batch), runs in figures.items():
        print(f"| {triggers} | {way} | {batch} | {statistics.median(r[0] for r in runs):.3f} "
              f"| {statistics.median(r[1] for r in runs):.3f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
