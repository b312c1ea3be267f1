"""CPU of saving where a team copy was posted (bot.complaints.set_message_location),
against a statement returning only `updated_at` and the replies-waiting flag, side by
side and interleaved in one process (issue 17: does the publisher need the whole row?).

Client CPU is this process's; on PostgreSQL (a durable cluster of its own) the server
CPU is read from /proc for the connection's backend. Prints each round's ms per call,
and how many of the table's updates were HOT.

    python -m bench.location_update [--backend sqlite|postgresql] [--calls 4000]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from datetime import datetime, timezone

from sqlalchemy import bindparam, exists, text, update
from sqlalchemy.engine import Engine

from bench.ack_latency import new_postgres_database
from bot import complaints as service
from models.complaints import Complaint, PendingThreadReply
from models.db import make_engine, upgrade

TABLE = Complaint.__table__
NARROW = (
    update(TABLE).where(TABLE.c.id == bindparam("complaint_id"))
    .values(slack_channel=bindparam("slack_channel"), slack_ts=bindparam("slack_ts"))
    .returning(TABLE.c.updated_at, exists().where(PendingThreadReply.__table__.c.complaint_id == TABLE.c.id))
)


def whole_row(engine: Engine, complaint_id: int) -> None:
    with engine.begin() as connection:
        service.set_message_location(connection, complaint_id=complaint_id, channel="C1", ts=f"{complaint_id}.1")


def narrow(engine: Engine, complaint_id: int) -> None:
    with engine.begin() as connection:
        connection.execute(NARROW, {"complaint_id": complaint_id, "slack_channel": "C1",
                                    "slack_ts": f"{complaint_id}.2"}).one()


def server_cpu(engine: Engine) -> float:
    if engine.dialect.name != "postgresql":
        return 0.0
    with engine.connect() as connection:
        pid = connection.execute(text("SELECT pg_backend_pid()")).scalar_one()
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run(url: str, calls: int) -> None:
    upgrade(url)
    engine = make_engine(url)
    now = datetime.now(timezone.utc)
    with engine.begin() as connection:
        rows = [service.new_complaint_row(draft=service.ComplaintDraft(description="printer on fire", owner_id="U1"),
                                          reporter_id="U1", now=now) for _ in range(calls)]
        ids = [complaint.id for complaint in service.save_new_complaints(connection, rows)]
    client: dict[str, list[float]] = {"whole row": [], "narrow": []}
    server: dict[str, list[float]] = {"whole row": [], "narrow": []}
    variants = (("whole row", whole_row), ("narrow", narrow))
    chunk = calls // 4
    for round_ in range(4):
        # Half the rounds each, so neither always goes first (pairs A B, B A).
        name, call = variants[round_ % 2]
        batch = ids[round_ * chunk:(round_ + 1) * chunk]
        server_before, before = server_cpu(engine), time.process_time()
        for complaint_id in batch:
            call(engine, complaint_id)
        client[name].append((time.process_time() - before) / len(batch) * 1e3)
        server[name].append((server_cpu(engine) - server_before) / len(batch) * 1e3)
    for name in client:
        print(f"{name}: client {' '.join(f'{x:.3f}' for x in client[name])} ms/call; "
              f"server {' '.join(f'{x:.3f}' for x in server[name])} ms/call")
    if engine.dialect.name == "postgresql":
        time.sleep(1)  # the statistics collector reports after the transactions
        with engine.connect() as connection:
            updates, hot = connection.execute(text(
                "SELECT n_tup_upd, n_tup_hot_upd FROM pg_stat_user_tables WHERE relname = 'complaint'")).one()
        print(f"updates {updates}, HOT {hot}")
    engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--calls", type=int, default=4000)
    args = parser.parse_args()
    if args.backend == "sqlite":
        with tempfile.TemporaryDirectory() as folder:
            run(f"sqlite:///{folder}/location.db", args.calls)
        return
    from tests.postgres import start_cluster

    cluster = start_cluster(durable=True)
    try:
        run(new_postgres_database(cluster.url, "location_update", schema=False), args.calls)
    finally:
        cluster.stop()


if __name__ == "__main__":
    main()
