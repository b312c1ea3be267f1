"""How far words alone go on BANKING77: the standard lexical intent classifier, outside servicedesk.

Issue 13 asks the search by words to reject >= 30% of questions on the bank's own
topics that no article answers (uncovered) while answering >= 95% of in-scope ones.
servicedesk's gate does not (17.5% on the test split). This script asks whether any
plain lexical model does: TF-IDF over word 1-2-grams and character 2-5-grams (within
words), with a logistic regression over the same 10 questions per article that
bench/kb_search.py writes, its confidence the highest class probability (or the margin
between the two highest). With `--semantic`, the same logistic regression over the
semantic extra's all-MiniLM-L6-v2 embeddings (bot.knowledge.semantic, each text embedded
alone, as a question is) in place of TF-IDF: how far the standard method goes with the
extra's model. Needs scikit-learn, which only the bench extra installs
(`pip install -e '.[bench]'`).

The same three kinds of question as bench/kb_search.py: in-scope, off-topic (CLINC150's
out-of-scope queries) and uncovered (every 7th intent has no article; a second model
is fitted without them and asked their questions). For each confidence, two operating
points: the threshold chosen on train (the lowest letting 95% of every third held-out
train utterance through, as `--tune-gate` samples them) applied to the split asked, and
the split's own threshold at 95% answered (how well the confidence separates, whatever
the threshold; on the test split that one is tuned on test and only an upper bound).

    .venv/bin/python bench/kb_lexical_limit.py                 # test split, reported once
    .venv/bin/python bench/kb_lexical_limit.py --split train   # for tuning
    .venv/bin/python bench/kb_lexical_limit.py --semantic --c 10 [--split train]
"""

from __future__ import annotations

import argparse
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.kb_search import QUESTIONS_PER_ARTICLE, UNCOVERED_EVERY, dataset_dir, off_topic, read_rows  # noqa: E402

ANSWERED = 0.95


def articles(train: list[tuple[str, str]], leave_out: set[str]) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """The articles' questions (the first 10 train utterances of each intent kept) and the rest of train."""
    by_intent: dict[str, list[str]] = defaultdict(list)
    for text, intent in train:
        by_intent[intent].append(text)
    examples, held_out = [], []
    for intent, texts in sorted(by_intent.items()):
        if intent in leave_out:
            continue
        examples += [(text, intent) for text in texts[:QUESTIONS_PER_ARTICLE]]
        held_out += [(text, intent) for text in texts[QUESTIONS_PER_ARTICLE:]]
    return examples, held_out


def fit(examples: list[tuple[str, str]], c: float, encoder=None):
    """The logistic regression over TF-IDF, or over `encoder`'s embeddings when given."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline, make_union
    from sklearn.preprocessing import FunctionTransformer

    if encoder is None:
        features = make_union(TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True),
                              TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True))
    else:
        features = FunctionTransformer(lambda texts: np.stack([encoder.encode_question(text) for text in texts]))
    model = make_pipeline(features, LogisticRegression(C=c, max_iter=5000))
    return model.fit([text for text, _ in examples], [intent for _, intent in examples])


def confidences(model, texts: list[str]) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """The first class per text, and each confidence: the highest probability, its margin over the next."""
    probability = model.predict_proba(texts)
    ordered = np.sort(probability, axis=1)
    first = model.classes_[probability.argmax(axis=1)]
    return first, {"probability": ordered[:, -1], "margin": ordered[:, -1] - ordered[:, -2]}


def threshold(in_scope: np.ndarray) -> float:
    """The highest threshold that still answers ANSWERED of these in-scope confidences."""
    return float(np.quantile(in_scope, 1 - ANSWERED, method="lower"))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", help="folder with banking77 train.csv and test.csv")
    parser.add_argument("--split", choices=("test", "train"), default="test")
    parser.add_argument("--c", type=float, default=10.0, help="the logistic regression's inverse L2 strength")
    parser.add_argument("--semantic", action="store_true", help="over all-MiniLM-L6-v2 embeddings, not TF-IDF")
    args = parser.parse_args()
    encoder = None
    if args.semantic:
        from bot.knowledge.semantic import load_encoder

        # Every text is embedded once, however many of the models ask for it.
        encoder = load_encoder(query_cache_size=50_000)
    data = dataset_dir(args.data)
    train, test = read_rows(data / "train.csv"), read_rows(data / "test.csv")
    intents = sorted({intent for _, intent in train})
    missing = set(intents[::UNCOVERED_EVERY])

    examples, held_out = articles(train, set())
    tuning = held_out[::3]
    asked = tuning if args.split == "train" else test
    full = fit(examples, args.c, encoder)
    first, in_scope = confidences(full, [text for text, _ in asked])
    hit1 = float(np.mean(first == np.array([intent for _, intent in asked])))
    _, tuned_in = confidences(full, [text for text, _ in tuning])
    _, off = confidences(full, off_topic(args.split))

    kept_examples, kept_held_out = articles(train, missing)
    partial = fit(kept_examples, args.c, encoder)
    _, partial_tuned = confidences(partial, [text for text, intent in kept_held_out[::3]])
    uncovered_asked = [text for text, intent in asked if intent in missing]
    _, uncovered = confidences(partial, uncovered_asked)
    _, partial_in = confidences(partial, [text for text, intent in asked if intent not in missing])

    features = "all-MiniLM-L6-v2 embeddings" if encoder else "TF-IDF (word 1-2 + char_wb 2-5)"
    print(f"{features} + logistic regression (C={args.c}), {args.split} split: "
          f"hit@1 {hit1:.3f} over {len(asked):,} in-scope questions")
    print("| confidence | threshold from | in-scope answered | off-topic rejected | uncovered rejected (in-scope answered by that model) |")
    print("|---|---|---|---|---|")
    for name in ("probability", "margin"):
        for source, cut, cut_partial in (
                ("train (95% of train answered)", threshold(tuned_in[name]), threshold(partial_tuned[name])),
                (f"{args.split} itself (95% answered)", threshold(in_scope[name]), threshold(partial_in[name]))):
            print(f"| {name} | {source} | {100 * np.mean(in_scope[name] >= cut):.1f}% of {len(asked):,} "
                  f"| {100 * np.mean(off[name] < cut):.1f}% of {len(off[name]):,} "
                  f"| {100 * np.mean(uncovered[name] < cut_partial):.1f}% of {len(uncovered[name]):,} "
                  f"({100 * np.mean(partial_in[name] >= cut_partial):.1f}%) |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
