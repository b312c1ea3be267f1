"""The calibrated gate: probabilities learnt from the articles' own questions."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from bot.knowledge.calibration import CALIBRATION_ARTICLES, Calibration, calibration_sample, fit_logistic
from bot.knowledge.documents import Analyser, SearchWeights
from bot.knowledge.search import SearchIndex
from bot.knowledge.text import stem
from tests.test_knowledge_search import DOCS, generated_docs


def test_a_small_knowledge_base_is_gated_by_the_prior_and_a_large_one_by_its_own_questions():
    prior = np.asarray(SearchWeights().lexical_prior)
    small = SearchIndex(DOCS).calibration
    large = SearchIndex(generated_docs(300)).calibration
    assert 0 < small.examples < 20 and large.examples > 300
    assert np.abs(np.asarray(small.coefficients) - prior).max() < np.abs(np.asarray(large.coefficients) - prior).max()


def test_the_logistic_fit_recovers_known_coefficients_and_stays_finite_on_separable_data():
    rng = np.random.default_rng(1)
    features = rng.normal(size=(4000, 2))
    target = (rng.random(4000) < 1 / (1 + np.exp(-(0.5 + 2 * features[:, 0] - features[:, 1])))).astype(float)
    fitted = fit_logistic(features, target, np.ones(4000), np.zeros(3))
    assert np.allclose(fitted, [0.5, 2.0, -1.0], atol=0.2)
    separable = fit_logistic(features, (features[:, 0] > 0).astype(float), np.ones(4000), np.zeros(3))
    assert np.all(np.isfinite(separable)) and separable[1] > 5


def test_hits_are_ordered_by_probability_which_is_the_confidence_shown():
    index = SearchIndex(DOCS)
    outcome = index.search("customer charged twice for a return", limit=5)
    confidences = [hit.confidence for hit in outcome.hits]
    assert confidences == sorted(confidences, reverse=True) and all(0 <= c <= 1 for c in confidences)
    assert isinstance(index.calibration, Calibration)


def test_look_alike_words_are_no_evidence_without_the_semantic_extra():
    outcome = SearchIndex(DOCS).search("recipe for chocolate cake")
    assert not outcome.answered and "look-alikes" in outcome.reason
    assert all(hit.confidence == 0 for hit in outcome.hits)


def test_a_large_knowledge_base_is_calibrated_on_a_fixed_sample_kept_while_it_is_unchanged():
    docs = generated_docs(CALIBRATION_ARTICLES + 200)
    first = SearchIndex(docs)
    sample = {doc.key for doc in calibration_sample(docs)}
    assert len(sample) == CALIBRATION_ARTICLES
    assert sample == {doc.key for doc in calibration_sample(list(reversed(docs)))}  # whatever the order
    outside = next(n for n, doc in enumerate(docs) if doc.key not in sample)
    inside = next(n for n, doc in enumerate(docs) if doc.key in sample)

    def edited(number: int) -> list:
        return [replace(doc, questions=("zeppelin refund by parcel", *doc.questions)) if n == number else doc
                for n, doc in enumerate(docs)]

    kept = SearchIndex(edited(outside), previous=first)
    assert kept.calibration is first.calibration  # no refit for an article outside the sample
    refitted = SearchIndex(edited(inside), previous=first)
    assert refitted.calibration != first.calibration
    assert refitted.calibration == SearchIndex(edited(inside)).calibration


def test_a_calibration_fold_corrects_typos_from_the_whole_index_as_it_would_by_itself():
    docs = generated_docs(120)
    docs[0] = replace(docs[0], questions=("zeppelin parcel", *docs[0].questions))
    whole = SearchIndex(docs, calibrated=False)
    # The fold lacks the first article's questions: words only they used must not be offered.
    fold_docs = [replace(docs[0], questions=()), *docs[1:]]
    shared = SearchIndex(fold_docs, analyser=Analyser(), calibrated=False, corrections_from=whole)
    alone = SearchIndex(fold_docs, analyser=Analyser(), calibrated=False)
    words = {word for doc in docs for text in doc.questions for word in text.split() if len(word) >= 5}
    typos = sorted(word[:2] + word[3:] + word[2] for word in words)  # two letters swapped or moved
    assert sum(bool(alone._correct(t)) for t in typos) > 50
    assert [shared._correct(t) for t in typos] == [alone._correct(t) for t in typos]
    typed = stem("zepelin")  # the search corrects stems as it stores them
    assert whole._correct(typed) and not shared._correct(typed)
