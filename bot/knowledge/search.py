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

All the work per query is done by numpy and rapidfuzz over arrays built once
(bot.knowledge.index).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

import numpy as np
from rapidfuzz import fuzz, process

from bot.knowledge.documents import Analyser, Hit, SearchDoc, SearchOutcome, SearchWeights
from bot.knowledge.index import PAIR_SHIFT, Postings
from bot.knowledge.semantic import Encoder, SemanticIndex
from bot.knowledge.text import STOPWORDS, normalise, stem, terms

MAX_QUERY_CHARS = 1000
MAX_QUERY_TERMS = 48
CORRECTIONS_KEPT = 8192
ANALYSES_KEPT = 4096
STOPWORD_TERMS = frozenset(stem(word) for word in STOPWORDS)


class SearchIndex:
    """An immutable index over `docs` and the queries it answers; build a new one when
    articles change. Passing the `previous` index (built with the same analyser) reuses
    its unchanged shards (bot.knowledge.index) and embeddings (bot.knowledge.semantic).
    """

    def __init__(self, docs: Sequence[SearchDoc], weights: SearchWeights | None = None,
                 analyser: Analyser | None = None, previous: SearchIndex | None = None,
                 encoder: Encoder | None = None) -> None:
        self.docs = list(docs)
        self.weights = weights or SearchWeights()
        self._postings = Postings(self.docs, self.weights, analyser or Analyser(),
                                  previous._postings if previous is not None else None)
        self._near_length: dict[int, list[str]] = {}
        # Words recur from question to question (and complaint to complaint): each
        # unknown word's typo correction, a rapidfuzz scan of the vocabulary, is made once
        # per index (which never changes).
        self._correct = lru_cache(maxsize=CORRECTIONS_KEPT)(self._corrections)
        # Complaints and questions are made of the same few hundred words the index knows
        # (what differs, order numbers and names, the index does not know): the terms,
        # pairs and their weights are worked out once per such set of words.
        self._analyse = lru_cache(maxsize=ANALYSES_KEPT)(self._analysis)
        self._semantic = None if encoder is None else SemanticIndex(
            self.docs, encoder, previous._semantic if previous is not None else None)

    @property
    def semantic(self) -> SemanticIndex | None:
        """The embeddings this index re-ranks with (the semantic extra), if it does."""
        return self._semantic

    def __len__(self) -> int:
        return len(self.docs)

    def _analysis_key(self, words: list[str]) -> tuple[tuple[str, ...], int]:
        """What the analysis of `words` depends on: the words the index knows or can
        correct, in order, and how many others carry content (each counts as the rarest)."""
        known: list[str] = []
        unknown = 0
        for word in dict.fromkeys(words):
            if self._postings.term_id(word) is not None or self._correct(word):
                known.append(word)
            elif word not in STOPWORD_TERMS:
                unknown += 1
        return tuple(known), unknown

    def _analysis(self, known: tuple[str, ...], unknown: int) -> tuple[
            list[tuple[int, float]], list[list[tuple[int, float]]], list[tuple[int, float]], float]:
        """Term ids to score with, with their weights (1, or a typo correction's similarity)
        times their idf; for each shard, the adjacent pairs of those words (as corrected)
        it holds, with their idf; the subset of terms that carries content (no stopwords,
        no pairs) for coverage; and the information (idf) of the content words."""
        chosen: dict[int, float] = {}
        content: dict[int, float] = {}
        information = unknown * self._postings.idf_max
        corrected: list[int] = []
        for word in known:
            is_content = word not in STOPWORD_TERMS
            term_id = self._postings.term_id(word)
            if term_id is not None:
                found = [(term_id, 1.0)]
                information += self._postings.idf[term_id] if is_content else 0.0
            else:
                found = [(self._postings.vocabulary[term], similarity) for term, similarity in self._correct(word)]
                information += self._postings.idf_max if is_content else 0.0
            corrected.append(found[0][0])
            for term_id, weight in found:
                chosen[term_id] = max(chosen.get(term_id, 0.0), weight)
                if is_content:
                    content[term_id] = max(content.get(term_id, 0.0), weight)
        pairs = list(dict.fromkeys((first << PAIR_SHIFT) | second for first, second in zip(corrected, corrected[1:])))
        scored = [(term_id, weight * self._postings.idf[term_id]) for term_id, weight in chosen.items()]
        return scored, self._scored_pairs(pairs), list(content.items()), information

    def _scored_pairs(self, keys: list[int]) -> list[list[tuple[int, float]]]:
        """For each shard, the query's pairs it holds (by place) with their idf, from the
        pair's document frequency over every shard."""
        if not keys:
            return [[] for _ in self._postings.shards]
        key_array = np.asarray(keys, dtype=np.int64)
        places = [shard.find_pairs(key_array) for shard, _ in self._postings.shards]
        df = sum(np.where(place >= 0, shard.pair_doc_freq[np.maximum(place, 0)], 0)
                 for (shard, _), place in zip(self._postings.shards, places))
        idf = self._postings.idf_of(df)
        return [[(int(p), float(i)) for p, i in zip(place, idf) if p >= 0] for place in places]

    def _corrections(self, word: str) -> tuple[tuple[str, float], ...]:
        if len(word) < 4 or not word.isalpha():
            return ()
        choices = self._near_length.get(len(word))
        if choices is None:
            by_length = self._postings.words_by_length
            choices = [w for n in (len(word) - 1, len(word), len(word) + 1) for w in by_length.get(n, ())]
            self._near_length[len(word)] = choices
        if not choices:
            return ()
        found = process.extract(
            word, choices, scorer=fuzz.ratio, processor=None, limit=2, score_cutoff=self.weights.typo_cutoff
        )
        return tuple((term, (score / 100) ** 2) for term, score, _ in found)

    def search(self, query: str, limit: int = 3) -> SearchOutcome:
        w = self.weights
        normalised = normalise((query or "")[:MAX_QUERY_CHARS])
        if not self.docs:
            return SearchOutcome(query, [], False, "the knowledge base has no articles yet")
        words = terms(normalised, drop_stopwords=False)[:MAX_QUERY_TERMS]
        if not words:
            return SearchOutcome(query, [], False, "the question has no words to search for")
        scored, scored_pairs, content_terms, information = self._analyse(*self._analysis_key(words))
        if not information:
            return SearchOutcome(query, [], False, "the question has only common words")

        lexical = np.zeros(len(self.docs))
        for (shard, members), pairs in zip(self._postings.shards, scored_pairs):
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
            texts += self._postings.fuzzy[doc]
            slots += [slot] * len(self._postings.fuzzy[doc])
        if texts:
            scores = process.cdist([normalised], texts, scorer=fuzz.token_sort_ratio, processor=None, dtype=np.float64)[0]
            np.maximum.at(best, slots, scores / 100)
        return best

    def _coverage(self, content_terms: list[tuple[int, float]], candidates: np.ndarray) -> np.ndarray:
        """Sum of idf of the question's content words each candidate contains (typo
        corrections count by their similarity)."""
        valued = [(t, self._postings.idf[t] * weight) for t, weight in content_terms]
        coverage = np.zeros(len(self.docs))
        for shard, members in self._postings.shards:
            coverage[members] = shard.coverage(valued)
        return coverage[candidates]
