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
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import chain

import numpy as np
from rapidfuzz import fuzz, process

from bot.knowledge.semantic import Encoder, SemanticIndex
from bot.knowledge.text import STOPWORDS, normalise, normalised_words, stem, terms

MAX_QUERY_CHARS = 1000
MAX_QUERY_TERMS = 48
SHARD_SIZE = 2000
STOPWORD_TERMS = frozenset(stem(word) for word in STOPWORDS)
TITLE, QUESTION, TAGS, BODY, WHOLE = range(5)
KINDS = 5
# A pair of adjacent words is keyed by both term ids: first << PAIR_SHIFT | second
# (a vocabulary of 16 million stems is far beyond any knowledge base).
PAIR_SHIFT = 24


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


def _stable_order(keys: np.ndarray) -> np.ndarray:
    """argsort(keys, stable) for non-negative integer keys, as 16-bit radix passes (numpy
    sorts 16-bit keys in linear time: several times faster on millions of postings)."""
    order = np.arange(keys.size)
    if keys.size == 0:
        return order
    top, shift = int(keys.max()), 0
    while True:
        digit = ((keys[order] >> shift) & 0xFFFF).astype(np.uint16)
        order = order[np.argsort(digit, kind="stable")]
        shift += 16
        if top >> shift == 0:
            return order


