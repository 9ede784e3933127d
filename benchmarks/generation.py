"""Generation benchmark: tokens per second, step-by-step numpy LSTM vs the tutorial's loop.

The tutorial generates each token with one `model.predict` on the whole 100-token window; here
the LSTM state is carried and one step runs in numpy. Both run on the same model in the same
process: the bundled default model, and a network of the default training size (256 units,
2 layers) with random weights. The tutorial loop is time-boxed to `TUTORIAL_TOKENS` tokens.

Generation runs on one BLAS thread (`core.model.blas`, decision 0006); the figures named
`all_blas_threads_*` are the same runs on numpy's own thread count, and `another_process_busy_*`
both again while another process keeps a core busy, as a second visitor or the browser would.
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from typing import Any
from unittest.mock import patch

import keras
import numpy as np

from core.generation import generator as generator_module
from core.generation.generator import DEFAULT_MODEL_DIR, Generator
from core.generation.settings import SamplingSettings
from core.model.folder import TrainedModel, load_model_folder
from core.model.network import ModelConfig, build_model
from core.tokens.config import EncodingConfig
from core.tokens.scheme import SPECIAL_TOKENS, duration_token, pitch_token, shift_token
from core.tokens.vocabulary import Vocabulary

TUTORIAL_WINDOW_TOKENS = 100
TUTORIAL_TOKENS = 30
GENERATED_TOKENS = 1000
TIMED_RUNS = 10  # the best and the median are printed: this CPU's stalls swing a run by half
BUSY_RUNS = 3  # while another process keeps a core busy
SEED = 0


def tutorial_tokens_per_s(
    generator: Generator, model: keras.Model, *, tokens: int = TUTORIAL_TOKENS
) -> float:
    """The tutorial's loop: predict on the full window, sample the last position, slide."""
    rng = np.random.default_rng(SEED)
    vocab = generator.vocab
    first_music_id = len(SPECIAL_TOKENS)
    window = [int(i) for i in rng.integers(first_music_id, len(vocab), TUTORIAL_WINDOW_TOKENS)]
    model.predict(np.array([window], dtype="int32"), verbose=0)  # build the predict function
    start = time.perf_counter()
    for _ in range(tokens):
        logits = model.predict(
            np.array([window[-TUTORIAL_WINDOW_TOKENS:]], dtype="int32"), verbose=0
        )[0, -1]
        probs = np.exp(logits - logits.max())
        window.append(int(rng.choice(len(probs), p=probs / probs.sum())))
    return tokens / (time.perf_counter() - start)


def _timed_runs(generator: Generator, *, runs: int = TIMED_RUNS) -> tuple[list[float], int]:
    """Seconds of each of `runs` runs of 1000 tokens, and the new tokens of one."""
    settings = SamplingSettings(length_tokens=GENERATED_TOKENS)
    generator.generate(SamplingSettings(length_tokens=50), seed=SEED)  # warm up
    seconds = []
    for _ in range(runs):
        start = time.perf_counter()
        result = generator.generate(settings, seed=SEED)
        seconds.append(time.perf_counter() - start)
    return seconds, len(result.new_tokens)


@contextmanager
def _another_process_busy() -> Iterator[None]:
    """A process spinning on a core meanwhile, as a second visitor or the browser would."""
    busy = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        time.sleep(0.2)
        yield
    finally:
        busy.kill()
        busy.wait()


def _measure(generator: Generator, model: keras.Model) -> dict[str, Any]:
    runs, new_tokens = _timed_runs(generator)  # on one BLAS thread, as the pages run
    # numpy's own BLAS threads, as generation ran before 2026-12-03: faster on an idle
    # machine, many times slower on a busy one (core.model.blas)
    all_threads = patch.object(generator_module, "one_blas_thread", nullcontext)
    with all_threads:
        threaded_runs, _ = _timed_runs(generator)
    with _another_process_busy():
        busy_runs, _ = _timed_runs(generator, runs=BUSY_RUNS)
        with all_threads:
            busy_threaded_runs, _ = _timed_runs(generator, runs=BUSY_RUNS)
    seconds = min(runs)
    result = generator.generate(SamplingSettings(length_tokens=64), seed=SEED)
    ids = generator.vocab.encode(result.tokens[:64])
    keras_logits = model.predict(np.array([ids], dtype="int32"), verbose=0)[0]
    max_diff = float(np.max(np.abs(generator.step_model.sequence_logits(ids) - keras_logits)))
    tutorial = tutorial_tokens_per_s(generator, model)
    ours = new_tokens / seconds

    def per_1000(seconds: float) -> float:
        return round(float(seconds) * GENERATED_TOKENS / new_tokens, 4)

    return {
        "seconds_for_1000_tokens": per_1000(seconds),
        "median_seconds_for_1000_tokens": per_1000(np.median(runs)),
        "all_blas_threads_seconds_for_1000_tokens": per_1000(min(threaded_runs)),
        "all_blas_threads_median_seconds_for_1000_tokens": per_1000(np.median(threaded_runs)),
        "another_process_busy_median_seconds_for_1000_tokens": per_1000(np.median(busy_runs)),
        "another_process_busy_all_blas_threads_median_seconds_for_1000_tokens": per_1000(
            np.median(busy_threaded_runs)
        ),
        "tokens_per_s": round(ours, 1),
        "tutorial_tokens_per_s": round(tutorial, 2),
        "speedup_vs_tutorial": round(ours / tutorial, 1),
        "max_abs_logit_diff_vs_keras": max_diff,
    }


def _full_vocab(encoding: EncodingConfig) -> Vocabulary:
    """Every token the encoding can write, for when no trained model is at hand."""
    tokens = [shift_token(s) for s in range(1, encoding.max_shift_steps + 1)]
    tokens += [pitch_token(p) for p in range(encoding.min_pitch, encoding.max_pitch + 1)]
    tokens += [duration_token(d) for d in range(1, encoding.max_duration_steps + 1)]
    return Vocabulary.build([tokens])


def run() -> dict[str, Any]:
    figures: dict[str, Any] = {}
    if DEFAULT_MODEL_DIR.is_dir():
        start = time.perf_counter()
        default = Generator.from_folder(DEFAULT_MODEL_DIR)
        figures["default_model_load_without_tensorflow_s"] = round(time.perf_counter() - start, 4)
        trained = load_model_folder(DEFAULT_MODEL_DIR)
        figures["default_model_units"] = trained.config.units
        measured = _measure(default, trained.keras_model)
        figures.update({f"default_model_{k}": v for k, v in measured.items()})
        encoding, vocab = default.encoding, default.vocab
    else:
        encoding = EncodingConfig()
        vocab = _full_vocab(encoding)
    config = ModelConfig()  # the "thorough" training size
    network = build_model(config, len(vocab))
    big = Generator.from_trained(TrainedModel(network, encoding, vocab, config, {}), name="random")
    measured = _measure(big, network)
    figures.update({f"units_{config.units}_{k}": v for k, v in measured.items()})
    figures["goal_speedup"] = ">= 50x"
    figures["goal_seconds_for_1000_tokens"] = "<= 0.3 s"
    return figures
