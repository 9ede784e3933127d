"""Train the LSTM on a dataset: from scratch or fine-tuned from a base model, with validation,
early stopping and checkpoints. The data pipeline is `core.training.data`.

- Length: whole passes over the data (`epochs`), or a budget of steps (`max_steps`) validated
  every `steps_per_round` steps, so a handful of songs still trains for minutes and early
  stopping works when a pass is one batch. Keras' "epochs" are these rounds; a round is one
  pass when no budget is set.
- Fine-tuning: the network starts from a base model's weights (same shape and vocabulary).
- Validation: every round on the held-out pieces (loss, perplexity, accuracy), beside an
  interpolated Kneser-Ney n-gram baseline on the same tokens and split; the best weights by
  validation are the ones saved.
- Checkpoints: after every round the whole state (model with optimizer, best weights, history,
  early-stopping counters) is written atomically to `checkpoint_dir`; `train` resumes from it.
- Callbacks are the only bridge out of `fit`: progress goes to `on_progress(done, total, info)`,
  and `should_stop()` is asked after every batch (→ `JobCancelled`, last checkpoint kept).
"""

from __future__ import annotations

import functools
import logging
import math
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import keras

from core.config import Config
from core.data.datasets import SPLIT_SEED, Dataset
from core.errors import JobCancelled
from core.model.folder import MODEL_FILE, VOCAB_FILE, save_model_folder
from core.model.model_data import write_model_data
from core.model.network import ModelConfig, build_model, compile_model
from core.progress import ProgressCallback
from core.tokens.config import EncodingConfig
from core.tokens.vocabulary import Vocabulary
from core.training.checkpoints import (
    BEST_WEIGHTS_FILE,
    LAST_MODEL_FILE,
    TrainingState,
    has_checkpoint,
    read_checkpoint_state,
    write_checkpoint,
)
from core.training.data import (
    EvalWindows,
    allowed_shifts,
    evaluate,
    evaluation_windows,
    make_windows,
    training_stream,
    transposition_tables,
)
from core.training.ngram import DEFAULT_ORDER, ngram_baseline

log = logging.getLogger(__name__)

DEFAULT_SEQUENCE_LENGTH = 128
DEFAULT_BATCH_SIZE = 32
DEFAULT_LEARNING_RATE = 3e-3
DEFAULT_EPOCHS = 30  # an upper bound: early stopping usually ends a run sooner
DEFAULT_PATIENCE = 3
DEFAULT_TRANSPOSE_SEMITONES = 5  # with augmentation: each window moved by -5..+5 semitones
MIN_DELTA = 1e-4  # a validation loss must improve by this much (nats) to count as better
DEFAULT_DECAY_FROM_FRACTION = 2 / 3
MIN_LEARNING_RATE_FRACTION = 0.1


