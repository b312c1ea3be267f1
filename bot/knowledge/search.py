"""Ranking articles for a question typed in a hurry: term weighting plus fuzzy matching.

How a question is scored (each choice was kept because bench/kb_search.py said so):

1. The question and every article are normalised the same way (bot.knowledge.text):
   no accents, case or punctuation, light stemming cut to six letters; adjacent-word
   pairs (bigrams) are extra terms. Stopwords stay for ranking
   ("why" and "how" tell intents apart) but carry no weight in the confidence.
2. A word the articles never use is corrected to the closest article words with
   rapidfuzz (`process.extract` with a `score_cutoff`), so typos still find terms.
3. BM25 scores every *unit* of text separately: the title, each of the article's
   `questions`, its tags, its body and the whole article together. An
   article's lexical score is a weighted sum of those plus its best question (and a
   little of the rest), so one well-matching question is not drowned by ten others.
4. The best candidates are re-ranked with rapidfuzz (`process.cdist`) over their title
   and questions, which rewards a question phrased like one the article lists.
5. Confidence mixes how much of the question's information the article covers with
   that fuzzy similarity; below `min_confidence` the search says it has no answer.
6. Optionally (the `semantic` extra, bot.knowledge.semantic), the articles whose title
   or questions are nearest in meaning join the candidates, and each candidate's score
   and confidence are blended with that similarity.

All the work per query is done by numpy and rapidfuzz over arrays built once.
"""

from __future__ import annotations

import math
import zlib
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from rapidfuzz import fuzz, process

from bot.knowledge.semantic import Encoder, SemanticIndex
from bot.knowledge.text import STOPWORDS, bigrams, normalise, stem, terms

MAX_QUERY_CHARS = 1000
MAX_QUERY_TERMS = 48
SHARD_SIZE = 2000
STOPWORD_TERMS = frozenset(stem(word) for word in STOPWORDS)
TITLE, QUESTION, TAGS, BODY, WHOLE = range(5)
KINDS = 5


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
    min_confidence: float = 0.3
    # With the semantic extra: share of the score and of the confidence that similarity
    # in meaning takes, how many nearest articles join the candidates, and the cosine
    # similarities that count as no resemblance (confidence 0) and as a sure match (1).
    semantic: float = 0.8
    semantic_classifier: float = 0.375  # of the semantic share, what the classifier takes
    semantic_confidence: float = 0.7
    semantic_candidates: int = 10
    semantic_floor: float = 0.2
    semantic_ceiling: float = 0.7


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


@dataclass(frozen=True)
class _Analysed:
    """One document's units and term counts, in term ids of an `Analyser`'s vocabulary.

    Units are numbered questions first (0..questions-1), then the other units.
    """

    questions: int
    other_kinds: np.ndarray  # kind of each non-question unit
    lengths: np.ndarray  # length in words of every unit
    entry_unit: np.ndarray  # per (unit, term): the unit's local number
    entry_term: np.ndarray
    entry_tf: np.ndarray
    terms: np.ndarray  # the document's distinct term ids, sorted
    fuzzy_texts: tuple[str, ...]


