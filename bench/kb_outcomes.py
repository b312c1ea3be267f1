"""Every knowledge-search outcome for a few thousand queries, written as JSON, so two
versions of the search code can be compared answer for answer (scores and
probabilities to the last bit: floats are written with `repr`).

    python -m bench.kb_outcomes OUT.json [--data ../shared/datasets/banking77]
    cmp before.json after.json

Two knowledge bases: BANKING77's 77 articles (bench/kb_search.py's, from the train
split) asked every test utterance, each again as a complaint would say it (with an
order number, a name and a typo), and the project's own `knowledge/` asked the same.
Each query is asked twice in a row, so an answer remembered from the first must equal
the first.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
from pathlib import Path

from bench.kb_search import dataset_dir, read_rows, write_articles
from bot.knowledge.library import KnowledgeLibrary

ROOT = Path(__file__).resolve().parent.parent


def complaint_like(text: str, rng: random.Random) -> str:
    """The utterance with an order number and a name, and one word's letters swapped."""
    words = text.split()
    long_words = [i for i, word in enumerate(words) if len(word) > 4 and word.isalpha()]
    if long_words:
        i = rng.choice(long_words)
        word = words[i]
        j = rng.randrange(len(word) - 1)
        words[i] = word[:j] + word[j + 1] + word[j] + word[j + 2:]
    return f"{' '.join(words)} (order {rng.randrange(1000, 99999)}, customer {rng.choice(['Jane Roe', 'Ahmed Ali', 'Li Wei'])})"


def outcomes(library: KnowledgeLibrary, queries: list[str]) -> list[dict]:
    found = []
    for query in queries:
        first, again = library.search(query, limit=5), library.search(query, limit=5)
        for outcome in (first, again):
            found.append({"query": query, "answered": outcome.answered, "reason": outcome.reason,
                          "hits": [[hit.key, repr(hit.score), repr(hit.confidence)] for hit in outcome.hits]})
    return found


def ready(folder: Path) -> KnowledgeLibrary:
    library = KnowledgeLibrary(folder)
    library.refresh()
    library.finish_calibration()
    return library


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out")
    parser.add_argument("--data", help="the banking77 folder (default ../shared/datasets/banking77)")
    args = parser.parse_args(argv)
    data = dataset_dir(args.data)
    train, test = read_rows(data / "train.csv"), read_rows(data / "test.csv")
    rng = random.Random(17)
    queries = [text for text, _ in test]
    queries += [complaint_like(text, rng) for text in queries]
    result = {}
    with tempfile.TemporaryDirectory() as tmp:
        write_articles(Path(tmp), train)
        result["banking77"] = outcomes(ready(Path(tmp)), queries)
    result["knowledge"] = outcomes(ready(ROOT / "knowledge"), queries)
    Path(args.out).write_text(json.dumps(result, indent=0, sort_keys=True))
    answered = sum(outcome["answered"] for kind in result.values() for outcome in kind)
    print(f"{sum(map(len, result.values()))} outcomes ({len(queries)} queries twice, 2 knowledge bases), "
          f"{answered} answered -> {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