@dataclass(frozen=True)
class TrainingConfig(Config):
    """How to train (the network's shape is `ModelConfig`)."""

    sequence_length: int = DEFAULT_SEQUENCE_LENGTH
    window_stride: int | None = None  # None: sequence_length (every token once per epoch)
    batch_size: int = DEFAULT_BATCH_SIZE
    learning_rate: float = DEFAULT_LEARNING_RATE
    epochs: int = DEFAULT_EPOCHS
    patience: int = DEFAULT_PATIENCE  # epochs without validation improvement before stopping
    seed: int = SPLIT_SEED  # the weights start from the split's seed unless told otherwise
    # Random transposition of each training window. Off by default: measured on held-out pieces
    # in their own keys it costs perplexity (folk tunes sit in a few keys), but it lets a
    # model trained on few pieces play in every key.
    augmentation: bool = False
    transpose_semitones: int = DEFAULT_TRANSPOSE_SEMITONES
    ngram_order: int = DEFAULT_ORDER
    # The learning rate is constant for this share of the epochs, then falls linearly to
    # MIN_LEARNING_RATE_FRACTION of itself by the last epoch (annealing gains a few percent of
    # perplexity). A function of the epoch only, so a resumed run gets the same rates.
    decay_from_fraction: float = DEFAULT_DECAY_FROM_FRACTION
    max_batches_per_epoch: int | None = None  # cap for quick runs and benchmarks
    # A budget in steps (batches) instead of passes: `epochs` is then ignored, and validation,
    # early stopping and checkpoints come every `steps_per_round` steps (default: one pass).
    max_steps: int | None = None
    steps_per_round: int | None = None
    # The share of input tokens hidden (replaced by PAD) in each training batch; the targets
    # are all kept. A regularizer against overfitting (see THOROUGH_INPUT_DROPOUT).
    input_dropout: float = 0.0

    def __post_init__(self) -> None:
        if self.sequence_length < 2:
            raise ValueError("sequence_length must be at least 2")
        if self.window_stride is not None and self.window_stride < 1:
            raise ValueError("window_stride must be at least 1")
        if self.batch_size < 1 or self.epochs < 1 or self.patience < 1:
            raise ValueError("batch_size, epochs and patience must be at least 1")
        if not 0 < self.learning_rate < 1:
            raise ValueError("learning_rate must be within (0, 1)")
        if not 0 <= self.transpose_semitones <= 12:
            raise ValueError("transpose_semitones must be within 0..12")
        if not 0.0 <= self.decay_from_fraction <= 1.0:
            raise ValueError("decay_from_fraction must be within 0..1")
        if self.max_batches_per_epoch is not None and self.max_batches_per_epoch < 1:
            raise ValueError("max_batches_per_epoch must be at least 1")
        if self.max_steps is not None and self.max_steps < 1:
            raise ValueError("max_steps must be at least 1")
        if self.steps_per_round is not None and self.steps_per_round < 1:
            raise ValueError("steps_per_round must be at least 1")
        if not 0.0 <= self.input_dropout < 1.0:
            raise ValueError("input_dropout must be within [0, 1)")

    def rounds(self, batches_per_pass: int) -> tuple[int, int]:
        """(steps per round, rounds): whole passes, or the step budget rounded up to rounds."""
        if self.max_steps is None:
            return batches_per_pass, self.epochs
        per_round = min(self.steps_per_round or batches_per_pass, self.max_steps)
        return per_round, math.ceil(self.max_steps / per_round)

    def learning_rate_at(self, epoch: int, rounds: int | None = None) -> float:
        """The learning rate of a 0-based epoch (round) of `rounds` (default: `epochs`)."""
        total = rounds or self.epochs
        start = self.decay_from_fraction * total
        if epoch < start or total - start <= 0:
            return self.learning_rate
        progress = (epoch - start + 1) / (total - start)
        return self.learning_rate * max(1.0 - progress, MIN_LEARNING_RATE_FRACTION)

    @property
    def stride(self) -> int:
        return self.window_stride or self.sequence_length

    @property
    def augment_semitones(self) -> int:
        """The transposition range actually used (0 when augmentation is off)."""
        return self.transpose_semitones if self.augmentation else 0

    def encoding(self, base: EncodingConfig | None = None) -> EncodingConfig:
        """The encoding whose vocabulary holds every transposition this training draws."""
        return replace(base or EncodingConfig(), transpose_semitones=self.augment_semitones)


@dataclass(frozen=True)
class TrainingPreset:
    """Settings for one way of training. `training` is for fine-tuning the base model (its
    shape is the base's); from scratch, the network is `model` and the rate
    `scratch_learning_rate`."""

    name: str
    title: str
    description: str
    model: ModelConfig
    training: TrainingConfig
    scratch_learning_rate: float

    def training_for(self, *, from_scratch: bool) -> TrainingConfig:
        if from_scratch:
            return replace(self.training, learning_rate=self.scratch_learning_rate)
        return self.training


