"""Ranking articles for a question typed in a hurry: term weighting plus fuzzy matching.

How a question is scored (each choice was kept because bench/kb_search.py said so):

1. The question and every article are normalised the same way (bot.knowledge.text):
   no accents, case or punctuation, light stemming cut to six letters; adjacent-word
   pairs (bigrams) and character 4-grams are extra terms. Stopwords stay for ranking
   ("why" and "how" tell intents apart) but carry no weight in the confidence.
2. A word the articles never use is corrected to the closest article words with
   rapidfuzz (`process.extract` with a `score_cutoff`), so typos still find terms.
3. BM25 scores every *unit* of text separately: the title, each of the article's
   `questions`, its tags, its body, the whole article, and its character grams. An
   article's lexical score is a weighted sum of those plus its best question (and a
   little of the rest), so one well-matching question is not drowned by ten others.
4. The best candidates are re-ranked with rapidfuzz (`process.cdist`) over their title
   and questions, which rewards a question phrased like one the article lists.
5. Confidence mixes how much of the question's information the article covers with
   that fuzzy similarity; below `min_confidence` the search says it has no answer.

All the work per query is done by numpy and rapidfuzz over arrays built once.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from rapidfuzz import fuzz, process

from bot.knowledge.text import STOPWORDS, bigrams, normalise, stem, terms

MAX_QUERY_CHARS = 1000
MAX_QUERY_TERMS = 48
STOPWORD_TERMS = frozenset(stem(word) for word in STOPWORDS)
TITLE, QUESTION, TAGS, BODY, WHOLE, GRAMS = range(6)
KINDS = 6


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
    grams: float = 0.2
    bigram: float = 0.5
    k1: float = 1.2
    b: float = 0.75
    typo_cutoff: float = 80.0
    fuzzy: float = 0.4
    candidates: int = 30
    min_confidence: float = 0.3


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


def char_grams(words: Sequence[str], n: int = 4) -> list[str]:
    """Character n-grams of each word (marked with ~ so they never meet a word)."""
    grams = []
    for word in words:
        padded = f"<{word}>"
        grams += ["~" + padded[i:i + n] for i in range(max(1, len(padded) - n + 1))]
    return grams


@dataclass
class _Units:
    """Units of text (title, each question, tags, body…) as parallel lists while building."""

    doc: list[int] = field(default_factory=list)
    kind: list[int] = field(default_factory=list)
    length: list[int] = field(default_factory=list)
    counts: list[Counter] = field(default_factory=list)

    def add(self, doc: int, kind: int, text: str, *, pairs: bool = False, grams: bool = False) -> None:
        words = terms(normalise(text), drop_stopwords=False)
        if grams:
            words = char_grams(words)
        if not words:
            return
        counts = Counter(words)
        if pairs:
            counts.update(bigrams(words))
        self.doc.append(doc)
        self.kind.append(kind)
        self.length.append(len(words))
        self.counts.append(counts)


class SearchIndex:
    """An immutable index over `docs`; build a new one when articles change."""

    def __init__(self, docs: Sequence[SearchDoc], weights: SearchWeights | None = None) -> None:
        self.docs = list(docs)
        self.weights = w = weights or SearchWeights()
        units = _Units()
        self._fuzzy_texts: list[str] = []
        fuzzy_doc: list[int] = []
        for index, doc in enumerate(self.docs):
            units.add(index, TITLE, doc.title, pairs=True)
            for question in doc.questions:
                units.add(index, QUESTION, question, pairs=True)
            units.add(index, TAGS, " ".join(doc.tags))
            units.add(index, BODY, doc.body)
            units.add(index, WHOLE, "\n".join((doc.title, *doc.questions, *doc.tags, doc.body)))
            units.add(index, GRAMS, "\n".join((doc.title, *doc.questions)), grams=True)
            for text in (doc.title, *doc.questions):
                normalised = normalise(text)
                if normalised:
                    self._fuzzy_texts.append(normalised)
                    fuzzy_doc.append(index)
        # Texts of document d are _fuzzy_texts[_fuzzy_start[d]:_fuzzy_start[d + 1]].
        self._fuzzy_start = np.searchsorted(np.asarray(fuzzy_doc, dtype=np.int64), np.arange(len(self.docs) + 1))

        vocabulary: dict[str, int] = {}
        doc_terms: list[set[int]] = [set() for _ in self.docs]
        unit_ids, term_ids, tfs = [], [], []
        for unit, counts in enumerate(units.counts):
            owner = doc_terms[units.doc[unit]]
            for term, tf in counts.items():
                term_id = vocabulary.setdefault(term, len(vocabulary))
                owner.add(term_id)
                unit_ids.append(unit)
                term_ids.append(term_id)
                tfs.append(tf)
        self.vocabulary = vocabulary
        n_docs = max(len(self.docs), 1)
        df = np.zeros(len(vocabulary), dtype=np.float64)
        for present in doc_terms:
            df[list(present)] += 1
        self._idf = np.log1p((n_docs - df + 0.5) / (df + 0.5))
        self._idf_max = math.log1p((n_docs + 0.5) / 0.5)
        is_bigram = np.fromiter(("_" in term for term in vocabulary), dtype=bool, count=len(vocabulary))
        self._terms = list(vocabulary)
        self._term_boost = np.where(is_bigram, w.bigram, 1.0)

        unit_doc = np.asarray(units.doc, dtype=np.int64)
        unit_kind = np.asarray(units.kind, dtype=np.int64)
        unit_length = np.asarray(units.length, dtype=np.float64)
        average = np.ones(KINDS)
        for kind in range(KINDS):
            lengths = unit_length[unit_kind == kind]
            if lengths.size:
                average[kind] = lengths.mean()
        kind_weight = np.array([w.title, 1.0, w.tags, w.body, w.whole, w.grams])
        unit_ids_a = np.asarray(unit_ids, dtype=np.int64)
        term_ids_a = np.asarray(term_ids, dtype=np.int64)
        tf = np.asarray(tfs, dtype=np.float64)
        norm = 1 - w.b + w.b * unit_length[unit_ids_a] / average[unit_kind[unit_ids_a]]
        weight = (
            self._idf[term_ids_a] * self._term_boost[term_ids_a]
            * tf * (w.k1 + 1) / (tf + w.k1 * norm) * kind_weight[unit_kind[unit_ids_a]]
        )
        order = np.argsort(term_ids_a, kind="stable")
        self._post_unit = unit_ids_a[order]
        self._post_weight = weight[order]
        self._post_start = np.searchsorted(term_ids_a[order], np.arange(len(vocabulary) + 1))
        self._unit_doc = unit_doc
        self._is_question = unit_kind == QUESTION
        # Per term, the documents holding it (for coverage): unique (term, doc) pairs.
        pairs = np.unique(term_ids_a * n_docs + unit_doc[unit_ids_a])
        self._doc_post_doc = pairs % n_docs
        self._doc_post_start = np.searchsorted(pairs // n_docs, np.arange(len(vocabulary) + 1))
        words_by_length: dict[int, list[str]] = {}
        for term in vocabulary:
            if "_" not in term and term.isalpha():
                words_by_length.setdefault(len(term), []).append(term)
        self._words_near_length = {
            length: [word for near in (length - 1, length, length + 1) for word in words_by_length.get(near, [])]
            for length in words_by_length
        }

    def __len__(self) -> int:
        return len(self.docs)

    # ----- querying -------------------------------------------------------------------------
    def _query_terms(self, words: list[str]) -> tuple[list[tuple[int, float]], list[tuple[int, float]], float]:
        """Term ids to score with, with their weights (1, or a typo correction's similarity);
        the subset that carries content (no stopwords, no pairs or grams) for coverage; and
        the information (idf) of the content words, where unknown words count as the rarest."""
        chosen: dict[int, float] = {}
        content: dict[int, float] = {}
        information = 0.0
        corrected_words: list[str] = []
        for word in dict.fromkeys(words):
            is_content = word not in STOPWORD_TERMS
            term_id = self.vocabulary.get(word)
            if term_id is not None:
                found = [(term_id, 1.0)]
                corrected_words.append(word)
                information += self._idf[term_id] if is_content else 0.0
            else:
                found = [(self.vocabulary[term], similarity) for term, similarity in self._correct(word)]
                if found:
                    corrected_words.append(self._terms[found[0][0]])
                information += self._idf_max if is_content else 0.0
            for term_id, weight in found:
                chosen[term_id] = max(chosen.get(term_id, 0.0), weight)
                if is_content:
                    content[term_id] = max(content.get(term_id, 0.0), weight)
        extra = bigrams(corrected_words)
        extra += char_grams(words)
        for pair in extra:
            term_id = self.vocabulary.get(pair)
            if term_id is not None:
                chosen.setdefault(term_id, 1.0)
        return list(chosen.items()), list(content.items()), information

    def _correct(self, word: str) -> list[tuple[str, float]]:
        if len(word) < 4 or not word.isalpha():
            return []
        choices = self._words_near_length.get(len(word))
        if not choices:
            return []
        found = process.extract(
            word, choices, scorer=fuzz.ratio, processor=None, limit=2, score_cutoff=self.weights.typo_cutoff
        )
        return [(term, (score / 100) ** 2) for term, score, _ in found]

    def search(self, query: str, limit: int = 3) -> SearchOutcome:
        w = self.weights
        normalised = normalise((query or "")[:MAX_QUERY_CHARS])
        if not self.docs:
            return SearchOutcome(query, [], False, "the knowledge base has no articles yet")
        words = terms(normalised, drop_stopwords=False)[:MAX_QUERY_TERMS]
        if not words:
            return SearchOutcome(query, [], False, "the question has no words to search for")
        query_terms, content_terms, information = self._query_terms(words)
        if not information:
            return SearchOutcome(query, [], False, "the question has only common words")
        if not query_terms:
            return SearchOutcome(query, [], False, "no article uses these words")

        start = self._post_start
        slices = [(start[t], start[t + 1], weight) for t, weight in query_terms]
        units = np.concatenate([self._post_unit[a:b] for a, b, _ in slices])
        weights = np.concatenate([self._post_weight[a:b] * weight for a, b, weight in slices])
        unit_score = np.bincount(units, weights=weights, minlength=len(self._unit_doc))
        touched = np.unique(units)
        touched_doc = self._unit_doc[touched]
        touched_score = unit_score[touched]
        question = self._is_question[touched]
        n_docs = len(self.docs)
        lexical = np.bincount(touched_doc[~question], weights=touched_score[~question], minlength=n_docs).astype(np.float64)
        best_question = np.zeros(n_docs)
        np.maximum.at(best_question, touched_doc[question], touched_score[question])
        question_sum = np.bincount(touched_doc[question], weights=touched_score[question], minlength=n_docs)
        lexical += w.question_best * best_question + w.question_rest * (question_sum - best_question)

        count = min(w.candidates, int(np.count_nonzero(lexical)))
        if count == 0:
            return SearchOutcome(query, [], False, "no article uses these words")
        candidates = np.argpartition(-lexical, count - 1)[:count]
        fuzzy = self._fuzzy_scores(normalised, candidates)
        relative = lexical[candidates] / lexical[candidates].max()
        coverage = self._coverage(content_terms, candidates) / information
        final = (1 - w.fuzzy) * relative + w.fuzzy * fuzzy
        confidence = np.clip(0.5 * coverage + 0.5 * fuzzy, 0.0, 1.0)
        order = np.argsort(-final, kind="stable")[:limit]
        hits = [
            Hit(int(candidates[i]), self.docs[candidates[i]].key, round(float(final[i]), 4), round(float(confidence[i]), 4))
            for i in order
        ]
        if hits[0].confidence < w.min_confidence:
            return SearchOutcome(query, hits, False, "no article matches with confidence")
        return SearchOutcome(query, hits, True)

    def _fuzzy_scores(self, normalised: str, candidates: np.ndarray) -> np.ndarray:
        """Best rapidfuzz similarity (0..1) of the query to each candidate's title or questions."""
        best = np.zeros(len(candidates))
        texts, slots = [], []
        for slot, doc in enumerate(candidates):
            for position in range(self._fuzzy_start[doc], self._fuzzy_start[doc + 1]):
                texts.append(self._fuzzy_texts[position])
                slots.append(slot)
        if texts:
            scores = process.cdist([normalised], texts, scorer=fuzz.token_sort_ratio, processor=None, dtype=np.float64)[0]
            np.maximum.at(best, slots, scores / 100)
        return best

    def _coverage(self, query_terms: list[tuple[int, float]], candidates: np.ndarray) -> np.ndarray:
        """Sum of idf of the query words each candidate contains (typo corrections count partly)."""
        n_docs = len(self.docs)
        covered = np.zeros(n_docs)
        for term_id, weight in query_terms:
            docs = self._doc_post_doc[self._doc_post_start[term_id]:self._doc_post_start[term_id + 1]]
            covered[docs] += self._idf[term_id] * weight
        return covered[candidates]
