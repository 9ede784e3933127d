"""Training speed against the tutorial's way, and the memory of a default training run.

- Speed: target tokens per second of our training step (every position of a 128-token window
  is a target, ids through an embedding) against the tutorial's (2 × LSTM(256), a 100-step
  window of token indices fed as one normalized float each, one softmax target per window),
  in the same process on the same Bach chorale tokens. Each side is time-boxed.
- Memory: the peak resident set size of `python -m core train` with default settings on the
  Bach chorales, cut to a few batches (the steady state is reached within the first epoch).
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from core.storage.files import REPO_DIR

DATASET = "bach-chorales"
TUTORIAL_WINDOW = 100  # the tutorial's sequence length
TUTORIAL_BATCH_SIZE = 64
TUTORIAL_UNITS = 256
TIME_BOX_S = 20.0  # per side, after warm-up
MAX_BATCHES = 300
WARMUP_BATCHES = 3
RSS_BATCHES = 10
RSS_GOAL_BYTES = 2 * 1024**3
SPEED_GOAL_RATIO = 40.0


def run() -> dict[str, Any]:
    from core.data.datasets import load_dataset
    from core.training.config import TrainingConfig

    config = TrainingConfig()
    dataset = load_dataset([DATASET], config=config.encoding())
    ours = _our_tokens_per_s(dataset, config)
    tutorial = _tutorial_tokens_per_s(dataset)
    rss = peak_rss_of_default_training()
    return {
        "tokens_per_s": round(ours, 1),
        "tutorial_tokens_per_s": round(tutorial, 2),
        "speedup": round(ours / tutorial, 1),
        "speedup_goal": SPEED_GOAL_RATIO,
        "peak_rss_mb": round(rss / 2**20, 1),
        "peak_rss_goal_mb": RSS_GOAL_BYTES / 2**20,
        "time_box_s": TIME_BOX_S,
    }


def _time_batches(step: Any, batches: list[Any], tokens_per_batch: list[int]) -> float:
    """Target tokens per second over as many batches as fit in the time box."""
    for batch in batches[:WARMUP_BATCHES]:
        step(batch)
    started = time.perf_counter()
    tokens = 0
    for i, batch in enumerate(batches[WARMUP_BATCHES:]):
        step(batch)
        tokens += tokens_per_batch[WARMUP_BATCHES + i]
        if time.perf_counter() - started > TIME_BOX_S:
            break
    return tokens / (time.perf_counter() - started)


def _our_tokens_per_s(dataset: Any, config: Any) -> float:
    from core.model.network import ModelConfig, build_model, compile_model
    from core.training.data import (
        allowed_shifts,
        make_windows,
        training_dataset,
        transposition_tables,
    )

    windows = make_windows(
        dataset.train_ids(),
        length=config.sequence_length + 1,
        stride=config.stride,
        pad_id=dataset.vocab.pad_id,
    )
    _, table = transposition_tables(dataset.vocab, config.augment_semitones)
    count = math.ceil(len(windows) / config.batch_size)
    data = training_dataset(
        windows,
        table=table,
        allowed=allowed_shifts(windows, table),
        batch_size=config.batch_size,
        seed=config.seed,
        first_epoch=0,
        epochs=1,
        batches_per_epoch=count,
    )
    batches = [(x, y) for x, y in data.take(min(count, MAX_BATCHES + WARMUP_BATCHES))]
    tokens = [int((y.numpy() != dataset.vocab.pad_id).sum()) for _, y in batches]
    model = build_model(ModelConfig(), len(dataset.vocab))
    compile_model(model, learning_rate=config.learning_rate, pad_id=dataset.vocab.pad_id)
    return _time_batches(lambda b: model.train_on_batch(b[0], b[1]), batches, tokens)


def tutorial_model(vocab_size: int) -> Any:
    """The tutorial's network: float inputs of shape (100, 1), one softmax target per window."""
    import keras

    return keras.Sequential(
        [
            keras.Input(shape=(TUTORIAL_WINDOW, 1)),
            keras.layers.LSTM(TUTORIAL_UNITS, return_sequences=True),
            keras.layers.Dropout(0.3),
            keras.layers.LSTM(TUTORIAL_UNITS),
            keras.layers.Dropout(0.3),
            keras.layers.Dense(vocab_size, activation="softmax"),
        ]
    )


def _tutorial_tokens_per_s(dataset: Any) -> float:
    vocab_size = len(dataset.vocab)
    ids = np.concatenate([np.asarray(s, np.int32) for s in dataset.train_ids()])
    starts = np.random.default_rng(0).permutation(len(ids) - TUTORIAL_WINDOW)
    needed = (MAX_BATCHES + WARMUP_BATCHES) * TUTORIAL_BATCH_SIZE
    starts = starts[:needed]
    windows = np.stack([ids[s : s + TUTORIAL_WINDOW] for s in starts])
    x = (windows / vocab_size).astype(np.float32)[..., None]  # the tutorial's normalized input
    y = np.eye(vocab_size, dtype=np.float32)[ids[starts + TUTORIAL_WINDOW]]
    batches = [
        (x[i : i + TUTORIAL_BATCH_SIZE], y[i : i + TUTORIAL_BATCH_SIZE])
        for i in range(0, len(x), TUTORIAL_BATCH_SIZE)
    ]
    model = tutorial_model(vocab_size)
    model.compile(optimizer="rmsprop", loss="categorical_crossentropy")
    return _time_batches(
        lambda b: model.train_on_batch(b[0], b[1]), batches, [len(b[0]) for b in batches]
    )


_RSS_SCRIPT = """
import json, resource, sys
from core.cli import main
code = main(sys.argv[1:])
print(json.dumps({"code": code,
                  "peak_rss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}))
"""


def train_in_own_process(preset: str, *options: str) -> tuple[dict[str, Any], int]:
    """`python -m core train --data PRESET --json OPTIONS...` in a fresh process: its final
    JSON object (the metrics) and its peak RSS in bytes."""
    with tempfile.TemporaryDirectory(prefix="tunesmith-bench-") as tmp:
        argv = ["train", "--data", preset, "--out", str(Path(tmp) / "model"), "--json", *options]
        result = subprocess.run(
            [sys.executable, "-c", _RSS_SCRIPT, *argv],
            cwd=REPO_DIR,
            capture_output=True,
            text=True,
            env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"},
            check=False,
        )
    lines = [line for line in result.stdout.splitlines() if line.startswith("{")]
    if result.returncode != 0 or len(lines) < 2:
        raise RuntimeError(f"training on {preset} failed: {result.stderr[-2000:]}")
    metrics, rss = json.loads(lines[-2]), json.loads(lines[-1])
    return metrics, int(rss["peak_rss_kb"]) * 1024


def peak_rss_of_default_training() -> int:
    """Peak RSS in bytes of a default `train` run on the Bach chorales, cut to a few batches."""
    options = ("--epochs", "1", "--max-batches-per-epoch", str(RSS_BATCHES))
    return train_in_own_process(DATASET, *options)[1]