# Quick is a budget of steps, so it takes about the same time whatever the data's size. With
# the 2 x 256 base, 480 steps of 32 windows of 128 tokens took about 2.5 minutes on this
# project's 2-core CPU; the 2 x 384 base (2026-11-26) trains about 1.7 times slower per step,
# so the budget is 280 steps (7 rounds of 40) for the same wall time (docs/training.md). Fine-tuning
# starts from a model that already knows music, so it uses a lower learning rate than training
# from scratch.
QUICK_STEPS = 280
QUICK_STEPS_PER_ROUND = 40
FINE_TUNING_LEARNING_RATE = 1e-3
# The thorough preset hides a tenth of the input tokens (`TrainingConfig.input_dropout`): the
# network learns from more of the context and overfits later. Fine-tuned from the base, held-out
# perplexity on the chorales 2.827 -> 2.677 (0.583x -> 0.552x the n-gram) in 27 epochs instead
# of 4 (12 minutes on this 2-core CPU), on the folk tunes 1.963 -> 1.943 (0.768x -> 0.761x) in
# 15 instead of 8 (29 minutes); 0.2 hid too much at first and early stopping kept the base's
# weights. The quick preset's short budget has no room for the slower start.
THOROUGH_INPUT_DROPOUT = 0.1

TRAINING_PRESETS: dict[str, TrainingPreset] = {
    p.name: p
    for p in (
        TrainingPreset(
            "quick",
            "Quick",
            "About two and a half minutes, whatever the size of your music: a first result now.",
            ModelConfig(embedding_dim=32, units=128, layers=2, dropout=0.2),
            TrainingConfig(
                sequence_length=128,
                learning_rate=FINE_TUNING_LEARNING_RATE,
                max_steps=QUICK_STEPS,
                steps_per_round=QUICK_STEPS_PER_ROUND,
                patience=3,
            ),
            scratch_learning_rate=5e-3,
        ),
        TrainingPreset(
            "thorough",
            "Thorough",
            "Whole passes over the music until the held-out pieces stop improving.",
            ModelConfig(),
            TrainingConfig(
                learning_rate=FINE_TUNING_LEARNING_RATE, input_dropout=THOROUGH_INPUT_DROPOUT
            ),
            scratch_learning_rate=DEFAULT_LEARNING_RATE,
        ),
    )
}
DEFAULT_TRAINING_PRESET = "thorough"


@dataclass(frozen=True)
class TrainingProgress:
    """What `on_progress` receives after every batch (and once per phase change)."""

    phase: str  # "baseline", "training", "validating", "saving", "finished"
    epoch: int  # 1-based epoch being trained
    epochs: int
    batch: int  # batches done in this epoch
    batches: int  # batches per epoch
    loss: float | None = None  # running training loss of this epoch
    eta_s: float | None = None
    tokens_per_s: float | None = None
    history: tuple[dict[str, float], ...] = ()
    baseline: dict[str, float] = field(default_factory=dict)
    start: dict[str, float] = field(default_factory=dict)  # the base's scores ("epoch 0")

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["history"] = list(self.history)
        return data


@dataclass(frozen=True)
class TrainingResult:
    model_dir: Path | None
    metrics: dict[str, Any]


# ---------------------------------------------------------------- the loop


@dataclass(frozen=True)
class _Schedule:
    """How a run is counted: rounds (Keras epochs) of `steps_per_round` batches."""

    steps_per_round: int
    rounds: int
    tokens_per_step: float

    @property
    def total_steps(self) -> int:
        return self.steps_per_round * self.rounds


