"""How sure the search may be: a probability that the article shown is the right one,
learnt from each knowledge base's own questions.

A logistic model turns each shown hit's features (bot.knowledge.search: how much of the question
the article covers, how alike the texts are, how far it leads the next hit, how much of
the question the knowledge base knows at all, and with the semantic extra how near it
is in meaning) into the probability that it is the article asked for. At most one
article is right, so the chance that an answer shows the right one is the sum over its
hits; "answered" means that chance is at least `min_confidence` (0.5 by default: more
likely than not).

The model is fitted when an index is built, on questions the index has not seen:
the articles are split into CALIBRATION_FOLDS folds, and for each fold an index is
built without that fold's questions (their articles stay, with their other questions
and text) and without a few whole articles (as if the knowledge base had no article
for them). Each held-out question is asked of that index: each hit shown is right or
wrong, and for the questions of the missing articles every hit is wrong, like a question on
the knowledge base's topic that no article answers. A knowledge base with few
questions has little to learn from, so the fit is pulled towards `PRIOR` (fitted the
same way on BANKING77's training questions) with the strength of PRIOR_WEIGHT
questions: a five-article folder is gated almost by the prior, a large one by itself.

The fit uses at most CALIBRATION_ARTICLES articles, the same ones whatever order they
come in (those whose keys hash lowest): a larger knowledge base is calibrated on that
sample, so fitting costs CALIBRATION_FOLDS index builds over at most that many articles
and up to MAX_QUESTIONS_PER_FOLD questions per fold, however large it grows (refitting
over all 10,000 articles took 73 s of a reload). An index whose sample is unchanged
keeps the previous fit, which is what a fresh fit on it would give, so an updated index
still answers exactly like a fresh one. The price: in a knowledge base far larger than
the sample, a hit's features (its lead over the next hit, how much of the question is
known) are learnt as they are among CALIBRATION_ARTICLES articles.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from bot.knowledge.documents import SearchDoc

CALIBRATION_FOLDS = 3
CALIBRATION_ARTICLES = 400
# One article in MISSING_EVERY is left out whole from the fold it falls in.
MISSING_EVERY = 5
# Questions asked per fold at most (chosen evenly), so a big knowledge base calibrates in seconds.
MAX_QUESTIONS_PER_FOLD = 200
# Of the weight of the examples, the share the missing articles' questions carry: how
# often questions the knowledge base has no article for are expected.
UNCOVERED_SHARE = 0.1
PRIOR_WEIGHT = 30.0
NEWTON_STEPS = 25


@dataclass(frozen=True)
class Calibration:
    """Logistic coefficients: the intercept first, then one per feature."""

    coefficients: tuple[float, ...]
    examples: int = 0  # questions it was fitted on (0: the prior as is)

    def probability(self, features: np.ndarray) -> np.ndarray:
        """P(right) for each row of `features`."""
        z = self.coefficients[0] + features @ np.asarray(self.coefficients[1:])
        return 1.0 / (1.0 + np.exp(-z))


# The hits an answer shows for a question asked of an index: their keys and features.
TopHits = Callable[[str], list[tuple[str, np.ndarray]]]


def calibrate(docs: Sequence[SearchDoc], *, prior: Sequence[float], build: Callable[[list[SearchDoc]], TopHits]) -> Calibration:
    """Fit on `docs`' own questions (see the module's docstring); `build(docs)` makes an
    uncalibrated index over some documents and returns how it answers a question."""
    rows, labels, weights = [], [], []
    for fold in range(CALIBRATION_FOLDS):
        kept, asked, missing = _split(docs, fold)
        if not asked and not missing:
            continue
        ask = build(kept)
        for group, is_missing in ((asked, False), (missing, True)):
            examples = [(features, not is_missing and found == key)
                        for question, key in _evenly(group, MAX_QUESTIONS_PER_FOLD // (4 if is_missing else 1))
                        for found, features in ask(question)]
            for features, right in examples:
                rows.append(features)
                labels.append(float(right))
                weights.append((UNCOVERED_SHARE if is_missing else 1 - UNCOVERED_SHARE) / len(examples))
    if not rows:
        return Calibration(tuple(prior))
    features, target = np.asarray(rows, dtype=np.float64), np.asarray(labels)
    weight = np.asarray(weights) * len(rows) / sum(weights)
    fitted = fit_logistic(features, target, weight, np.asarray(prior, dtype=np.float64))
    return Calibration(tuple(float(c) for c in fitted),
                       len(rows))


def calibration_sample(docs: Sequence[SearchDoc]) -> tuple[SearchDoc, ...]:
    """The articles the calibration is fitted on (all of them up to CALIBRATION_ARTICLES),
    in their given order."""
    if len(docs) <= CALIBRATION_ARTICLES:
        return tuple(docs)
    chosen = set(sorted(range(len(docs)), key=lambda n: (zlib.crc32(docs[n].key.encode("utf-8")), docs[n].key))
                 [:CALIBRATION_ARTICLES])
    return tuple(doc for number, doc in enumerate(docs) if number in chosen)


def _split(docs: Sequence[SearchDoc], fold: int) -> tuple[list[SearchDoc], list[tuple[str, str]], list[tuple[str, str]]]:
    """For one fold: the documents its index holds, the questions held out of documents
    it still has, and the questions of documents left out whole."""
    kept: list[SearchDoc] = []
    asked: list[tuple[str, str]] = []
    missing: list[tuple[str, str]] = []
    for doc in docs:
        place = zlib.crc32(doc.key.encode("utf-8"))
        if place % MISSING_EVERY == 0 and (place // MISSING_EVERY) % CALIBRATION_FOLDS == fold:
            missing += [(question, doc.key) for question in doc.questions]
            continue
        out = [q for number, q in enumerate(doc.questions) if (number + place) % CALIBRATION_FOLDS == fold]
        if out:
            asked += [(question, doc.key) for question in out]
            doc = SearchDoc(doc.key, doc.title, tuple(q for q in doc.questions if q not in out), doc.tags, doc.body)
        kept.append(doc)
    return kept, asked, missing


def _evenly(items: list, count: int) -> list:
    if len(items) <= count:
        return items
    return [items[int(i * len(items) / count)] for i in range(count)]


def fit_logistic(features: np.ndarray, target: np.ndarray, weight: np.ndarray, prior: np.ndarray) -> np.ndarray:
    """Weighted logistic regression by Newton's method (steps halved until the loss falls),
    with a Gaussian penalty pulling the coefficients towards `prior` as strongly as
    PRIOR_WEIGHT examples would."""
    design = np.hstack([np.ones((features.shape[0], 1)), features])
    penalty = PRIOR_WEIGHT / design.shape[1] * np.eye(design.shape[1])

    def loss(theta: np.ndarray) -> float:
        z = design @ theta
        # log(1 + e^z) - y z, written so that large |z| does not overflow
        return float(weight @ (np.logaddexp(0.0, z) - target * z) + 0.5 * (theta - prior) @ penalty @ (theta - prior))

    theta = prior.copy()
    current = loss(theta)
    for _ in range(NEWTON_STEPS):
        p = 1.0 / (1.0 + np.exp(-(design @ theta)))
        gradient = design.T @ (weight * (p - target)) + penalty @ (theta - prior)
        hessian = (design * (weight * p * (1 - p))[:, None]).T @ design + penalty
        step = np.linalg.solve(hessian, gradient)
        size = 1.0
        while size > 1e-4 and loss(theta - size * step) > current:
            size /= 2
        theta, previous = theta - size * step, current
        current = loss(theta)
        if previous - current < 1e-9:
            break
    return theta
