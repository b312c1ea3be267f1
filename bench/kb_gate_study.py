"""Which evidence separates "right article" from "no article answers this" (issue 13),
on BANKING77's train split only: a study for choosing the calibration's features
(bot.knowledge.search.FEATURES), not a benchmark of the bot.

It builds the 77 articles of bench/kb_search.py (and the 66 without every 7th intent,
for the uncovered questions), and records for every question the features of its hits
plus candidate features computed here from the same index, for the calibration's own
fold questions as well as for the asked ones. Then, for each set of features, it fits
the calibration exactly as an index would (bot.knowledge.calibration.fit_logistic with
the prior pulling, on the folds' questions only) and reports, on every third held-out
train utterance, CLINC150's train out-of-scope queries and the uncovered questions:
hit@1 when hits are listed by probability, the share answered and rejected at the
gate's 0.5, and the uncovered and off-topic rejected when the threshold is set so that
95% of in-scope questions are answered (how well the features separate, whatever the
operating point). Last, an upper bound: a logistic model fitted directly on the
asked questions' first hits (in-scope against uncovered) with every feature, which no
per-knowledge-base gate can beat with these features.

    .venv/bin/python bench/kb_gate_study.py              # by words
    .venv/bin/python bench/kb_gate_study.py --semantic   # with the semantic extra
    .venv/bin/python bench/kb_gate_study.py --ranking [--semantic]   # ranking variants (hit@1, hit@3)
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH.parent))
sys.path.insert(0, str(BENCH))

import kb_search as kb  # noqa: E402
from bot.knowledge import calibration  # noqa: E402
from bot.knowledge.documents import SearchWeights  # noqa: E402
from bot.knowledge.search import FEATURES, MAX_QUERY_CHARS, MAX_QUERY_TERMS, SearchIndex  # noqa: E402
from bot.knowledge.semantic import MAX_TEXT_CHARS, load_encoder  # noqa: E402
from bot.knowledge.text import normalise, terms  # noqa: E402

# "score lead" is the lead before k13w discounted it (by words) when the words in common
# are only in an article's body; the "lead x" ones are products with that undiscounted lead,
# and the trials "lead replaced by ..." put one in the lead's place (docs/benchmarks.md, issue 13).
LEXICAL_EXTRA = ("first", "score", "score lead", "lead x exact", "lead x known", "lead x coverage", "head words",
                 "body words only", "lead x head share", "lead x head share (min)", "lead x half-body share (min)")
SEMANTIC_EXTRA = ("similarity lead", "nearest by similarity", "classifier margin", "classifier's first",
                  "classifier max", "nearest text", "votes of 10 nearest texts", "nearest vs own questions")


def extra_features(index: SearchIndex, query: str, indices: np.ndarray, scores: np.ndarray,
                   features: np.ndarray) -> np.ndarray:
    """Candidate features of each hit (rows in rank order), computed from the index."""
    n = len(indices)
    lead = np.array([scores[i] - np.max(np.delete(scores, i), initial=0.0) for i in range(n)])
    heading = _heading_exact(index, query, indices)
    f_exact, f_known, f_coverage = (features[:, FEATURES.index(name)] for name in ("exact", "known", "coverage"))
    share = np.where(f_exact > 0, heading / np.maximum(f_exact, 1e-12), 0.0)
    columns = [(np.arange(n) == 0).astype(float), scores, lead, lead * f_exact, lead * f_known, lead * f_coverage,
               heading, ((f_exact > 0) & (heading == 0)).astype(float), lead * share,
               np.minimum(lead, lead * share), np.minimum(lead, lead * (share + 1) / 2)]
    semantic = index.semantic
    if semantic is not None:
        similarity, probability = semantic.scores(query)
        probability = np.zeros_like(similarity) if probability is None else probability
        vector = semantic.encoder.encode_question(query[:MAX_TEXT_CHARS])
        cosine = semantic._matrix @ vector
        owners = np.repeat(semantic._with_texts, semantic._runs())
        nearest10 = owners[np.argsort(-cosine)[:10]]
        own = _own_nearest(semantic)
        columns += [np.array([similarity[i] - np.max(np.delete(similarity, i)) for i in indices]),
                    (indices == np.argmax(similarity)).astype(float),
                    np.array([probability[i] - np.max(np.delete(probability, i)) for i in indices]),
                    (indices == np.argmax(probability)).astype(float),
                    np.full(n, probability.max()), np.full(n, cosine.max()),
                    np.array([(nearest10 == i).mean() for i in indices]),
                    np.array([cosine[owners == i].max(initial=-1.0) - own.get(int(i), 0.0) for i in indices])]
    return np.column_stack(columns)


def _heading_exact(index: SearchIndex, query: str, indices: np.ndarray) -> np.ndarray:
    """Share of the question's information in content words (as typed) that each hit's
    title, questions or tags contain."""
    words = terms(normalise(query[:MAX_QUERY_CHARS]), drop_stopwords=False)[:MAX_QUERY_TERMS]
    stage = index._lexical_stage(index._analysis_key(words))
    if isinstance(stage, str):
        return np.zeros(len(indices))
    return index._coverage(stage.exact, heads_only=True)[np.asarray(indices)] / stage.information


def _own_nearest(semantic) -> dict[int, float]:
    """Per article, the mean similarity of each of its texts to its nearest other one."""
    cached = getattr(semantic, "_study_own", None)
    if cached is None:
        cached = {}
        owners = np.repeat(semantic._with_texts, semantic._runs())
        for article in semantic._with_texts:
            texts = semantic._matrix[owners == article]
            pairs = texts @ texts.T
            np.fill_diagonal(pairs, -1.0)
            cached[int(article)] = float(pairs.max(axis=1).mean()) if len(texts) > 1 else 0.0
        semantic._study_own = cached
    return cached


def wide_top_features(self: SearchIndex, query: str) -> list[tuple[str, np.ndarray]]:
    """SearchIndex._top_features with the candidate features appended (for the folds)."""
    ranked = self._rank(query, 3)
    if isinstance(ranked, str):
        return []
    indices, scores, features = ranked
    wide = np.hstack([features, extra_features(self, query, indices, scores, features)])
    return [(self.docs[i].key, row) for i, row in zip(indices, wide)]


def record(folder: Path, encoder, asked: list[tuple[str, str | None]]):
    """The folds' (features, labels, weights) and each asked question's hits and features."""
    fits = []
    real_fit = calibration.fit_logistic

    def capture(features, target, weight, prior):
        fits.append((features, target, weight))
        return np.zeros(features.shape[1] + 1)

    calibration.fit_logistic, real_top = capture, SearchIndex._top_features
    SearchIndex._top_features = wide_top_features
    try:
        library = kb.semantic_library(folder, encoder)
    finally:
        calibration.fit_logistic, SearchIndex._top_features = real_fit, real_top
    index = library.snapshot.index
    hits = []
    for text, expected in asked:
        ranked = index._rank(text, 10)
        if isinstance(ranked, str):
            hits.append((None, None, expected))
            continue
        indices, scores, features = ranked
        hits.append(([index.docs[i].key for i in indices],
                     np.hstack([features, extra_features(index, text, indices, scores, features)]), expected))
    return fits[-1], hits


def evaluate(parts, columns: list[int], semantic: bool, prior: tuple[float, ...], prior_of: dict[int, int] | None = None):
    """hit@1, answered at 0.5, and (off-topic, uncovered) rejected at 0.5 and at 95% answered."""
    sums = {}
    for name, (fold_rows, hits) in parts.items():
        features, target, weight = fold_rows
        start = np.zeros(len(columns) + 1)
        start[0] = prior[0]
        for place, column in enumerate(columns):
            column = (prior_of or {}).get(column, column)
            start[1 + place] = prior[1 + column] if column < len(prior) - 1 else 0.0
        theta = calibration.fit_logistic(features[:, columns], target, weight * len(target) / weight.sum(), start)
        totals, right = [], []
        for keys, rows, expected in hits:
            if keys is None:
                totals.append(-1.0)
                right.append(False)
                continue
            p = 1.0 / (1.0 + np.exp(-(theta[0] + rows[:, columns] @ theta[1:])))
            if not semantic:
                p = np.where(rows[:, FEATURES.index("exact")] > 0, p, 0.0)
            order = np.argsort(-p, kind="stable")
            totals.append(p[order[:3]].sum())
            right.append(keys[order[0]] == expected)
        sums[name] = (np.asarray(totals), np.asarray(right))
    threshold = np.quantile(sums["in"][0], 0.05)
    return (sums["in"][1].mean(), (sums["in"][0] >= 0.5).mean(), (sums["off"][0] < 0.5).mean(),
            (sums["unc"][0] < 0.5).mean(), (sums["off"][0] < threshold).mean(), (sums["unc"][0] < threshold).mean())


def upper_bound(parts) -> float:
    """Uncovered rejected at 95% in-scope answered, by a logistic model fitted on the asked
    questions' first hits themselves (in-scope against uncovered), every feature."""
    first = {name: np.array([rows[0] for keys, rows, _ in hits if keys is not None]) for name, (_, hits) in parts.items()}
    features = np.vstack([first["in"], first["unc"]])
    scale = features.std(axis=0) + 1e-9
    features = (features - features.mean(axis=0)) / scale
    target = np.r_[np.ones(len(first["in"])), np.zeros(len(first["unc"]))]
    weight = np.r_[np.full(len(first["in"]), 0.5 / len(first["in"])), np.full(len(first["unc"]), 0.5 / len(first["unc"]))]
    theta = calibration.fit_logistic(features, target, weight * len(target), np.zeros(features.shape[1] + 1))
    z = theta[0] + features @ theta[1:]
    return float((z[len(first["in"]):] < np.quantile(z[:len(first["in"])], 0.05)).mean())


