"""`python -m core train --data PRESET_OR_PATH... --out MODEL_DIR [options] [--json]`.

Trains the LSTM and saves the model folder. By default it fine-tunes the bundled base model
(`--base base`: its network shape, encoding and vocabulary); `--from-scratch` trains a new
network instead. Progress lines go to stderr (stdout with no `--json`); with `--json` stdout
holds exactly one JSON object with the final metrics.
`--job-dir DIR` runs a job prepared by `core.jobs` instead (its settings come from the folder).
"""

from __future__ import annotations

import argparse
import math
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from core.commands._common import MAX_FILE_LIMIT, float_in, int_in, print_json, seed_in

PROGRESS_INTERVAL_S = 2.0
# Upper ends that only catch typos (TrainingConfig sets no upper limits of its own):
MAX_EPOCHS = 1_000  # early stopping ends a run long before
MAX_TRAINING_STEPS = 1_000_000  # a day or more of training; 20 digits overflowed TensorFlow
MIN_SEQUENCE_LENGTH = 2  # TrainingConfig's floor: a window holds an input and its target
MAX_SEQUENCE_LENGTH = 4_096  # longer windows take gigabytes per batch in an LSTM
MAX_BATCH_SIZE = 4_096  # more windows per step than most datasets hold in all
# Each option's range alone still lets their product ask for more memory than a server has:
# `--sequence-length 4096` with the presets' batch of 32 grew past 4 GB. So the whole run is
# estimated before it starts and refused above MAX_TRAINING_MB. Measured on CPU (2026-12-02):
# backpropagation keeps 33-47 bytes per "cell" (window × token × unit × layer of one batch:
# 12.6 M cells took 0.42 GB more, 22 M took 1.0 GB); the weights take 16 bytes per parameter
# (the weight, its gradient, Adam's two moments); the windows, cut before training starts, 8
# bytes per id (NumPy's array and TensorFlow's copy).
BYTES_PER_CELL = 48
BYTES_PER_PARAMETER = 16
BYTES_PER_WINDOW_ID = 8
# About ten times what the presets' runs take (32 × 128 windows through 2 × 384 units: 0.18 GB,
# the windows of the largest collection 8 MB): room for experiments, not for a typo.
MAX_TRAINING_MB = 2_000


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from core.model.network import MAX_LAYERS, MAX_UNITS

    parser.add_argument(
        "--data",
        nargs="+",
        metavar="PRESET_OR_PATH",
        help="dataset presets (bach-chorales, folk-tunes, ...), files or folders",
    )
    parser.add_argument("--out", type=Path, metavar="MODEL_DIR", help="the model folder to write")
    parser.add_argument(
        "--preset",
        choices=("quick", "thorough"),
        default="thorough",
        help="starting settings (default: thorough); options below override them",
    )
    start = parser.add_mutually_exclusive_group()
    start.add_argument(
        "--base",
        default="base",
        metavar="NAME_OR_DIR",
        help="fine-tune this model: a bundled name or a model folder (default: base)",
    )
    start.add_argument(
        "--from-scratch",
        action="store_true",
        help="train a new network instead of fine-tuning the base model",
    )

    def number(option: str, kind: Callable[[str], Any], text: str, metavar: str = "N") -> None:
        parser.add_argument(option, type=kind, metavar=metavar, help=f"{text} ({kind})")

    share = float_in(0.0, 1.0, high_open=True)
    steps = int_in(1, MAX_TRAINING_STEPS)
    number("--epochs", int_in(1, MAX_EPOCHS), "passes over the data, at most")
    number("--max-steps", steps, "a budget of steps instead of epochs")
    number("--steps-per-round", steps, "validate every N steps")
    window = int_in(MIN_SEQUENCE_LENGTH, MAX_SEQUENCE_LENGTH)
    number("--sequence-length", window, "tokens per training window")
    number("--window-stride", int_in(1, MAX_SEQUENCE_LENGTH), "tokens between window starts")
    number("--embedding-dim", int_in(1, MAX_UNITS), "size of a token's embedding")
    number("--units", int_in(1, MAX_UNITS), "LSTM units per layer")
    number("--layers", int_in(1, MAX_LAYERS), "LSTM layers")
    number("--dropout", share, "the network's dropout rate", "X")
    number("--batch-size", int_in(1, MAX_BATCH_SIZE), "windows per training step")
    number(
        "--learning-rate",
        float_in(0.0, 1.0, low_open=True, high_open=True),
        "the learning rate",
        "X",
    )
    number("--patience", int_in(1, MAX_EPOCHS), "rounds without progress before stopping")
    number("--input-dropout", share, "share of input tokens hidden in each training batch", "X")
    number("--seed", seed_in(), "the training seed; the split seed stays the app's", "S")
    number("--max-batches-per-epoch", steps, "batches per epoch at most, for quick experiments")
    parser.add_argument(
        "--augmentation",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="transpose training windows by random semitones (default: the preset's, off)",
    )
    number("--limit", int_in(1, MAX_FILE_LIMIT), "use only the first N files of the data")
    parser.add_argument(
        "--checkpoint-dir", type=Path, help="keep checkpoints here and resume from one found there"
    )
    parser.add_argument("--job-dir", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--json", action="store_true", help="print one JSON object on stdout")


def configs_from_args(args: argparse.Namespace) -> tuple[Any, Any]:
    """(ModelConfig, TrainingConfig): the preset, then every option given on the command line."""
    from core.training.presets import TRAINING_PRESETS

    preset = TRAINING_PRESETS[args.preset]
    shape_given = any(
        v is not None for v in (args.embedding_dim, args.units, args.layers, args.dropout)
    )
    if shape_given and not args.from_scratch:
        raise ValueError(
            "the network's shape comes from the base model when fine-tuning: "
            "add --from-scratch to choose it"
        )
    model_changes = {
        "embedding_dim": args.embedding_dim,
        "units": args.units,
        "layers": args.layers,
        "dropout": args.dropout,
    }
    training_changes: dict[str, Any] = {
        "epochs": args.epochs,
        "sequence_length": args.sequence_length,
        "window_stride": args.window_stride,
        "batch_size": args.batch_size,
        "learning_rate": args.learning_rate,
        "patience": args.patience,
        "seed": args.seed,
        "max_batches_per_epoch": args.max_batches_per_epoch,
        "max_steps": args.max_steps,
        "steps_per_round": args.steps_per_round,
        "input_dropout": args.input_dropout,
    }
    if args.augmentation is not None:
        training_changes["augmentation"] = args.augmentation
    model = replace(preset.model, **{k: v for k, v in model_changes.items() if v is not None})
    training = replace(
        preset.training_for(from_scratch=args.from_scratch),
        **{k: v for k, v in training_changes.items() if v is not None},
    )
    return model, training


class ProgressPrinter:
    """One line per epoch and at most one line every PROGRESS_INTERVAL_S in between."""

    def __init__(self, stream: Any) -> None:
        self.stream = stream
        self._last = 0.0
        self._epochs_seen = 0

    def __call__(self, done: int, total: int, info: Any) -> None:
        if len(info.history) > self._epochs_seen:
            self._epochs_seen = len(info.history)
            h = info.history[-1]
            base = info.baseline.get("perplexity", math.nan)
            print(
                f"epoch {h['epoch']}/{info.epochs}: train loss {h['train_loss']:.3f}, "
                f"val loss {h['val_loss']:.3f}, val perplexity {h['val_perplexity']:.2f} "
                f"(n-gram {base:.2f}), accuracy {h['val_accuracy']:.3f}, "
                f"{h['tokens_per_s']:.0f} tokens/s",
                file=self.stream,
                flush=True,
            )
            return
        now = time.monotonic()
        if now - self._last < PROGRESS_INTERVAL_S and info.phase == "training":
            return
        self._last = now
        parts = [
            f"[{done}/{total}] {info.phase} epoch {info.epoch}/{info.epochs}",
            f"batch {info.batch}/{info.batches}",
        ]
        if info.loss is not None:
            parts.append(f"loss {info.loss:.3f}")
        if info.eta_s is not None:
            parts.append(f"eta {format_duration(info.eta_s)}")
        print(", ".join(parts), file=self.stream, flush=True)


def format_duration(seconds: float) -> str:
    seconds = max(int(seconds), 0)
    minutes, secs = divmod(seconds, 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m" if hours else f"{minutes}m{secs:02d}s"


def training_mb(model: Any, training: Any, *, window_ids: int = 0) -> float:
    """About how much memory a run of this shape takes beyond TensorFlow's own, in MB
    (`window_ids`: the ids of its training windows, once they are known)."""
    cells = training.batch_size * training.sequence_length * model.units * model.layers
    inputs = [model.embedding_dim] + [model.units] * (model.layers - 1)
    parameters = sum(4 * model.units * (size + model.units + 1) for size in inputs)
    total = cells * BYTES_PER_CELL + parameters * BYTES_PER_PARAMETER
    return (total + window_ids * BYTES_PER_WINDOW_ID) / 1e6


def window_ids(lengths: list[int], *, sequence_length: int, stride: int) -> int:
    """How many ids `core.training.data.make_windows` cuts from pieces of these lengths."""
    length = sequence_length + 1
    windows = 0
    for n in lengths:
        if n < 2:
            continue
        if n <= length:
            windows += 1
            continue
        windows += (n - length) // stride + 1 + (1 if (n - length) % stride else 0)
    return windows * length


def too_big(model: Any, training: Any, *, window_ids: int = 0) -> str | None:
    """Why a run of this shape is refused (one sentence), or None when it fits."""
    mb = training_mb(model, training, window_ids=window_ids)
    if mb <= MAX_TRAINING_MB:
        return None
    windows_mb = window_ids * BYTES_PER_WINDOW_ID / 1e6
    windows = f", and its windows {windows_mb:,.0f} MB" if window_ids else ""
    return (
        f"this training would take about {mb:,.0f} MB of memory, more than the "
        f"{MAX_TRAINING_MB:,} MB a run may take (batches of {training.batch_size} windows of "
        f"{training.sequence_length} tokens through {model.layers} layers of {model.units} "
        f"units{windows}): lower --batch-size, --sequence-length or --units, or raise "
        "--window-stride"
    )


def run(args: argparse.Namespace) -> int:
    if args.job_dir is not None:
        from core.jobs.process import run_job

        return run_job(args.job_dir)
    if not args.data or args.out is None:
        print("error: --data and --out are required", file=sys.stderr)
        return 2
    from core.data.datasets import SPLIT_SEED, load_dataset
    from core.training.fine_tuning import training_start

    try:
        model_config, training_config = configs_from_args(args)
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    start = training_start(None if args.from_scratch else args.base, model_config, training_config)
    refusal = too_big(start.model, training_config)  # before the data is read
    if refusal:
        print(f"error: {refusal}", file=sys.stderr)
        return 2
    stream = sys.stderr if args.json else sys.stdout
    started = time.perf_counter()
    # The split seed is the app's, whatever --seed says (see core.jobs: no leak from the base).
    dataset = load_dataset(
        args.data, config=start.encoding, limit=args.limit, seed=SPLIT_SEED, vocab=start.vocab
    )
    summary = dataset.summary()
    print(
        f"dataset {dataset.name}: {summary.train_pieces} training and {summary.valid_pieces} "
        f"validation pieces, {summary.tokens} tokens, vocabulary {summary.vocab_size}",
        file=stream,
        flush=True,
    )
    for line in dataset.errors:
        print(f"skipped {line}", file=sys.stderr)
    ids = window_ids(
        [len(piece.tokens) for piece in dataset.train],
        sequence_length=training_config.sequence_length,
        stride=training_config.stride,
    )
    refusal = too_big(start.model, training_config, window_ids=ids)
    if refusal:
        print(f"error: {refusal}", file=sys.stderr)
        return 2
    from core.training.loop import train  # TensorFlow: only once the run is known to fit

    with tempfile.TemporaryDirectory(prefix="tunesmith-checkpoint-") as scratch:
        checkpoint_dir = args.checkpoint_dir or Path(scratch) / "checkpoint"
        result = train(
            dataset,
            model_config=start.model,
            training_config=training_config,
            checkpoint_dir=checkpoint_dir,
            out_dir=args.out,
            on_progress=ProgressPrinter(stream),
            base_dir=start.base_dir,
        )
    if result.model_dir is not None:
        from core.jobs.process import write_generation_aids

        write_generation_aids(result.model_dir, dataset)
    metrics = {k: v for k, v in result.metrics.items() if k != "history"}
    metrics["wall_time_s"] = time.perf_counter() - started
    metrics["model_dir"] = str(args.out)
    if args.json:
        print_json({**metrics, "history": result.metrics["history"]})
    else:
        print(
            f"saved {args.out}: val perplexity {metrics['val_perplexity']:.3f} vs n-gram "
            f"{metrics['baseline_perplexity']:.3f} (ratio {metrics['perplexity_ratio']:.3f})"
        )
    return 0