class _EpochEnd(keras.callbacks.Callback):
    """Validation, early stopping and the checkpoint after every round; progress and cancel
    after every batch."""

    def __init__(
        self,
        *,
        state: TrainingState,
        valid: EvalWindows,
        best_model: keras.Model,
        checkpoint_dir: Path,
        config: TrainingConfig,
        schedule: _Schedule,
        on_progress: ProgressCallback[TrainingProgress] | None,
        should_stop: Callable[[], bool] | None,
    ) -> None:
        super().__init__()
        self.state = state
        self.valid = valid
        self.best_model = best_model
        self.checkpoint_dir = checkpoint_dir
        self.config = config
        self.schedule = schedule
        self.on_progress = on_progress
        self.should_stop = should_stop
        self._epoch_started = 0.0
        self._run_started = 0.0
        self._batches_this_run = 0
        self._epoch = 0

    def _report(self, phase: str, batch: int, loss: float | None) -> None:
        if not self.on_progress:
            return
        per_round = self.schedule.steps_per_round
        total = self.schedule.total_steps
        done = self._epoch * per_round + batch
        elapsed = time.perf_counter() - self._run_started  # validation time included
        eta = tps = None
        if self._batches_this_run:
            per_batch = elapsed / self._batches_this_run
            eta = per_batch * (total - done)
            tps = self.schedule.tokens_per_step / per_batch
        self.on_progress(
            done,
            total,
            TrainingProgress(
                phase=phase,
                epoch=self._epoch + 1,
                epochs=self.schedule.rounds,
                batch=batch,
                batches=per_round,
                loss=loss,
                eta_s=eta,
                tokens_per_s=tps,
                history=tuple(self.state.history),
                baseline=self.state.baseline,
                start=self.state.start,
            ),
        )

    def on_train_begin(self, logs: Mapping[str, Any] | None = None) -> None:
        self._run_started = time.perf_counter()

    def on_epoch_begin(self, epoch: int, logs: Mapping[str, Any] | None = None) -> None:
        self._epoch = epoch
        self._epoch_started = time.perf_counter()
        self.model.optimizer.learning_rate = self.config.learning_rate_at(
            epoch, self.schedule.rounds
        )

    def on_train_batch_end(self, batch: int, logs: Mapping[str, Any] | None = None) -> None:
        self._batches_this_run += 1
        if self.should_stop is not None and self.should_stop():
            raise JobCancelled("training cancelled")
        loss = None if logs is None or "loss" not in logs else float(logs["loss"])
        self._report("training", batch + 1, loss)

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        train_time_s = time.perf_counter() - self._epoch_started
        self._report("validating", self.schedule.steps_per_round, None)
        scores = evaluate(self.model, self.valid)
        state = self.state
        record = {
            "epoch": epoch + 1,
            "step": (epoch + 1) * self.schedule.steps_per_round,
            "train_loss": float((logs or {}).get("loss", math.nan)),
            "val_loss": scores["loss"],
            "val_perplexity": scores["perplexity"],
            "val_accuracy": scores["accuracy"],
            "train_time_s": train_time_s,
            "tokens_per_s": self.schedule.tokens_per_step
            * self.schedule.steps_per_round
            / max(train_time_s, 1e-9),
            "learning_rate": self.config.learning_rate_at(epoch, self.schedule.rounds),
        }
        state.history.append(record)
        state.epochs_done = epoch + 1
        if scores["loss"] < state.best_val_loss - MIN_DELTA:
            state.best_val_loss = scores["loss"]
            state.best_epoch = epoch + 1
            state.wait = 0
            self.best_model.set_weights(self.model.get_weights())
        else:
            state.wait += 1
            if state.wait >= self.config.patience:
                state.stopped_early = True
                self.model.stop_training = True
        if logs is not None:
            logs["val_loss"] = scores["loss"]
        write_checkpoint(self.checkpoint_dir, self.model, self.best_model, state)
        log.info("round %d: %s", epoch + 1, record)
        if self.should_stop is not None and self.should_stop():
            raise JobCancelled("training cancelled")


def _start_from_base(model: keras.Model, base_dir: Path, vocab: Vocabulary, *, name: str) -> None:
    """Copy a base model's weights into `model` (fine-tuning).

    Raises:
        ValueError: the base's vocabulary or network shape differs from this run's.
    """
    base_dir = Path(base_dir)
    if Vocabulary.load(base_dir / VOCAB_FILE) != vocab:
        raise ValueError(f"{name}: the data's vocabulary differs from the base model's")
    base = keras.saving.load_model(base_dir / MODEL_FILE, compile=False, safe_mode=True)
    try:
        model.set_weights(base.get_weights())
    except ValueError as error:
        raise ValueError(
            f"{name}: the network's shape differs from the base model {base_dir.name} ({error})"
        ) from error