# ----- ranking variants (--ranking): hit@1 / hit@3 by score, uncalibrated, same questions ------
LEXICAL_VARIANTS = [("k1", (0.9, 1.5, 2.0)), ("b", (0.5, 0.9)), ("bigram", (0.3, 0.8)), ("typo_cutoff", (75.0, 85.0, 90.0)),
                    ("title", (0.5, 1.5)), ("question_best", (0.7, 1.5)), ("question_rest", (0.1, 0.3)), ("tags", (0.0,)),
                    ("body", (0.0, 0.6)), ("whole", (1.0, 2.0)), ("fuzzy", (0.3, 0.5)), ("candidates", (20, 50))]
CLASSIFIER_VARIANTS = [(200, 0.05, 1e-4), (400, 0.05, 1e-4), (100, 0.1, 1e-4), (100, 0.05, 1e-3)]


def ranked(docs, queries, weights: SearchWeights, encoder) -> tuple[float, float]:
    index = SearchIndex(docs, weights, encoder=encoder, calibrated=False)
    first = top3 = 0
    for text, expected in queries:
        found = index._rank(text, 3)
        keys = [] if isinstance(found, str) else [index.docs[i].key for i in found[0]]
        first += keys[:1] == [expected]
        top3 += expected in keys
    return first / len(queries), top3 / len(queries)


