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