def train(
    dataset: Dataset,
    *,
    model_config: ModelConfig,
    training_config: TrainingConfig,
    checkpoint_dir: Path,
    out_dir: Path | None = None,
    on_progress: ProgressCallback[TrainingProgress] | None = None,
    should_stop: Callable[[], bool] | None = None,
    resume: bool = True,
    base_dir: Path | None = None,
) -> TrainingResult:
    """Train (or continue training) on `dataset` and save the best model as a folder.

    With `base_dir` a new run starts from that base model's weights (its shape and vocabulary
    must be this run's). With `resume` and a checkpoint in `checkpoint_dir`, training continues
    from its round count with the saved optimizer, history and early-stopping counters.

    Raises:
        JobCancelled: `should_stop()` became true; the last round's checkpoint is kept.
        ValueError: no training windows or no validation pieces, or a base that does not fit.
    """
    config = training_config
    keras.utils.set_random_seed(config.seed)
    vocab = dataset.vocab
    train_ids, valid_ids = dataset.train_ids(), dataset.valid_ids()
    if not valid_ids:
        raise ValueError(f"{dataset.name}: no validation pieces (at least two pieces needed)")
    windows = make_windows(
        train_ids,
        length=config.sequence_length + 1,
        stride=config.stride,
        pad_id=vocab.pad_id,
    )
    if not len(windows):
        raise ValueError(f"{dataset.name}: no training windows")
    _, table = transposition_tables(vocab, config.augment_semitones)
    allowed = allowed_shifts(windows, table)
    batches_per_pass = math.ceil(len(windows) / config.batch_size)
    if config.max_batches_per_epoch:
        batches_per_pass = min(batches_per_pass, config.max_batches_per_epoch)
    steps_per_round, rounds = config.rounds(batches_per_pass)
    tokens_per_window = float((windows[:, 1:] != vocab.pad_id).sum()) / len(windows)
    schedule = _Schedule(
        steps_per_round=steps_per_round,
        rounds=rounds,
        tokens_per_step=tokens_per_window * min(config.batch_size, len(windows)),
    )
    valid = evaluation_windows(valid_ids, length=config.sequence_length, pad_id=vocab.pad_id)

    checkpoint_dir = Path(checkpoint_dir)
    state = (
        read_checkpoint_state(checkpoint_dir) if resume and has_checkpoint(checkpoint_dir) else None
    )
    best_model = build_model(model_config, len(vocab))
    if state is not None:
        log.info("resuming from %s after round %d", checkpoint_dir, state.epochs_done)
        model = keras.saving.load_model(checkpoint_dir / LAST_MODEL_FILE, safe_mode=True)
        best_model.load_weights(checkpoint_dir / BEST_WEIGHTS_FILE)
    else:
        state = TrainingState()
        model = build_model(model_config, len(vocab))
        if base_dir is not None:
            _start_from_base(model, base_dir, vocab, name=dataset.name)
            best_model.set_weights(model.get_weights())
            scores = evaluate(model, valid)
            state.start = {
                "epoch": 0,
                "step": 0,
                "val_loss": scores["loss"],
                "val_perplexity": scores["perplexity"],
                "val_accuracy": scores["accuracy"],
            }
            state.best_val_loss = scores["loss"]
        compile_model(model, learning_rate=config.learning_rate, pad_id=vocab.pad_id)

    if not state.baseline:
        if on_progress:
            on_progress(
                0,
                schedule.total_steps,
                TrainingProgress("baseline", state.epochs_done + 1, rounds, 0, steps_per_round),
            )
        score = ngram_baseline(
            train_ids,
            valid_ids,
            vocab_size=len(vocab),
            order=config.ngram_order,
            bos_id=vocab.bos_id,
        )
        state.baseline = {
            "loss": score.loss,
            "perplexity": score.perplexity,
            "accuracy": score.accuracy,
            "order": float(config.ngram_order),
        }

    finished = state.stopped_early or state.epochs_done >= rounds
    if not finished:
        data = training_stream(
            windows,
            table=table,
            allowed=allowed,
            batch_size=config.batch_size,
            seed=config.seed,
            batches_per_pass=batches_per_pass,
            first_step=state.epochs_done * steps_per_round,
            steps=(rounds - state.epochs_done) * steps_per_round,
            input_dropout=config.input_dropout,
            pad_id=vocab.pad_id,
        )
        epoch_end = _EpochEnd(
            state=state,
            valid=valid,
            best_model=best_model,
            checkpoint_dir=checkpoint_dir,
            config=config,
            schedule=schedule,
            on_progress=on_progress,
            should_stop=should_stop,
        )
        model.fit(
            data,
            epochs=rounds,
            initial_epoch=state.epochs_done,
            steps_per_epoch=steps_per_round,
            callbacks=[epoch_end],
            shuffle=False,
            verbose=0,
        )

    metrics = final_metrics(
        state,
        vocab_size=len(vocab),
        train_windows=len(windows),
        valid_tokens=int(valid.counted.sum()),
        parameters=int(best_model.count_params()),
    )
    base_name = Path(base_dir).name if base_dir is not None else None
    if on_progress:
        on_progress(
            schedule.total_steps,
            schedule.total_steps,
            TrainingProgress(
                "saving",
                state.epochs_done,
                rounds,
                steps_per_round,
                steps_per_round,
                history=tuple(state.history),
                baseline=state.baseline,
                start=state.start,
            ),
        )
    model_dir = None
    if out_dir is not None:
        model_dir = save_model_folder(
            Path(out_dir),
            keras_model=best_model,
            encoding=dataset.config,
            vocab=vocab,
            config=model_config,
            training={**config.to_dict(), "base_model": base_name},
            metrics={**metrics, "dataset": dataset.name, "fine_tuned_from": base_name},
            checkpoint_dir=checkpoint_dir,
            write_extra=functools.partial(write_model_data, dataset=dataset),
        )
    return TrainingResult(model_dir=model_dir, metrics={**metrics, "fine_tuned_from": base_name})


