"""The acknowledgement benchmark runs end to end (its quick mode, small), so it cannot rot."""

from __future__ import annotations

from bench.ack_latency import FLOOR, main

TARGETS = (
    FLOOR, "floor: process_before_response, ack only",
    "minimal app: sqlite3 save, then ack", "minimal app: sqlite3 save, then ack, team copy posted",
    "servicedesk, SQLite, ack path", "servicedesk, SQLite, team copy posted",
    "minimal app: psycopg save, then ack", "minimal app: psycopg save, then ack, team copy posted",
    "servicedesk, PostgreSQL, ack path", "servicedesk, PostgreSQL, team copy posted",
)


def test_quick_benchmark_runs_every_target_and_counts_every_row(postgres_admin_url, capsys):
    assert main(["--quick", "--workers", "1", "--postgres-url", postgres_admin_url]) == 0
    out = capsys.readouterr().out
    rows = {line.split(" | ")[0].removeprefix("| "): line.split(" | ")[1:] for line in out.splitlines()
            if line.startswith("| ") and not line.startswith("| target")}
    assert set(TARGETS) <= set(rows)
    closed = [line for line in out.split("Open loop")[0].splitlines() if line.startswith(("| floor", "| minimal", "| servicedesk"))]
    assert len(closed) == len(TARGETS)
    assert all(float(line.split(" | ")[3]) > 0 and line.split(" | ")[5] == "0" for line in closed)
    assert "Every acknowledged request's row is saved, and no row twice." in out
    saving = [line.split(" | ") for line in out.split("never answered")[1].splitlines() if line.startswith("| ")]
    assert len(saving) == len(TARGETS) - 2  # the floors that only ack save nothing
    # Unloaded, every request is answered and saved once: sent = acknowledged = rows = distinct,
    # nobody told to try again, nothing unanswered.
    assert all(row[1] == row[2] == row[5] == row[6] and row[3] == row[4] == "0" and row[7] == "0 |" for row in saving)
    assert "fsync=" in out


def test_a_lost_row_is_reported_with_what_its_request_was_told_and_where_the_log_is(tmp_path, capsys):
    from argparse import Namespace

    from bench.ack_latency import Result, Target, report
    from bench.ack_load import Fired

    fired = Fired(latencies=[0.001, 0.002], seconds=1.0, errors=0, acked=[0, 1])
    floor = Result(Target(FLOOR, [], {}), fired, {"app": 1.0}, None)
    lost = Result(Target("servicedesk, SQLite, ack path", [], {}, database_url="sqlite://"), fired,
                  {"app": 2.0}, None, sent=2, acked={"closed-0:", "closed-1:"}, rows=1, distinct=1,
                  missing=["closed-1:"], answers={"closed-0:": b"Logged C-1", "closed-1:": b"Logged C-2"},
                  log=tmp_path / "server-1.log")

    assert report([floor, lost], Namespace(requests=2, clients=1, open_seconds=1, rates=[]), "header") == 1
    out = capsys.readouterr().out
    assert "LOST OR DUPLICATED ROWS in: servicedesk, SQLite, ack path" in out
    assert f"'closed-1:' was told b'Logged C-2'; server output in {tmp_path / 'server-1.log'}" in out
    assert "closed-0:" not in out.split("LOST")[1]