class Analyser:
    """Turns documents into term ids, remembering both: a knowledge base that changes a
    little is re-indexed from cached work, and term ids stay stable between builds.
    Not thread-safe; the library uses it under its lock."""

    def __init__(self) -> None:
        self.vocabulary: dict[str, int] = {}
        self.terms: list[str] = []
        self.is_pair: list[bool] = []
        self.words_by_length: dict[int, list[str]] = {}
        self._cache: dict[SearchDoc, _Analysed] = {}

    def analyse_all(self, docs: Sequence[SearchDoc]) -> list[_Analysed]:
        cache = self._cache
        analysed = [cache.get(doc) or self._analyse(doc) for doc in docs]
        self._cache = dict(zip(docs, analysed))  # forget documents that are gone
        return analysed

    def _id(self, term: str) -> int:
        term_id = self.vocabulary.get(term)
        if term_id is None:
            term_id = self.vocabulary[term] = len(self.terms)
            self.terms.append(term)
            self.is_pair.append("_" in term)
            if "_" not in term and term.isalpha():
                self.words_by_length.setdefault(len(term), []).append(term)
        return term_id

    def _analyse(self, doc: SearchDoc) -> _Analysed:
        questions = [terms(normalise(q), drop_stopwords=False) for q in doc.questions]
        questions = [words for words in questions if words]
        title = terms(normalise(doc.title), drop_stopwords=False)
        others = [
            (TITLE, title, True),
            (TAGS, terms(normalise(" ".join(doc.tags)), drop_stopwords=False), False),
            (BODY, terms(normalise(doc.body), drop_stopwords=False), False),
        ]
        others.append((WHOLE, [w for _, words, _ in others for w in words] + [w for q in questions for w in q], False))
        others = [(kind, words, pairs) for kind, words, pairs in others if words]
        units = [(words, True) for words in questions] + [(words, pairs) for _, words, pairs in others]
        entry_unit, entry_term, entry_tf = [], [], []
        for number, (words, pairs) in enumerate(units):
            counts = Counter(words)
            if pairs:
                counts.update(bigrams(words))
            for term, tf in counts.items():
                entry_unit.append(number)
                entry_term.append(self._id(term))
                entry_tf.append(tf)
        entry_term_a = np.asarray(entry_term, dtype=np.int64)
        fuzzy = tuple(text for text in (normalise(t) for t in (doc.title, *doc.questions)) if text)
        return _Analysed(
            questions=len(questions),
            other_kinds=np.asarray([kind for kind, _, _ in others], dtype=np.int64),
            lengths=np.asarray([len(words) for words, _ in units], dtype=np.float64),
            entry_unit=np.asarray(entry_unit, dtype=np.int64),
            entry_term=entry_term_a,
            entry_tf=np.asarray(entry_tf, dtype=np.float64),
            terms=np.unique(entry_term_a),
            fuzzy_texts=fuzzy,
        )


def _concat(arrays: list[np.ndarray], dtype=np.int64) -> np.ndarray:
    return np.concatenate(arrays) if arrays else np.zeros(0, dtype=dtype)


def _stable_order(keys: np.ndarray) -> np.ndarray:
    """argsort(keys, stable) for non-negative ids below 2**32, as two 16-bit radix passes
    (numpy sorts 16-bit keys in linear time: about twice as fast on millions of postings)."""
    if keys.size == 0 or keys.max() < 2**16:
        return np.argsort(keys.astype(np.uint16), kind="stable")
    low = np.argsort((keys & 0xFFFF).astype(np.uint16), kind="stable")
    return low[np.argsort((keys[low] >> 16).astype(np.uint16), kind="stable")]


class _Shard:
    """BM25 postings of a fixed group of documents, with term weights but without idf
    (applied per query), so a shard whose documents did not change is reused as is."""

    def __init__(self, analysed: Sequence[_Analysed], weights: SearchWeights, is_pair: Sequence[bool]) -> None:
        w = weights
        n_terms = len(is_pair)
        questions = np.asarray([a.questions for a in analysed], dtype=np.int64)
        others = np.asarray([len(a.other_kinds) for a in analysed], dtype=np.int64)
        # Unit numbers: every question unit first, grouped by document, then the rest.
        self.question_start = np.concatenate(([0], np.cumsum(questions)))
        total_questions = int(self.question_start[-1])
        other_start = total_questions + np.concatenate(([0], np.cumsum(others)))
        entries = np.asarray([a.entry_unit.size for a in analysed], dtype=np.int64)
        local = _concat([a.entry_unit for a in analysed])
        unit = np.where(
            local < np.repeat(questions, entries),
            np.repeat(self.question_start[:-1], entries) + local,
            np.repeat(other_start[:-1], entries) + local - np.repeat(questions, entries),
        )
        term = _concat([a.entry_term for a in analysed])
        tf = _concat([a.entry_tf for a in analysed], np.float64)
        unit_kind = np.concatenate((np.full(total_questions, QUESTION), _concat([a.other_kinds for a in analysed])))
        unit_length = np.concatenate((
            _concat([a.lengths[:a.questions] for a in analysed], np.float64),
            _concat([a.lengths[a.questions:] for a in analysed], np.float64),
        ))
        self.other_doc = np.repeat(np.arange(len(analysed)), others)
        self.n_docs = len(analysed)
        average = np.ones(KINDS)
        for kind in range(KINDS):
            of_kind = unit_length[unit_kind == kind]
            if of_kind.size:
                average[kind] = of_kind.mean()
        kind_weight = np.array([w.title, 1.0, w.tags, w.body, w.whole])
        boost = np.where(np.asarray(is_pair, dtype=bool), w.bigram, 1.0)
        norm = 1 - w.b + w.b * unit_length[unit] / average[unit_kind[unit]]
        weight = boost[term] * tf * (w.k1 + 1) / (tf + w.k1 * norm) * kind_weight[unit_kind[unit]]
        order = _stable_order(term)
        self.post_unit = unit[order]
        self.post_weight = weight[order]
        self.post_start = np.concatenate(([0], np.cumsum(np.bincount(term, minlength=n_terms))))
        self.n_terms = n_terms
        self.n_units = unit_length.size

    def lexical(self, scored_terms: list[tuple[int, float]], weights: SearchWeights) -> np.ndarray:
        """Each document's lexical score for terms weighted by idf × query weight."""
        start = self.post_start
        slices = [(start[t], start[t + 1], weight) for t, weight in scored_terms if t < self.n_terms]
        lexical = np.zeros(self.n_docs)
        if not slices:
            return lexical
        units = np.concatenate([self.post_unit[a:b] for a, b, _ in slices])
        values = np.concatenate([self.post_weight[a:b] * weight for a, b, weight in slices])
        unit_score = np.bincount(units, weights=values, minlength=self.n_units)
        boundaries = self.question_start
        lexical += np.bincount(self.other_doc, weights=unit_score[boundaries[-1]:], minlength=self.n_docs)
        has_questions = boundaries[1:] > boundaries[:-1]
        if has_questions.any():
            question_scores = unit_score[:boundaries[-1]]
            firsts = boundaries[:-1][has_questions]
            best = np.maximum.reduceat(question_scores, firsts)
            total = np.add.reduceat(question_scores, firsts)
            lexical[has_questions] += weights.question_best * best + weights.question_rest * (total - best)
        return lexical