def final_metrics(
    state: TrainingState,
    *,
    vocab_size: int,
    train_windows: int,
    valid_tokens: int,
    parameters: int,
) -> dict[str, Any]:
    """The figures of a run: best validation scores, the baseline beside them, and history."""
    history = state.history
    best = next(
        (h for h in [state.start, *history] if h and h["epoch"] == state.best_epoch),
        history[-1] if history else {},
    )
    times = [h["train_time_s"] for h in history]
    tokens = [h["tokens_per_s"] * h["train_time_s"] for h in history]
    baseline = state.baseline
    return {
        "train_loss": history[-1]["train_loss"] if history else math.nan,
        "val_loss": best.get("val_loss", math.nan),
        "val_perplexity": best.get("val_perplexity", math.nan),
        "val_accuracy": best.get("val_accuracy", math.nan),
        "best_epoch": state.best_epoch,
        "epochs_run": state.epochs_done,
        "stopped_early": state.stopped_early,
        "baseline_loss": baseline.get("loss", math.nan),
        "baseline_perplexity": baseline.get("perplexity", math.nan),
        "baseline_accuracy": baseline.get("accuracy", math.nan),
        "baseline_order": int(baseline.get("order", 0)),
        "perplexity_ratio": best.get("val_perplexity", math.nan)
        / baseline.get("perplexity", math.nan),
        "tokens_per_s": sum(tokens) / sum(times) if times and sum(times) > 0 else math.nan,
        "train_time_s": sum(times),
        "vocab_size": vocab_size,
        "train_windows": train_windows,
        "valid_tokens": valid_tokens,
        "parameters": parameters,
        "start_val_perplexity": state.start.get("val_perplexity", math.nan),
        "start": state.start,
        "history": history,
    }
