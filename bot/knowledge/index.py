"""Building the knowledge search's index: BM25 postings, shard by shard.

Documents are spread over shards of about SHARD_SIZE by a hash of their key, and each
shard holds the postings of its documents with their term weights but without idf,
which depends on every shard and is applied per query. An index built with the
`previous` one (and the same analyser) reuses every shard whose documents did not
change, so editing one article of 10,000 rebuilds one shard, not the whole index.

Querying is bot.knowledge.search; a shard only answers the lookups it is built for
(a term's or a pair's postings, summed per document).
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Sequence
from itertools import chain

import numpy as np

from bot.knowledge.documents import Analyser, SearchDoc, SearchWeights
from bot.knowledge.text import normalised_words

SHARD_SIZE = 2000
TITLE, QUESTION, TAGS, BODY, WHOLE = range(5)
KINDS = 5
# A pair of adjacent words is keyed by both term ids: first << PAIR_SHIFT | second
# (a vocabulary of 16 million stems is far beyond any knowledge base).
PAIR_SHIFT = 24


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


class Shard:
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
        # Each document's title and questions with their words in sorted order, as
        # rapidfuzz's token_sort_ratio compares them: sorted once here, not per query.
        self.fuzzy = [tuple(" ".join(sorted(text)) for text in (words[start + count], *words[start:start + count]) if text)
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
        # Units that head a document (title, questions, tags), as opposed to its body.
        self.unit_heads = (unit_kind != BODY) & (unit_kind != WHOLE)
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

    def coverage(self, valued_terms: list[tuple[int, float]], heads_only: bool = False) -> np.ndarray:
        """Per document, the sum of the values of the terms it contains (with `heads_only`,
        in its title, a question or its tags)."""
        if heads_only:
            # A term's postings before post_whole are one per unit: keep those of heading
            # units, once per document.
            found = [(np.unique(self.unit_doc[units[self.unit_heads[units]]]), value) for t, value in valued_terms
                     if t < self.n_terms for units in (self.post_unit[self.post_start[t]:self.post_whole[t]],)]
        else:
            found = [(self.unit_doc[self.post_unit[self.post_whole[t]:self.post_start[t + 1]]], value)
                     for t, value in valued_terms if t < self.n_terms]
        if not found:
            return np.zeros(self.n_docs)
        docs = np.concatenate([docs for docs, _ in found])
        values = np.repeat([value for _, value in found], [term_docs.size for term_docs, _ in found])
        return np.bincount(docs, weights=values, minlength=self.n_docs)


class Postings:
    """The lexical half of one index: every document's postings over shards, and what
    the query side needs with them (idf, the vocabulary as it was at build time, each
    document's texts for fuzzy matching)."""

    def __init__(self, docs: Sequence[SearchDoc], weights: SearchWeights, analyser: Analyser,
                 previous: Postings | None = None) -> None:
        self.weights = weights
        self.analyser = analyser
        n_docs = self.n_docs = len(docs)
        n_shards = max(1, -(-n_docs // SHARD_SIZE))
        members: list[list[int]] = [[] for _ in range(n_shards)]
        for index, doc in enumerate(docs):
            members[zlib.crc32(doc.key.encode("utf-8")) % n_shards].append(index)
        reusable = {}
        if previous is not None and previous.weights == weights and previous.analyser is analyser:
            reusable = previous.shard_by_docs
        self.shard_by_docs: dict[tuple[SearchDoc, ...], Shard] = {}
        self.shards: list[tuple[Shard, np.ndarray]] = []
        for indices in members:
            group = tuple(docs[i] for i in indices)
            shard = reusable.get(group) or Shard(group, weights, analyser)
            self.shard_by_docs[group] = shard
            self.shards.append((shard, np.asarray(indices, dtype=np.int64)))

        # Vocabulary as it was at build time: later builds may add terms this one lacks.
        self.vocabulary = analyser.vocabulary
        self.n_terms = n_terms = len(analyser.terms)
        self.words_by_length = {length: tuple(words) for length, words in analyser.words_by_length.items()}
        df = np.zeros(n_terms)
        self.fuzzy: list[tuple[str, ...]] = [()] * n_docs
        for shard, indices in self.shards:
            df[:shard.n_terms] += shard.doc_freq
            for index, texts in zip(indices.tolist(), shard.fuzzy):
                self.fuzzy[index] = texts
        self.idf = self.idf_of(df)
        self.idf_max = math.log1p((n_docs + 0.5) / 0.5)

    def idf_of(self, doc_freq: np.ndarray) -> np.ndarray:
        return np.log1p((self.n_docs - doc_freq + 0.5) / (doc_freq + 0.5))

    def term_id(self, term: str) -> int | None:
        """The term's id, if the index knew it when it was built."""
        term_id = self.vocabulary.get(term)
        return term_id if term_id is not None and term_id < self.n_terms else None