def ranking_study(docs, queries, encoder) -> None:
    from dataclasses import replace

    from bot.knowledge import semantic

    base = SearchWeights()
    print("| variant | hit@1 | hit@3 |\n|---|---|---|")
    print("| as now | %.4f | %.4f |" % ranked(docs, queries, base, encoder))
    if encoder is None:
        for field, values in LEXICAL_VARIANTS:
            for value in values:
                print(f"| {field} = {value} | " + " | ".join(f"{x:.4f}" for x in ranked(docs, queries, replace(base, **{field: value}), None)) + " |")
        return
    saved = (semantic.CLASSIFIER_STEPS, semantic.CLASSIFIER_LEARNING_RATE, semantic.CLASSIFIER_L2)
    for steps, rate, l2 in CLASSIFIER_VARIANTS:
        semantic.CLASSIFIER_STEPS, semantic.CLASSIFIER_LEARNING_RATE, semantic.CLASSIFIER_L2 = steps, rate, l2
        print(f"| classifier: {steps} steps, rate {rate}, L2 {l2} | " + " | ".join(f"{x:.4f}" for x in ranked(docs, queries, base, encoder)) + " |")
    semantic.CLASSIFIER_STEPS, semantic.CLASSIFIER_LEARNING_RATE, semantic.CLASSIFIER_L2 = saved
    real_scores, real_similarities = semantic.SemanticIndex.scores, semantic.SemanticIndex._similarities
    try:
        for power in (0.5, 0.25):
            semantic.SemanticIndex.scores = lambda self, q, power=power: (
                lambda s, p: (s, None if p is None else p ** power))(*real_scores(self, q))
            for share in (0.375, 0.5):
                print(f"| classifier probability ** {power}, its share {share} | "
                      + " | ".join(f"{x:.4f}" for x in ranked(docs, queries, replace(base, semantic_classifier=share), encoder)) + " |")
        semantic.SemanticIndex.scores = real_scores
        for k, share in ((10, 0.1), (10, 0.2), (20, 0.1)):
            def with_votes(self, vector, k=k, share=share):
                cosine = self._matrix @ vector
                owners = np.repeat(self._with_texts, self._runs())
                votes = np.zeros(self._n_docs)
                np.add.at(votes, owners[np.argpartition(-cosine, k)[:k]], 1.0 / k)
                return (1 - share) * real_similarities(self, vector) + share * votes
            semantic.SemanticIndex._similarities = with_votes
            print(f"| {share} of the similarity from votes of the {k} nearest texts | "
                  + " | ".join(f"{x:.4f}" for x in ranked(docs, queries, base, encoder)) + " |")
    finally:
        semantic.SemanticIndex.scores, semantic.SemanticIndex._similarities = real_scores, real_similarities


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", help="the banking77 folder (default ../shared/datasets/banking77)")
    parser.add_argument("--semantic", action="store_true", help="with the semantic extra (must be installed)")
    parser.add_argument("--ranking", action="store_true", help="ranking variants instead of the gate's features")
    args = parser.parse_args()
    train = kb.read_rows(kb.dataset_dir(args.data) / "train.csv")
    with tempfile.TemporaryDirectory() as tmp:
        paths, held_out = kb.write_articles(Path(tmp), train)
    pool = held_out[::3]
    intents = sorted({intent for _, intent in train})
    missing = set(intents[::kb.UNCOVERED_EVERY])
    off = kb.off_topic("train")
    encoder = None
    if args.semantic:
        encoder = load_encoder(query_cache_size=20_000)
        first_ten: dict[str, list[str]] = {}
        for text, intent in train:
            first_ten.setdefault(intent, []).append(text)
        asked = [q for texts in first_ten.values() for q in texts[:kb.QUESTIONS_PER_ARTICLE]]  # by the folds
        encoder.remember([text for text, _ in pool] + off + asked)
    if args.ranking:
        with tempfile.TemporaryDirectory() as tmp:
            kb.write_articles(Path(tmp), train)
            docs = kb.semantic_library(Path(tmp), None).search_docs()
        print(f"BANKING77 train, {len(pool):,} questions, {'semantic extra' if encoder else 'by words'}: ranking variants\n")
        ranking_study(docs, [(text, paths[i]) for text, i in pool], encoder)
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        kb.write_articles(Path(tmp), train)
        fit77, hits = record(Path(tmp), encoder, [(text, paths[i]) for text, i in pool] + [(text, None) for text in off])
    with tempfile.TemporaryDirectory() as tmp:
        kb.write_articles(Path(tmp), [(text, i) for text, i in train if i not in missing])
        fit66, uncovered = record(Path(tmp), encoder, [(text, None) for text, i in pool if i in missing])
    parts = {"in": (fit77, hits[:len(pool)]), "off": (fit77, hits[len(pool):]), "unc": (fit66, uncovered)}
    base = list(FEATURES[:FEATURES.index("similarity")] if encoder is None else FEATURES)
    names = base + list(LEXICAL_EXTRA) + (list(SEMANTIC_EXTRA) if encoder else [])
    prior = SearchWeights().semantic_prior if encoder else SearchWeights().lexical_prior
    print(f"BANKING77 train: {len(pool):,} in-scope, {len(off)} off-topic, {len(uncovered)} uncovered questions; "
          f"{'semantic extra' if encoder else 'by words'}; features now: {', '.join(base)}\n")
    print("| features | hit@1 | answered (0.5) | off-topic rejected (0.5) | uncovered rejected (0.5) "
          "| off-topic rejected at 95% answered | uncovered rejected at 95% answered |")
    print("|---|---|---|---|---|---|---|")
    trials = [("as now", list(range(len(base))))]
    trials += [(f"+ {name}", list(range(len(base))) + [number]) for number, name in enumerate(names)
               if number >= len(base) and name not in base]
    lead = base.index("lead")
    replaced = [(f"lead replaced by {name}", [number if n == lead else n for n in range(len(base))], {number: lead})
                for number, name in enumerate(names) if encoder is None and (name.startswith("lead x") or name == "score lead")]
    if "first" in base:
        trials.insert(1, ("without first", [n for n in range(len(base)) if base[n] != "first"]))
    for label, columns, *prior_of in [*trials, *replaced]:
        h, answered, off_rej, unc_rej, off95, unc95 = evaluate(parts, columns, encoder is not None, prior, *prior_of)
        print(f"| {label} | {h:.3f} | {100 * answered:.1f}% | {100 * off_rej:.1f}% | {100 * unc_rej:.1f}% "
              f"| {100 * off95:.1f}% | {100 * unc95:.1f}% |")
    print(f"\nUpper bound (fitted on the asked questions themselves, all {len(names)} features): "
          f"{100 * upper_bound(parts):.1f}% of uncovered rejected at 95% answered")
    return 0


if __name__ == "__main__":
    sys.exit(main())
