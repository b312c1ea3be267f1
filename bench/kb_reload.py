"""Reloading a knowledge base after one edit, with the calibrated gate (issue 13 point 4).

A synthetic knowledge base of each --articles size (bench/kb_search.py's generator over
BANKING77's words, the same articles as its 10,000-article timing) is loaded cold, then
each round edits one article's body and reloads:

- outside the calibration's sample (bot.knowledge.calibration; only beyond 400
  articles): the fit is kept, nothing to refit;
- inside it: the reload (`library.refresh()`, what `/kb reload` and the file watcher
  wait for) serves the new articles at once with the previous gate, and the refit goes
  on on the library's calibration thread; "refit done" is the time from the reload's
  start until the new gate is in use.

The baseline is the code before the refit moved off the reload: the same edited
articles indexed from the same previous index with the fit inside the build
(`SearchIndex(..., fit_later=False)`), timed in the same round. Medians of --repeat
rounds; peak resident memory of the process at the end (after generating the articles
in brackets). Note the machine's load average beside the figures.

    .venv/bin/python bench/kb_reload.py --articles 300 10000 --repeat 3
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH.parent))
sys.path.insert(0, str(BENCH))

from kb_search import dataset_dir, read_rows, synthetic_knowledge, timed  # noqa: E402

from bot.knowledge.calibration import calibration_sample  # noqa: E402
from bot.knowledge.library import KnowledgeLibrary  # noqa: E402
from bot.knowledge.search import SearchIndex  # noqa: E402


def peak_mb() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024


def edit(folder: Path, path: str, round_number: int) -> None:
    target = folder / path
    target.write_text(target.read_text(encoding="utf-8") + f"\nEdited in round {round_number}.\n", encoding="utf-8")


def time_reloads(train, count: int, repeat: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        synthetic_knowledge(folder, train, count)
        generated = peak_mb()
        library = KnowledgeLibrary(folder)
        cold = timed(library.refresh)
        sample = {doc.key for doc in calibration_sample(library.search_docs())}
        inside = sorted(sample)
        outside = sorted(a.path for a in library.articles if a.path not in sample)
        rows: dict[str, list[float]] = {"outside the sample: reload": [], "inside: reload (serving)": [],
                                        "inside: refit done": [], "inside: baseline, fit in the reload": []}
        for number in range(repeat):
            if outside:
                edit(folder, outside[number], number)
                rows["outside the sample: reload"].append(timed(library.refresh))
                library.finish_calibration()
            previous = library.snapshot.index
            edit(folder, inside[number], number)
            started = time.perf_counter()
            library.refresh()
            rows["inside: reload (serving)"].append(time.perf_counter() - started)
            library.finish_calibration()
            rows["inside: refit done"].append(time.perf_counter() - started)
            docs = library.search_docs()
            rows["inside: baseline, fit in the reload"].append(timed(
                lambda: SearchIndex(docs, previous=previous, analyser=library._analyser)))
    load = " / ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"\n{count:,} articles, medians of {repeat} rounds, load average at the end {load}")
    print("| cold load + index | " + " | ".join(rows) + " | peak RSS |")
    print("|---" * (len(rows) + 2) + "|")
    cells = [f"{1000 * statistics.median(times):.0f} ms" if times else "—" for times in rows.values()]
    print(f"| {1000 * cold:.0f} ms | " + " | ".join(cells) + f" | {peak_mb()} MB ({generated} MB) |")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", help="the banking77 folder (default ../shared/datasets/banking77)")
    parser.add_argument("--articles", type=int, nargs="+", default=[300, 10_000])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    data = dataset_dir(args.data)
    if not (data / "train.csv").is_file():
        print(f"banking77 not found at {data} (use --data)", file=sys.stderr)
        return 2
    train = read_rows(data / "train.csv")
    for count in args.articles:
        time_reloads(train, count, args.repeat)
    return 0


if __name__ == "__main__":
    sys.exit(main())
