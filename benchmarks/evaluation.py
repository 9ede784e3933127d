"""Evaluation benchmark: seconds to judge 20 generated 30-second pieces against the Bach
chorales preset (the bundled model's held-out chorales and training notes).

Cold: the first evaluation in this process, with no originality index in memory (it is built
from the model folder's training notes) and MusPy not yet imported. Warm: the index is built,
as on the page's second evaluation of the same model. Goal: at most 10 s warm.
"""

from __future__ import annotations

import statistics
import time
from typing import Any

from core.evaluation.report import PIECE_LENGTH_S, evaluate_pieces, generate_pieces
from core.evaluation.verdicts import summary_figures
from core.generation.generator import Generator
from core.model.model_data import clear_index_cache, load_index

PIECES = 20
SEED = 1
WARM_RUNS = 3
GOAL_WARM_S = 10.0


def run() -> dict[str, Any]:
    generator = Generator.from_folder("default")
    assert generator.path is not None
    started = time.perf_counter()
    pieces = generate_pieces(generator, count=PIECES, seed=SEED)
    generate_s = time.perf_counter() - started

    clear_index_cache()
    started = time.perf_counter()
    report = evaluate_pieces(generator, pieces)
    cold_s = time.perf_counter() - started

    warm = []
    for _ in range(WARM_RUNS):
        started = time.perf_counter()
        evaluate_pieces(generator, pieces)
        warm.append(time.perf_counter() - started)
    warm_s = statistics.median(warm)

    clear_index_cache()
    started = time.perf_counter()
    index = load_index(generator.path)
    index_build_s = time.perf_counter() - started
    summary = summary_figures(report)
    return {
        "pieces": PIECES,
        "piece_length_s": PIECE_LENGTH_S,
        "training_windows_indexed": index.windows,
        "generate_s": round(generate_s, 3),
        "index_build_s": round(index_build_s, 3),
        "evaluate_cold_s": round(cold_s, 3),
        "evaluate_warm_s": round(warm_s, 3),
        "goal_warm_s": GOAL_WARM_S,
        "warm_within_goal": warm_s <= GOAL_WARM_S,
        "scale_consistency_generated": round(summary["style"]["scale_consistency"]["generated"], 3),
        "scale_consistency_real": round(summary["style"]["scale_consistency"]["real"], 3),
    }
