"""What the knowledge search works with: the documents it indexes, the weights it ranks
by, what it answers, and the vocabulary that successive indexes share.

Index building (bot.knowledge.index) and querying (bot.knowledge.search) both speak
these types; the semantic extra (bot.knowledge.semantic) reads documents too.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from bot.knowledge.text import stem


@dataclass(frozen=True)
class SearchDoc:
    """What search needs to know of an article."""

    key: str
    title: str
    questions: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    body: str = ""


@dataclass(frozen=True)
class SearchWeights:
    """Every tunable of the ranking; the defaults were chosen on banking77's train split."""

    title: float = 1.0
    question_best: float = 1.0
    question_rest: float = 0.2
    tags: float = 0.5
    body: float = 0.3
    whole: float = 1.5
    bigram: float = 0.5
    k1: float = 1.2
    b: float = 0.75
    typo_cutoff: float = 80.0
    fuzzy: float = 0.4
    candidates: int = 30
    # The calibrated probability (bot.knowledge.calibration) a first hit needs to be an
    # answer: more likely right than not.
    min_confidence: float = 0.5
    # Where each knowledge base's calibration starts from (intercept, then one per
    # feature of bot.knowledge.search.FEATURES), fitted on banking77's train split.
    lexical_prior: tuple[float, ...] = (-3.88, 1.39, 1.12, 1.54, 7.52, 0.39)
    # With the semantic extra, set by hand: the one fitted on banking77's train split
    # (bench/kb_search.py --fit-prior --semantic: -3.55, 0.82, -0.75, 0.18, 7.45, 0.4,
    # 2.77, 3.14) answers a meaningless question in a five-article folder, where the
    # classifier's probability over five articles means less than over 77 (see
    # docs/benchmarks.md). A large folder's own fit outweighs either.
    # The last ("first" by score) was added later and starts at 0, so a knowledge base
    # too small to learn it is gated as before.
    semantic_prior: tuple[float, ...] = (-4.0, 1.0, 1.0, 1.0, 4.0, 1.0, 4.0, 2.0, 0.0)
    # With the semantic extra: share of the score that similarity in meaning takes, and
    # how many nearest articles join the candidates.
    semantic: float = 0.8
    semantic_classifier: float = 0.375  # of the semantic share, what the classifier takes
    semantic_candidates: int = 10


@dataclass(frozen=True)
class Hit:
    index: int
    key: str
    score: float
    confidence: float


@dataclass(frozen=True)
class SearchOutcome:
    query: str
    hits: list[Hit]
    answered: bool
    reason: str = ""


class Analyser:
    """The vocabulary shared by successive indexes over one knowledge base.

    Term ids stay the same from build to build, so a new index reuses the shards of
    documents that did not change; and each distinct word is stemmed and looked up
    once, however often it is used. Not thread-safe; the library uses it under its lock.
    """

    def __init__(self) -> None:
        self.vocabulary: dict[str, int] = {}
        self.terms: list[str] = []
        self.words_by_length: dict[int, list[str]] = {}
        self._word_ids = _WordIds(self._new_word)

    def term_ids(self, words: Iterable[str], count: int) -> np.ndarray:
        """The term id of each of `count` normalised words (its stem's), adding new ones."""
        return np.fromiter(map(self._word_ids.__getitem__, words), dtype=np.int64, count=count)

    def _new_word(self, word: str) -> int:
        term = stem(word)
        term_id = self.vocabulary.get(term)
        if term_id is None:
            term_id = self.vocabulary[term] = len(self.terms)
            self.terms.append(term)
            if term.isalpha():
                self.words_by_length.setdefault(len(term), []).append(term)
        return term_id


class _WordIds(dict):
    """word → term id, where a word not seen before is stemmed by `__missing__`, so the
    common case is one dictionary lookup in C."""

    def __init__(self, new_word) -> None:
        super().__init__()
        self._new_word = new_word

    def __missing__(self, word: str) -> int:
        term_id = self[word] = self._new_word(word)
        return term_id
