"""The complaint search benchmark runs end to end (its quick mode, small), so it cannot rot."""

from __future__ import annotations

import pytest

from bench.complaint_search import main
from tests.shared import shared_dir

KINDS = ("words", "typo", "words + filters", "filters alone", "customer", "words, pages 2-5", "dates + words")


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_quick_benchmark_runs(backend, request, tmp_path, capsys):
    shared_dir()  # the benchmark's utterances come from ../shared
    argv = ["--quick", "--complaints", "1500", "--queries", "14", "--backends", backend, "--workdir", str(tmp_path)]
    if backend == "postgresql":
        argv += ["--postgres-url", request.getfixturevalue("postgres_admin_url")]
    assert main(argv) == 0
    table = capsys.readouterr().out
    rows = [line.split(" | ") for line in table.splitlines() if line.startswith(f"| {backend} |")]
    assert {row[1] for row in rows} >= {*KINDS, "all searches", "baseline: LIKE scan, 1,500 rows"}
    assert all(int(row[2]) > 0 and float(row[3]) > 0 for row in rows)
    assert "migration 0008 backfilled the index" in table
