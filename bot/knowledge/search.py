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
5. Optionally (the `semantic` extra, bot.knowledge.semantic), the articles whose title
   or questions are nearest in meaning join the candidates, and each candidate's score
   is blended with that similarity.
6. Each hit shown gets the probability that it is the right article, from a logistic
   model fitted on this knowledge base's own questions (bot.knowledge.calibration) over
   FEATURES; the hits are listed most probable first, and when the SHOWN first are
   together less likely than `min_confidence` to include the right one, the search
   says it has no answer. Without the extra, an article that shares no word
   with the question as typed (only typo corrections or stopwords) gets 0: "recipe"
   looking like "receipt" is no evidence.

All the work per query is done by numpy and rapidfuzz over arrays built once
(bot.knowledge.index). Steps 1-3 depend only on the words of the question the index
knows or can correct, so each index remembers their outcome per such sequence of words:
complaints differ mostly by order numbers and names, and those only change step 4.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache, partial

import numpy as np
from rapidfuzz import fuzz, process

from bot.knowledge.calibration import Calibration, calibrate, calibration_sample
from bot.knowledge.documents import Analyser, Hit, SearchDoc, SearchOutcome, SearchWeights
from bot.knowledge.index import PAIR_SHIFT, Postings
from bot.knowledge.semantic import Encoder, SemanticIndex
from bot.knowledge.text import STOPWORDS, normalise, stem, terms

MAX_QUERY_CHARS = 1000
MAX_QUERY_TERMS = 48
CORRECTIONS_KEPT = 8192
# Lexical stages remembered per index (see SearchIndex._analysis_key): a few kilobytes each.
ANALYSES_KEPT = 4096
# In an analysis key, a word that carries content but that the index neither knows nor can correct.
OTHER = ""
# A calibration fold's index takes its typo corrections from the whole index's (each
# word scanned once for all folds, not once per fold): the best this many, less those
# the fold's articles do not use, which leaves the fold's own best two unless more
# than FOLD_CORRECTIONS - 2 of them are words only its held-out questions use.
FOLD_CORRECTIONS = 6
STOPWORD_TERMS = frozenset(stem(word) for word in STOPWORDS)
# What the calibration sees of a hit, in this order: the share of the question's
# information the article covers (typo corrections by their similarity), the share the
# knowledge base knows as typed, fuzzy similarity to its title or a question, its lead
# over the best other candidate (by words, counting a quarter as far as the words it has
# in common with the question are only in its body: `_head_share`), the share it covers
# with words as typed; with the semantic extra, its similarity in meaning, the
# classifier's probability, and whether it is the first by score (which separated right
# answers from questions no article answers a little better on banking77's train split:
# docs/benchmarks.md, issue 13).
FEATURES = ("coverage", "known", "fuzzy", "lead", "exact", "similarity", "classifier", "first")
EXACT = FEATURES.index("exact")
# By words, the share of a hit's lead that counts as far as the words it shares with the
# question are only in its body (`_head_share`); chosen on small folders, as banking77's
# train split hardly tells 0 from 1 (docs/benchmarks.md, issue 13, k13w).
BODY_LEAD = 0.25
# How many hits an answer shows (/kb, the App Home): the gate judges them together.
SHOWN = 3


@dataclass(frozen=True)
class _Lexical:
    """A query's lexical stage, which only the words the index knows or can correct
    decide (SearchIndex._analysis_key): the analysis (terms and pairs weighted by idf,
    the content terms, the information), the candidates by lexical score, and what is
    needed of each (its score, its coverage, its titles and questions to re-rank)."""

    scored: list[tuple[int, float]]
    scored_pairs: list[list[tuple[int, float]]]
    content: list[tuple[int, float]]
    exact: list[tuple[int, float]]
    information: float
    known: float
    candidates: np.ndarray
    lexical: np.ndarray  # of the candidates, in their order; likewise the coverages
    coverage: np.ndarray
    exact_coverage: np.ndarray
    head_coverage: np.ndarray  # as exact_coverage, counting only words of titles, questions and tags
    fuzzy_texts: tuple[str, ...]
    fuzzy_slots: np.ndarray