def _runs(*keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Where each run of equal consecutive values of the keys (taken together) starts,
    and its length."""
    size = keys[0].size
    change = np.zeros(size, dtype=bool)
    change[:1] = True
    for key in keys:
        change[1:] |= key[1:] != key[:-1]
    starts = np.flatnonzero(change)
    return starts, np.diff(np.append(starts, size))


# Which kinds of text also index their adjacent-word pairs.
_PAIRED = np.array([kind in (TITLE, QUESTION) for kind in range(KINDS)])
# The texts of a document after its questions, in this order.
_AFTER_QUESTIONS = np.array([TITLE, TAGS, BODY])


class _Shard:
    """BM25 postings of a fixed group of documents, with term weights but without idf
    (applied per query), so a shard whose documents did not change is reused as is.

    The whole group is analysed in a few passes over flat arrays: every text of every
    document is normalised in one go, each word becomes a term id through one
    dictionary lookup, and a single radix sort by term turns the words into postings,
    counting repeats in a unit and documents per term on the way.

    Units are numbered every document's questions first (grouped by document, so a
    document's best question is one `reduceat`), then each document's other units:
    title, tags, body and the whole document.
    """

    def __init__(self, docs: Sequence[SearchDoc], weights: SearchWeights, analyser: Analyser) -> None:
        w = weights
        self.n_docs = n_docs = len(docs)
        questions = np.fromiter((len(doc.questions) for doc in docs), dtype=np.int64, count=n_docs)
        texts: list[str] = []
        for doc in docs:
            texts += doc.questions
            texts += (doc.title, " ".join(doc.tags), doc.body)
        words = normalised_words(texts)
        text_start = np.concatenate(([0], np.cumsum(questions + len(_AFTER_QUESTIONS))))
        self.fuzzy = [tuple(" ".join(text) for text in (words[start + count], *words[start:start + count]) if text)
                      for start, count in zip(text_start.tolist(), questions.tolist())]
        text_length = np.fromiter(map(len, words), dtype=np.int64, count=len(words))
        term = analyser.term_ids(chain.from_iterable(words), int(text_length.sum()))
        self.n_terms = n_terms = len(analyser.terms)

        # What each text is: its document and kind; texts with words become units.
        text_doc = np.repeat(np.arange(n_docs), np.diff(text_start))
        after = np.arange(len(texts)) - text_start[text_doc] - questions[text_doc]
        text_kind = np.where(after < 0, QUESTION, _AFTER_QUESTIONS[np.maximum(after, 0)])
        is_unit = text_length > 0
        question_units = is_unit & (after < 0)
        other_texts = is_unit & (after >= 0)
        doc_length = np.bincount(text_doc, weights=text_length, minlength=n_docs).astype(np.int64)
        whole_docs = np.flatnonzero(doc_length)
        n_questions = int(question_units.sum())
        # Other units by document; within one, its texts in order, then the whole document.
        other_doc = np.concatenate((text_doc[other_texts], whole_docs))
        other_order = np.argsort(other_doc, kind="stable")
        other_number = np.empty(other_order.size, dtype=np.int64)
        other_number[other_order] = n_questions + np.arange(other_order.size)
        unit_of_text = np.full(len(texts), -1, dtype=np.int64)
        unit_of_text[question_units] = np.arange(n_questions)
        unit_of_text[other_texts] = other_number[:int(other_texts.sum())]
        whole_unit = np.full(n_docs, -1, dtype=np.int64)
        whole_unit[whole_docs] = other_number[int(other_texts.sum()):]
        unit_kind = np.concatenate((np.full(n_questions, QUESTION), text_kind[other_texts], np.full(whole_docs.size, WHOLE)))
        unit_length = np.concatenate((text_length[question_units], text_length[other_texts], doc_length[whole_docs]))
        unit_doc = np.concatenate((text_doc[question_units], other_doc))
        unit_kind[n_questions:] = unit_kind[n_questions:][other_order]
        unit_length[n_questions:] = unit_length[n_questions:][other_order]
        unit_doc[n_questions:] = unit_doc[n_questions:][other_order]
        self.unit_doc = unit_doc
        self.n_units = unit_doc.size
        self.question_start = np.concatenate(([0], np.cumsum(np.bincount(unit_doc[:n_questions], minlength=n_docs))))
        self.other_doc = unit_doc[n_questions:]

        average = np.ones(KINDS)
        for kind in range(KINDS):
            of_kind = unit_length[unit_kind == kind]
            if of_kind.size:
                average[kind] = of_kind.mean()
        # BM25's length normalisation and the weight of each unit, per unit (there are
        # a hundred times fewer units than postings).
        unit_norm = w.k1 * (1 - w.b + w.b * unit_length / average[unit_kind])
        unit_weight = np.array([w.title, 1.0, w.tags, w.body, w.whole])[unit_kind] * (w.k1 + 1)

        def weight(unit: np.ndarray, tf: np.ndarray, boost: float) -> np.ndarray:
            return (boost * tf) / (tf + unit_norm[unit]) * unit_weight[unit]

        # Words, in document order, sorted by term (stable, so documents stay in order):
        # runs of one term in one unit are that unit's postings, runs of one term in
        # one document those of its whole-document unit.
        token_text = np.repeat(np.arange(len(texts)), text_length)
        token_doc = text_doc[token_text]
        token_unit = unit_of_text[token_text]
        order = _stable_order(term)
        by_term, unit, doc = term[order], token_unit[order], token_doc[order]
        in_unit, unit_tf = _runs(by_term, unit)
        in_doc, doc_tf = _runs(by_term, doc)
        self.doc_freq = np.bincount(by_term[in_doc], minlength=n_terms)
        post_term = np.concatenate((by_term[in_unit], by_term[in_doc]))
        post_unit = np.concatenate((unit[in_unit], whole_unit[doc[in_doc]]))
        post_tf = np.concatenate((unit_tf, doc_tf)).astype(np.float64)
        order = _stable_order(post_term)
        self.post_unit = post_unit[order]
        self.post_weight = weight(self.post_unit, post_tf[order], 1.0)
        self.post_start = np.concatenate(([0], np.cumsum(np.bincount(post_term, minlength=n_terms))))
        # Within a term, the whole-document postings come last (the sort is stable).
        self.post_whole = self.post_start[:-1] + np.bincount(by_term[in_unit], minlength=n_terms)

        # Adjacent words of a title or question, as pair keys, postings sorted by key.
        first = np.flatnonzero((token_text[1:] == token_text[:-1]) & _PAIRED[text_kind[token_text[:-1]]])
        pair_key = (term[first] << PAIR_SHIFT) | term[first + 1]
        order = _stable_order(pair_key)
        by_key, unit, doc = pair_key[order], token_unit[first][order], token_doc[first][order]
        in_unit, pair_tf = _runs(by_key, unit)
        in_doc, _ = _runs(by_key, doc)
        key_start, _ = _runs(by_key[in_unit])
        self.pair_keys = by_key[in_unit][key_start]
        self.pair_start = np.append(key_start, in_unit.size)
        self.pair_unit = unit[in_unit]
        self.pair_weight = weight(self.pair_unit, pair_tf.astype(np.float64), w.bigram)
        self.pair_doc_freq = np.bincount(np.searchsorted(self.pair_keys, by_key[in_doc]), minlength=self.pair_keys.size)

    def find_pairs(self, keys: np.ndarray) -> np.ndarray:
        """Where each pair key is in this shard's pairs, or -1."""
        found = np.minimum(np.searchsorted(self.pair_keys, keys), max(self.pair_keys.size - 1, 0))
        return np.where(self.pair_keys[found] == keys, found, -1) if self.pair_keys.size else np.full(keys.size, -1)

    def lexical(self, scored_terms: list[tuple[int, float]], scored_pairs: list[tuple[int, float]],
                weights: SearchWeights) -> np.ndarray:
        """Each document's lexical score for terms (and pairs, by their place in this
        shard) weighted by idf × query weight."""
        start, pair_start = self.post_start, self.pair_start
        slices = [(self.post_unit, self.post_weight, start[t], start[t + 1], weight)
                  for t, weight in scored_terms if t < self.n_terms]
        slices += [(self.pair_unit, self.pair_weight, pair_start[p], pair_start[p + 1], weight) for p, weight in scored_pairs]
        lexical = np.zeros(self.n_docs)
        if not slices:
            return lexical
        units = np.concatenate([unit[a:b] for unit, _, a, b, _ in slices])
        values = np.concatenate([values[a:b] * weight for _, values, a, b, weight in slices])
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

    def coverage(self, valued_terms: list[tuple[int, float]]) -> np.ndarray:
        """Per document, the sum of the values of the terms it contains."""
        found = [(self.post_whole[t], self.post_start[t + 1], value) for t, value in valued_terms if t < self.n_terms]
        if not found:
            return np.zeros(self.n_docs)
        docs = np.concatenate([self.unit_doc[self.post_unit[a:b]] for a, b, _ in found])
        values = np.concatenate([np.full(b - a, value) for a, b, value in found])
        return np.bincount(docs, weights=values, minlength=self.n_docs)


class SearchIndex:
    """An immutable index over `docs`; build a new one when articles change.

    Documents are spread over shards of about SHARD_SIZE by a hash of their key; passing
    the `previous` index (built with the same analyser) reuses every shard whose
    documents are unchanged, so editing one article of 10,000 rebuilds one shard, not
    the whole index.
    """

    def __init__(self, docs: Sequence[SearchDoc], weights: SearchWeights | None = None,
                 analyser: Analyser | None = None, previous: SearchIndex | None = None,
                 encoder: Encoder | None = None) -> None:
        self.docs = list(docs)
        self.weights = w = weights or SearchWeights()
        self._analyser = analyser = analyser or Analyser()
        n_docs = len(self.docs)
        n_shards = max(1, -(-n_docs // SHARD_SIZE))
        members: list[list[int]] = [[] for _ in range(n_shards)]
        for index, doc in enumerate(self.docs):
            members[zlib.crc32(doc.key.encode("utf-8")) % n_shards].append(index)
        reusable = {}
        if previous is not None and previous.weights == w and previous._analyser is analyser:
            reusable = previous._shard_by_docs
        self._shard_by_docs: dict[tuple[SearchDoc, ...], _Shard] = {}
        self._shards: list[tuple[_Shard, np.ndarray]] = []
        for indices in members:
            group = tuple(self.docs[i] for i in indices)
            shard = reusable.get(group) or _Shard(group, w, analyser)
            self._shard_by_docs[group] = shard
            self._shards.append((shard, np.asarray(indices, dtype=np.int64)))

        # Vocabulary as it was at build time: later builds may add terms this one lacks.
        self.vocabulary = analyser.vocabulary
        self._n_terms = n_terms = len(analyser.terms)
        self._terms = analyser.terms
        self._words_by_length = {length: tuple(words) for length, words in analyser.words_by_length.items()}
        self._near_length: dict[int, list[str]] = {}
        df = np.zeros(n_terms)
        self._fuzzy: list[tuple[str, ...]] = [()] * n_docs
        for shard, indices in self._shards:
            df[:shard.n_terms] += shard.doc_freq
            for index, texts in zip(indices.tolist(), shard.fuzzy):
                self._fuzzy[index] = texts
        self._idf = self._idf_of(df)
        self._idf_max = math.log1p((n_docs + 0.5) / 0.5)

        self._semantic = None if encoder is None else SemanticIndex(
            self.docs, encoder, previous._semantic if previous is not None else None)

    def _idf_of(self, doc_freq: np.ndarray) -> np.ndarray:
        return np.log1p((len(self.docs) - doc_freq + 0.5) / (doc_freq + 0.5))

    @property
    def semantic(self) -> SemanticIndex | None:
        """The embeddings this index re-ranks with (the semantic extra), if it does."""
        return self._semantic

    def __len__(self) -> int:
        return len(self.docs)

    # ----- querying -------------------------------------------------------------------------
    def _query_terms(self, words: list[str]) -> tuple[list[tuple[int, float]], list[int], list[tuple[int, float]], float]:
        """Term ids to score with, with their weights (1, or a typo correction's similarity);
        the keys of adjacent pairs of those words (as corrected); the subset that carries
        content (no stopwords, no pairs) for coverage; and the information (idf) of the
        content words, where unknown words count as the rarest."""
        chosen: dict[int, float] = {}
        content: dict[int, float] = {}
        information = 0.0
        corrected: list[int] = []
        for word in dict.fromkeys(words):
            is_content = word not in STOPWORD_TERMS
            term_id = self._term_id(word)
            if term_id is not None:
                found = [(term_id, 1.0)]
                information += self._idf[term_id] if is_content else 0.0
            else:
                found = [(self.vocabulary[term], similarity) for term, similarity in self._correct(word)]
                information += self._idf_max if is_content else 0.0
            if found:
                corrected.append(found[0][0])
            for term_id, weight in found:
                chosen[term_id] = max(chosen.get(term_id, 0.0), weight)
                if is_content:
                    content[term_id] = max(content.get(term_id, 0.0), weight)
        pairs = list(dict.fromkeys((first << PAIR_SHIFT) | second for first, second in zip(corrected, corrected[1:])))
        return list(chosen.items()), pairs, list(content.items()), information

    def _scored_pairs(self, keys: list[int]) -> list[list[tuple[int, float]]]:
        """For each shard, the query's pairs it holds (by place) with their idf, from the
        pair's document frequency over every shard."""
        if not keys:
            return [[] for _ in self._shards]
        key_array = np.asarray(keys, dtype=np.int64)
        places = [shard.find_pairs(key_array) for shard, _ in self._shards]
        df = sum(np.where(place >= 0, shard.pair_doc_freq[np.maximum(place, 0)], 0)
                 for (shard, _), place in zip(self._shards, places))
        idf = self._idf_of(df)
        return [[(int(p), float(i)) for p, i in zip(place, idf) if p >= 0] for place in places]

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
        query_terms, query_pairs, content_terms, information = self._query_terms(words)
        if not information:
            return SearchOutcome(query, [], False, "the question has only common words")

        scored = [(term_id, weight * self._idf[term_id]) for term_id, weight in query_terms]
        lexical = np.zeros(len(self.docs))
        for (shard, members), pairs in zip(self._shards, self._scored_pairs(query_pairs)):
            lexical[members] += shard.lexical(scored, pairs, w)

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
        valued = [(t, self._idf[t] * weight) for t, weight in content_terms]
        coverage = np.zeros(len(self.docs))
        for shard, members in self._shards:
            coverage[members] = shard.coverage(valued)
        return coverage[candidates]