class SearchIndex:
    """An immutable index over `docs`; build a new one when articles change.

    Documents are spread over shards of about SHARD_SIZE by a hash of their key; passing
    the `previous` index reuses every shard whose documents are unchanged, so editing
    one article of 10,000 rebuilds one shard, not the whole index.
    """

    def __init__(self, docs: Sequence[SearchDoc], weights: SearchWeights | None = None,
                 analyser: Analyser | None = None, previous: SearchIndex | None = None,
                 encoder: Encoder | None = None) -> None:
        self.docs = list(docs)
        self.weights = w = weights or SearchWeights()
        analyser = analyser or Analyser()
        analysed = analyser.analyse_all(self.docs)
        n_docs = len(self.docs)
        # Vocabulary as it was at build time: later builds may add terms this one lacks.
        self.vocabulary = analyser.vocabulary
        self._n_terms = n_terms = len(analyser.terms)
        self._terms = analyser.terms
        self._words_by_length = {length: tuple(words) for length, words in analyser.words_by_length.items()}
        self._near_length: dict[int, list[str]] = {}
        df = np.bincount(_concat([a.terms for a in analysed]), minlength=n_terms).astype(np.float64)
        self._idf = np.log1p((n_docs - df + 0.5) / (df + 0.5))
        self._idf_max = math.log1p((n_docs + 0.5) / 0.5)
        self._doc_terms = [a.terms for a in analysed]
        self._fuzzy = [a.fuzzy_texts for a in analysed]

        n_shards = max(1, -(-n_docs // SHARD_SIZE))
        members: list[list[int]] = [[] for _ in range(n_shards)]
        for index, doc in enumerate(self.docs):
            members[zlib.crc32(doc.key.encode("utf-8")) % n_shards].append(index)
        reusable = previous._shard_by_docs if previous is not None and previous.weights == w else {}
        self._shard_by_docs: dict[tuple[SearchDoc, ...], _Shard] = {}
        self._shards: list[tuple[_Shard, np.ndarray]] = []
        for indices in members:
            group = tuple(self.docs[i] for i in indices)
            shard = reusable.get(group) or _Shard([analysed[i] for i in indices], w, analyser.is_pair[:n_terms])
            self._shard_by_docs[group] = shard
            self._shards.append((shard, np.asarray(indices, dtype=np.int64)))
        self._semantic = None if encoder is None else SemanticIndex(
            self.docs, encoder, previous._semantic if previous is not None else None)

    @property
    def semantic(self) -> SemanticIndex | None:
        """The embeddings this index re-ranks with (the semantic extra), if it does."""
        return self._semantic

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
            term_id = self._term_id(word)
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
        for pair in bigrams(corrected_words):
            term_id = self._term_id(pair)
            if term_id is not None:
                chosen.setdefault(term_id, 1.0)
        return list(chosen.items()), list(content.items()), information

    def _term_id(self, term: str) -> int | None:
        term_id = self.vocabulary.get(term)
        return term_id if term_id is not None and term_id < self._n_terms else None

    def _correct(self, word: str) -> list[tuple[str, float]]:
        if len(word) < 4 or not word.isalpha():
            return []
        choices = self._near_length.get(len(word))
        if choices is None:
            by_length = self._words_by_length
            choices = [w for n in (len(word) - 1, len(word), len(word) + 1) for w in by_length.get(n, ())]
            self._near_length[len(word)] = choices
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

        scored = [(term_id, weight * self._idf[term_id]) for term_id, weight in query_terms]
        lexical = np.zeros(len(self.docs))
        for shard, members in self._shards:
            lexical[members] += shard.lexical(scored, w)

        count = min(w.candidates, int(np.count_nonzero(lexical)))
        candidates = np.argpartition(-lexical, count - 1)[:count] if count else np.zeros(0, dtype=np.int64)
        similarity = probability = None
        if self._semantic is not None:
            similarity, probability = self._semantic.scores(query[:MAX_QUERY_CHARS])
            nearest = min(w.semantic_candidates, len(self.docs))
            candidates = np.union1d(candidates, np.argpartition(-similarity, nearest - 1)[:nearest])
        if candidates.size == 0:
            return SearchOutcome(query, [], False, "no article uses these words")
        fuzzy = self._fuzzy_scores(normalised, candidates)
        relative = lexical[candidates] / max(lexical[candidates].max(), 1e-12)
        final = (1 - w.fuzzy) * relative + w.fuzzy * fuzzy
        if similarity is not None:
            meaning = similarity[candidates]
            if probability is not None:
                meaning = (1 - w.semantic_classifier) * meaning + w.semantic_classifier * probability[candidates]
            final = (1 - w.semantic) * final + w.semantic * meaning
        top = np.argsort(-final, kind="stable")[:limit]
        # Confidence only for what is shown: how much of the question it covers, and how alike.
        coverage = self._coverage(content_terms, candidates[top]) / information
        confidence = 0.5 * coverage + 0.5 * fuzzy[top]
        if similarity is not None:
            sure = (similarity[candidates[top]] - w.semantic_floor) / (w.semantic_ceiling - w.semantic_floor)
            confidence = (1 - w.semantic_confidence) * confidence + w.semantic_confidence * np.clip(sure, 0.0, 1.0)
        confidence = np.clip(confidence, 0.0, 1.0)
        hits = [
            Hit(int(candidates[i]), self.docs[candidates[i]].key, round(float(final[i]), 4), round(float(c), 4))
            for i, c in zip(top, confidence)
        ]
        if hits[0].confidence < w.min_confidence:
            return SearchOutcome(query, hits, False, "no article matches with confidence")
        return SearchOutcome(query, hits, True)

    def _fuzzy_scores(self, normalised: str, candidates: np.ndarray) -> np.ndarray:
        """Best rapidfuzz similarity (0..1) of the query to each candidate's title or questions."""
        best = np.zeros(len(candidates))
        texts, slots = [], []
        for slot, doc in enumerate(candidates):
            texts += self._fuzzy[doc]
            slots += [slot] * len(self._fuzzy[doc])
        if texts:
            scores = process.cdist([normalised], texts, scorer=fuzz.token_sort_ratio, processor=None, dtype=np.float64)[0]
            np.maximum.at(best, slots, scores / 100)
        return best

    def _coverage(self, content_terms: list[tuple[int, float]], candidates: np.ndarray) -> np.ndarray:
        """Sum of idf of the question's content words each candidate contains (typo
        corrections count by their similarity)."""
        if not content_terms:
            return np.zeros(len(candidates))
        ids = np.asarray([t for t, _ in content_terms], dtype=np.int64)
        value = np.asarray([self._idf[t] * weight for t, weight in content_terms])
        return np.asarray([value[np.isin(ids, self._doc_terms[doc], assume_unique=True)].sum() for doc in candidates])