class SearchIndex:
    """An index over `docs` and the queries it answers; build a new one when articles
    change. Passing the `previous` index (built with the same analyser) reuses its
    unchanged shards (bot.knowledge.index) and embeddings (bot.knowledge.semantic), and
    its calibration when the articles it was fitted on are unchanged, which is what a
    fresh fit would give, so an updated index answers exactly like a fresh one.
    Otherwise the calibration is fitted again when the index is built or, with
    `fit_later`, when `fit_calibration()` is called (the library does that on a thread
    of its own): until then it keeps serving the previous index's gate, so a reload is
    not held up by the fit. Only the calibration ever changes after the build, and it is
    replaced whole. `calibrated=False` keeps the prior (the calibration's own indexes
    are built so).
    """

    def __init__(self, docs: Sequence[SearchDoc], weights: SearchWeights | None = None,
                 analyser: Analyser | None = None, previous: SearchIndex | None = None,
                 encoder: Encoder | None = None, calibrated: bool = True, fit_later: bool = False,
                 corrections_from: SearchIndex | None = None) -> None:
        self.docs = list(docs)
        self.weights = w = weights or SearchWeights()
        analyser = analyser or Analyser()
        self._postings = Postings(self.docs, w, analyser, previous._postings if previous is not None else None)
        self._near_length: dict[int, list[str]] = {}
        # Words recur from question to question (and complaint to complaint): each
        # unknown word's typo correction, a rapidfuzz scan of the vocabulary, is made once
        # per index (which never changes).
        self._correct = lru_cache(maxsize=CORRECTIONS_KEPT)(
            self._corrections if corrections_from is None else self._fold_corrections)
        self._whole_index = corrections_from
        # Complaints and questions are made of the same few hundred words the index knows
        # (what differs, order numbers and names, it does not know): the lexical stage is
        # worked out once per such sequence of words, and only the fuzzy re-ranking per query.
        self._lexical_stage = lru_cache(maxsize=ANALYSES_KEPT)(self._lexical_of)
        self._just_computed = threading.local()
        # The corrections its calibration folds choose from (see FOLD_CORRECTIONS).
        self._wide_corrections = lru_cache(maxsize=CORRECTIONS_KEPT)(partial(self._corrections, limit=FOLD_CORRECTIONS))
        self._semantic = None if encoder is None else SemanticIndex(
            self.docs, encoder, previous._semantic if previous is not None else None)
        self._prior = w.semantic_prior if encoder is not None else w.lexical_prior
        self._calibration_sample = calibration_sample(self.docs) if calibrated else ()
        # The sample the calibration in use was fitted on (None: not this index's own yet).
        self._fitted_on: tuple[SearchDoc, ...] | None = self._calibration_sample
        same_model = previous is not None and previous.weights == w and previous.encoder is encoder
        if not calibrated or not self.docs:
            self.calibration = Calibration(self._prior)
        elif same_model and previous._fitted_on == self._calibration_sample:
            self.calibration = previous.calibration  # the same fit a fresh index would make
        elif fit_later and same_model and previous.docs:
            self.calibration, self._fitted_on = previous.calibration, None
        else:
            self.fit_calibration()

    @property
    def calibration_pending(self) -> bool:
        """Whether this index still serves a previous index's gate (see `fit_calibration`)."""
        return self._fitted_on is None

    def fit_calibration(self) -> None:
        """Fit this index's own calibration and start using it."""
        w, encoder = self.weights, self.encoder
        # Each fold's index gets its own vocabulary: a word only its held-out questions
        # use must be unknown to it, as it would be to the real index.
        self.calibration = calibrate(self._calibration_sample, prior=self._prior, build=lambda kept: SearchIndex(
            kept, w, Analyser(), previous=self, encoder=encoder, calibrated=False, corrections_from=self)._top_features)
        self._fitted_on = self._calibration_sample

    @property
    def encoder(self) -> Encoder | None:
        return None if self._semantic is None else self._semantic.encoder

    @property
    def semantic(self) -> SemanticIndex | None:
        """The embeddings this index re-ranks with (the semantic extra), if it does."""
        return self._semantic

    def __len__(self) -> int:
        return len(self.docs)

    def _analysis_key(self, words: list[str]) -> tuple[str, ...]:
        """What the lexical stage of `words` depends on: the words the index knows or can
        correct, in order, with OTHER where another word carries content (it counts as
        the rarest; kept in its place, so the information is summed in the same order).
        What those words are (an order number, a name) changes only the fuzzy re-ranking."""
        key: list[str] = []
        for word in dict.fromkeys(words):
            if self._postings.term_id(word) is not None or self._correct(word):
                key.append(word)
            elif word not in STOPWORD_TERMS:
                key.append(OTHER)
        return tuple(key)

    def _lexical_of(self, key: tuple[str, ...]) -> _Lexical | str:
        """The lexical stage for an analysis key (see `_analysis_key`), or why there is none."""
        query_terms, query_pairs, content_terms, information, known = self._query_terms(key)
        if not information:
            return "the question has only common words"
        scored = [(term_id, weight * self._postings.idf[term_id]) for term_id, weight in query_terms]
        scored_pairs = self._scored_pairs(query_pairs)
        lexical = self._lexical_scores(scored, scored_pairs)
        count = min(self.weights.candidates, int(np.count_nonzero(lexical)))
        candidates = np.argpartition(-lexical, count - 1)[:count] if count else np.zeros(0, dtype=np.int64)
        exact = [(t, weight) for t, weight in content_terms if weight == 1.0]
        coverage, exact_coverage = self._coverage(content_terms), self._coverage(exact)
        if self._semantic is None:
            head_coverage = self._coverage(exact, heads_only=True)[candidates]
            fuzzy_texts, fuzzy_slots = self._fuzzy_texts(candidates)
        else:
            # With the extra the candidates change with the question's meaning, so the
            # stage keeps only what its words decide, and the query that worked it out
            # takes the scores over every article it computed (see `_every_article`).
            head_coverage, fuzzy_texts, fuzzy_slots = np.zeros(0), (), np.zeros(0, dtype=np.intp)
            self._just_computed.arrays = (key, lexical, coverage, exact_coverage)
        stage = _Lexical(scored, scored_pairs, content_terms, exact, information, known, candidates,
                         lexical[candidates], coverage[candidates], exact_coverage[candidates], head_coverage,
                         fuzzy_texts, fuzzy_slots)
        for array in (stage.candidates, stage.lexical, stage.coverage, stage.exact_coverage, stage.head_coverage,
                      stage.fuzzy_slots):
            array.setflags(write=False)  # shared by every query with this key
        return stage

    def _every_article(self, key: tuple[str, ...], stage: _Lexical) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Every article's lexical score, coverage and exact coverage for a stage: those
        its `_lexical_of` just computed on this thread, else computed again (a remembered
        stage keeps only its candidates', as every article's would take n_docs floats
        each for ANALYSES_KEPT stages)."""
        arrays = getattr(self._just_computed, "arrays", None)
        self._just_computed.arrays = None
        if arrays is not None and arrays[0] == key:
            return arrays[1:]
        return (self._lexical_scores(stage.scored, stage.scored_pairs), self._coverage(stage.content),
                self._coverage(stage.exact))

    def _lexical_scores(self, scored: list[tuple[int, float]], scored_pairs: list[list[tuple[int, float]]]) -> np.ndarray:
        lexical = np.zeros(len(self.docs))
        for (shard, members), pairs in zip(self._postings.shards, scored_pairs):
            lexical[members] += shard.lexical(scored, pairs, self.weights)
        return lexical

    def _query_terms(self, key: tuple[str, ...]) -> tuple[
            list[tuple[int, float]], list[int], list[tuple[int, float]], float, float]:
        """Term ids to score with, with their weights (1, or a typo correction's similarity);
        the keys of adjacent pairs of those words (as corrected); the subset that carries
        content (no stopwords, no pairs) for coverage; the information (idf) of the
        content words, where unknown words count as the rarest; and the part of it from
        words the articles use as they are."""
        chosen: dict[int, float] = {}
        content: dict[int, float] = {}
        information = known = 0.0
        corrected: list[int] = []
        for word in key:
            if word == OTHER:
                information += self._postings.idf_max
                continue
            is_content = word not in STOPWORD_TERMS
            term_id = self._postings.term_id(word)
            if term_id is not None:
                found = [(term_id, 1.0)]
                information += self._postings.idf[term_id] if is_content else 0.0
                # A term of the shared vocabulary that no article uses any more is not known.
                in_use = self._postings.idf[term_id] < self._postings.idf_max
                known += self._postings.idf[term_id] if is_content and in_use else 0.0
            else:
                found = [(self._postings.vocabulary[term], similarity) for term, similarity in self._correct(word)]
                information += self._postings.idf_max if is_content else 0.0
            corrected.append(found[0][0])
            for term_id, weight in found:
                chosen[term_id] = max(chosen.get(term_id, 0.0), weight)
                if is_content:
                    content[term_id] = max(content.get(term_id, 0.0), weight)
        pairs = list(dict.fromkeys((first << PAIR_SHIFT) | second for first, second in zip(corrected, corrected[1:])))
        return list(chosen.items()), pairs, list(content.items()), information, known

    def _scored_pairs(self, keys: list[int]) -> list[list[tuple[int, float]]]:
        """For each shard, the query's pairs it holds (by place) with their idf, from the
        pair's document frequency over every shard."""
        if not keys:
            return [[] for _ in self._postings.shards]
        key_array = np.asarray(keys, dtype=np.int64)
        places = [shard.find_pairs(key_array) for shard, _ in self._postings.shards]
        # A shard without any pair (all its texts one word long) adds nothing.
        df = sum(np.where(place >= 0, shard.pair_doc_freq[np.maximum(place, 0)], 0)
                 for (shard, _), place in zip(self._postings.shards, places) if shard.pair_doc_freq.size)
        idf = self._postings.idf_of(df)
        return [[(int(p), float(i)) for p, i in zip(place, idf) if p >= 0] for place in places]

    def _fold_corrections(self, word: str) -> tuple[tuple[str, float], ...]:
        found = self._whole_index._wide_corrections(word)
        return tuple((term, similarity) for term, similarity in found if self._postings.term_id(term) is not None)[:2]

    def _corrections(self, word: str, limit: int = 2) -> tuple[tuple[str, float], ...]:
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
            word, choices, scorer=fuzz.ratio, processor=None, limit=limit, score_cutoff=self.weights.typo_cutoff
        )
        return tuple((term, (score / 100) ** 2) for term, score, _ in found)

    def search(self, query: str, limit: int = 3) -> SearchOutcome:
        """The `limit` best articles, most probably right first, each with the calibrated
        probability that it is the article asked for; answered when the chance that the
        first SHOWN include it is at least `min_confidence`."""
        ranked = self._rank(query, limit)
        if isinstance(ranked, str):
            return SearchOutcome(query, [], False, ranked)
        indices, scores, features = ranked
        probability = self.calibration.probability(features)
        if self._semantic is None:
            # Only typo-like or common words in common: no evidence at all, whatever the model says.
            probability = np.where(features[:, EXACT] > 0, probability, 0.0)
        order = np.argsort(-probability, kind="stable")
        hits = [Hit(int(indices[i]), self.docs[indices[i]].key, round(float(scores[i]), 4), round(float(probability[i]), 4))
                for i in order]
        # At most one article is the right one, so the chance that an answer shows it is
        # the sum of its hits' probabilities.
        if probability[order[:SHOWN]].sum() < self.weights.min_confidence:
            reason = "no article matches with confidence" if features[:, EXACT].any() or self._semantic else \
                "no article uses these words (only look-alikes or common words)"
            return SearchOutcome(query, hits, False, reason)
        return SearchOutcome(query, hits, True)

    def _top_features(self, query: str) -> list[tuple[str, np.ndarray]]:
        """The best-scored articles' keys and features, as many as an answer shows (for
        calibrating, see bot.knowledge.calibration)."""
        ranked = self._rank(query, SHOWN)
        if isinstance(ranked, str):
            return []
        indices, _, features = ranked
        return [(self.docs[i].key, row) for i, row in zip(indices, features)]

    def _rank(self, query: str, limit: int) -> tuple[np.ndarray, np.ndarray, np.ndarray] | str:
        """The `limit` best-scored articles (indices, scores, features), or why there are none."""
        w = self.weights
        normalised = normalise((query or "")[:MAX_QUERY_CHARS])
        if not self.docs:
            return "the knowledge base has no articles yet"
        words = terms(normalised, drop_stopwords=False)[:MAX_QUERY_TERMS]
        if not words:
            return "the question has no words to search for"
        key = self._analysis_key(words)
        stage = self._lexical_stage(key)
        if isinstance(stage, str):
            return stage
        candidates, lexical = stage.candidates, stage.lexical
        coverage, exact_coverage = stage.coverage, stage.exact_coverage
        similarity = probability = None
        if self._semantic is not None:
            similarity, probability = self._semantic.scores(query[:MAX_QUERY_CHARS])
            nearest = min(w.semantic_candidates, len(self.docs))
            candidates = np.union1d(candidates, np.argpartition(-similarity, nearest - 1)[:nearest])
            lexical, coverage, exact_coverage = (values[candidates] for values in self._every_article(key, stage))
        if candidates.size == 0:
            return "no article uses these words"
        if similarity is None:
            fuzzy = self._fuzzy_scores(normalised, candidates.size, stage.fuzzy_texts, stage.fuzzy_slots)
        else:
            fuzzy = self._fuzzy_scores(normalised, candidates.size, *self._fuzzy_texts(candidates))
        relative = lexical / max(lexical.max(), 1e-12)
        final = (1 - w.fuzzy) * relative + w.fuzzy * fuzzy
        if similarity is not None:
            meaning = similarity[candidates]
            if probability is not None:
                meaning = (1 - w.semantic_classifier) * meaning + w.semantic_classifier * probability[candidates]
            final = (1 - w.semantic) * final + w.semantic * meaning
        order = np.argsort(-final, kind="stable")
        top = order[:limit]
        # Features only for what is shown (bot.knowledge.calibration turns them into probabilities).
        # The best other candidate's score (0 at least): the first's runner-up, the others' first.
        first, second = float(final[order[0]]), float(final[order[1]]) if order.size > 1 else 0.0
        best_other = np.array([max(second if place == 0 else first, 0.0) for place in range(top.size)])
        information = stage.information
        lead = final[top] - best_other
        if similarity is None:
            lead = np.minimum(lead, lead * self._head_share(exact_coverage[top], stage.head_coverage[top]))
        columns = [coverage[top] / information, np.full(top.size, stage.known / information), fuzzy[top],
                   lead, exact_coverage[top] / information]
        if similarity is not None:
            columns += [similarity[candidates[top]],
                        probability[candidates[top]] if probability is not None else np.zeros(top.size),
                        (np.arange(top.size) == 0).astype(np.float64)]
        return candidates[top], final[top], np.column_stack(columns)

    def _fuzzy_texts(self, candidates: np.ndarray) -> tuple[tuple[str, ...], np.ndarray]:
        """The candidates' titles and questions, and which candidate (by place) each is of."""
        texts: list[str] = []
        slots: list[int] = []
        for slot, doc in enumerate(candidates):
            texts += self._postings.fuzzy[doc]
            slots += [slot] * len(self._postings.fuzzy[doc])
        return tuple(texts), np.asarray(slots, dtype=np.intp)

    def _fuzzy_scores(self, normalised: str, count: int, texts: Sequence[str], slots: np.ndarray) -> np.ndarray:
        """Best rapidfuzz similarity (0..1) of the query to each of `count` candidates'
        title or questions (`texts`, each of the candidate at its slot)."""
        best = np.zeros(count)
        if texts:
            # token_sort_ratio, with the texts' words sorted at build time (bot.knowledge.index).
            query = " ".join(sorted(normalised.split()))
            scores = process.cdist([query], texts, scorer=fuzz.ratio, processor=None, dtype=np.float64)[0]
            np.maximum.at(best, slots, scores / 100)
        return best

    @staticmethod
    def _head_share(exact: np.ndarray, heads: np.ndarray) -> np.ndarray:
        """How much of a hit's lead counts by words: all when the words it shares with the
        question (as typed) are in its title, questions or tags, BODY_LEAD when only in its
        body ("slow down" in passing is no sign of an answer about a slow checkout page)."""
        return np.where(exact > 0, (heads + BODY_LEAD * (exact - heads)) / np.maximum(exact, 1e-12), BODY_LEAD)

    def _coverage(self, content_terms: list[tuple[int, float]], heads_only: bool = False) -> np.ndarray:
        """Per article, the sum of idf of the question's content words it contains (typo
        corrections count by their similarity), or only those in its title, questions or tags."""
        valued = [(t, self._postings.idf[t] * weight) for t, weight in content_terms]
        coverage = np.zeros(len(self.docs))
        for shard, members in self._postings.shards:
            coverage[members] = shard.coverage(valued, heads_only)
        return coverage
