"""Train the LSTM on a dataset: windows, augmentation, validation, early stopping, checkpoints.

- Training data: windows of `sequence_length + 1` token ids cut from each training piece
  (BOS..EOS) every `window_stride` tokens; the model predicts the next token at every position.
  Each epoch shuffles the windows and, with augmentation, moves each window by a random number
  of semitones (a precomputed id → id table per shift; a shift that would leave the vocabulary
  is never drawn for that window). All randomness is stateless in (seed, epoch), so a resumed
  run sees the same batches as an uninterrupted one.
- Validation: every epoch on the held-out pieces (loss, perplexity, accuracy), beside an
  interpolated Kneser-Ney n-gram baseline on the same tokens and split.
- Checkpoints: after every epoch the whole state (model with optimizer, best weights, history,
  early-stopping counters) is written atomically to `checkpoint_dir`; `train` resumes from it.
- Callbacks are the only bridge out of `fit`: progress goes to `on_progress(done, total, info)`,
  and `should_stop()` is asked after every batch (→ `JobCancelled`, last checkpoint kept).
"""

from __future__ import annotations

import functools
import json
import logging
import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from core.datasets import DEFAULT_SEED, Dataset
from core.encoding import EncodingConfig, TokenKind, Vocabulary, token_kind, token_value
from core.errors import JobCancelled
from core.evaluation.model_data import write_model_data
from core.model import (
    ModelConfig,
    build_model,
    compile_model,
    save_model_folder,
)
from core.ngram import DEFAULT_ORDER, ngram_baseline
from core.storage import atomic_dir, atomic_write_json

log = logging.getLogger(__name__)

DEFAULT_SEQUENCE_LENGTH = 128
DEFAULT_BATCH_SIZE = 32
DEFAULT_LEARNING_RATE = 3e-3
DEFAULT_EPOCHS = 30  # an upper bound: early stopping usually ends a run sooner
DEFAULT_PATIENCE = 3
DEFAULT_TRANSPOSE_SEMITONES = 5  # with augmentation: each window moved by -5..+5 semitones
MIN_DELTA = 1e-4  # a validation loss must improve by this much (nats) to count as better
EVAL_BATCH_SIZE = 64
DEFAULT_DECAY_FROM_FRACTION = 2 / 3
MIN_LEARNING_RATE_FRACTION = 0.1

LAST_MODEL_FILE = "last.keras"
BEST_WEIGHTS_FILE = "best.weights.h5"
STATE_FILE = "state.json"


@dataclass(frozen=True)
class TrainingConfig:
    """How to train (the network's shape is `ModelConfig`)."""

    sequence_length: int = DEFAULT_SEQUENCE_LENGTH
    window_stride: int | None = None  # None: sequence_length (every token once per epoch)
    batch_size: int = DEFAULT_BATCH_SIZE
    learning_rate: float = DEFAULT_LEARNING_RATE
    epochs: int = DEFAULT_EPOCHS
    patience: int = DEFAULT_PATIENCE  # epochs without validation improvement before stopping
    seed: int = DEFAULT_SEED
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

    def learning_rate_at(self, epoch: int) -> float:
        """The learning rate of a 0-based epoch."""
        start = self.decay_from_fraction * self.epochs
        if epoch < start or self.epochs - start <= 0:
            return self.learning_rate
        progress = (epoch - start + 1) / (self.epochs - start)
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

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TrainingConfig:
        known = set(cls.__dataclass_fields__)
        return cls(**{k: v for k, v in data.items() if k in known})


@dataclass(frozen=True)
class TrainingPreset:
    name: str
    title: str
    description: str
    model: ModelConfig
    training: TrainingConfig


PRESETS: dict[str, TrainingPreset] = {
    p.name: p
    for p in (
        TrainingPreset(
            "quick",
            "Quick",
            "A smaller network for a few epochs: a first result in minutes.",
            ModelConfig(embedding_dim=32, units=128, layers=2, dropout=0.2),
            TrainingConfig(sequence_length=64, epochs=6, patience=2, learning_rate=5e-3),
        ),
        TrainingPreset(
            "thorough",
            "Thorough",
            "The default network trained until the validation loss stops improving.",
            ModelConfig(),
            TrainingConfig(),
        ),
    )
}
DEFAULT_PRESET = "thorough"


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

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["history"] = list(self.history)
        return data


ProgressCallback = Callable[[int, int, TrainingProgress], None]


@dataclass(frozen=True)
class TrainingResult:
    model_dir: Path | None
    metrics: dict[str, Any]


# ---------------------------------------------------------------- data


def make_windows(
    sequences: Sequence[Sequence[int]], *, length: int, stride: int, pad_id: int = 0
) -> np.ndarray:
    """Windows of `length` ids from each sequence, every `stride` ids, the last one flush with
    the sequence's end so every token is a target; short sequences are padded with `pad_id`."""
    windows: list[np.ndarray] = []
    for sequence in sequences:
        ids = np.asarray(sequence, dtype=np.int32)
        if len(ids) < 2:
            continue
        if len(ids) <= length:
            windows.append(np.pad(ids, (0, length - len(ids)), constant_values=pad_id))
            continue
        starts = list(range(0, len(ids) - length + 1, stride))
        if starts[-1] != len(ids) - length:
            starts.append(len(ids) - length)
        windows.extend(ids[s : s + length] for s in starts)
    if not windows:
        return np.zeros((0, length), dtype=np.int32)
    return np.stack(windows).astype(np.int32)


def transposition_tables(vocab: Vocabulary, semitones: int) -> tuple[list[int], np.ndarray]:
    """(shifts, table) where table[k, id] is the id of that token moved by shifts[k] semitones,
    or -1 when the moved token is not in the vocabulary. Shift 0 comes first."""
    shifts = [0] + [s for s in range(-semitones, semitones + 1) if s != 0]
    table = np.empty((len(shifts), len(vocab)), dtype=np.int32)
    for k, shift in enumerate(shifts):
        for i, token in enumerate(vocab.tokens):
            if shift and token_kind(token) is TokenKind.PITCH:
                moved = f"P{token_value(token) + shift}"
                table[k, i] = vocab.id_of(moved) if moved in vocab else -1
            else:
                table[k, i] = i
    return shifts, table


def allowed_shifts(windows: np.ndarray, table: np.ndarray) -> np.ndarray:
    """(windows, shifts) booleans: the shift keeps every token of the window in the vocabulary."""
    allowed = np.empty((len(windows), len(table)), dtype=bool)
    for k in range(len(table)):
        allowed[:, k] = (table[k][windows] >= 0).all(axis=1)
    return allowed


def training_dataset(
    windows: np.ndarray,
    *,
    table: np.ndarray,
    allowed: np.ndarray,
    batch_size: int,
    seed: int,
    first_epoch: int,
    epochs: int,
    batches_per_epoch: int,
) -> tf.data.Dataset:
    """(inputs, targets) batches for epochs first_epoch..epochs-1, reproducible from the seed."""
    windows_t = tf.constant(windows)
    table_t = tf.constant(np.maximum(table, 0))
    # Large negative instead of -inf keeps categorical sampling free of NaNs.
    shift_logits = tf.constant(np.where(allowed, 0.0, -1e9).astype(np.float32))
    count = len(windows)

    def one_epoch(epoch: tf.Tensor) -> tf.data.Dataset:
        key = tf.stack([tf.constant(seed, tf.int64), epoch])
        order = tf.random.experimental.stateless_shuffle(tf.range(count), seed=key)
        shifts = tf.random.stateless_categorical(
            shift_logits, 1, seed=key + tf.constant([0, 1_000_003], tf.int64), dtype=tf.int32
        )[:, 0]
        picked = tf.data.Dataset.from_tensor_slices((order, tf.gather(shifts, order)))
        return picked.batch(batch_size).take(batches_per_epoch)

    def to_pairs(index: tf.Tensor, shift: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        window = tf.gather(windows_t, index)
        moved = tf.gather(tf.gather(table_t, shift), window, batch_dims=1)
        return moved[:, :-1], moved[:, 1:]

    epochs_ds = tf.data.Dataset.range(first_epoch, epochs)
    return (
        epochs_ds.flat_map(one_epoch)
        .map(to_pairs, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
        .prefetch(tf.data.AUTOTUNE)
    )


# ---------------------------------------------------------------- evaluation


@dataclass(frozen=True)
class EvalWindows:
    inputs: np.ndarray  # (n, length) ids
    targets: np.ndarray  # (n, length) ids
    counted: np.ndarray  # (n, length) bool: targets that are scored (each token exactly once)


def evaluation_windows(
    sequences: Sequence[Sequence[int]], *, length: int, pad_id: int = 0
) -> EvalWindows:
    """Windows that score every token after BOS exactly once, each with at least half a window
    of context (after the first): windows overlap by half and only their second half counts."""
    burn_in = length // 2
    hop = length - burn_in
    inputs, targets, counted = [], [], []
    for sequence in sequences:
        ids = np.asarray(sequence, dtype=np.int32)
        start = 0
        while True:
            chunk = ids[start : start + length + 1]
            x = np.full(length, pad_id, np.int32)
            y = np.full(length, pad_id, np.int32)
            x[: len(chunk) - 1] = chunk[:-1]
            y[: len(chunk) - 1] = chunk[1:]
            mask = y != pad_id
            if start > 0:
                mask[:burn_in] = False
            inputs.append(x)
            targets.append(y)
            counted.append(mask)
            if start + length + 1 >= len(ids):
                break
            start += hop
    if not inputs:
        empty = np.zeros((0, length), np.int32)
        return EvalWindows(empty, empty, empty.astype(bool))
    return EvalWindows(np.stack(inputs), np.stack(targets), np.stack(counted))


def evaluate(model: keras.Model, windows: EvalWindows) -> dict[str, float]:
    """Loss (nats/token), perplexity and accuracy over the counted targets."""
    total_nll = 0.0
    correct = tokens = 0
    for start in range(0, len(windows.inputs), EVAL_BATCH_SIZE):
        stop = start + EVAL_BATCH_SIZE
        logits = np.asarray(model.predict_on_batch(windows.inputs[start:stop]), dtype=np.float64)
        y, mask = windows.targets[start:stop], windows.counted[start:stop]
        top = logits.max(axis=-1, keepdims=True)
        log_norm = np.log(np.exp(logits - top).sum(axis=-1)) + top[..., 0]
        picked = np.take_along_axis(logits, y[..., None], axis=-1)[..., 0]
        total_nll += float(((log_norm - picked) * mask).sum())
        correct += int(((logits.argmax(axis=-1) == y) & mask).sum())
        tokens += int(mask.sum())
    loss = total_nll / max(tokens, 1)
    return {
        "loss": loss,
        "perplexity": math.exp(min(loss, 50.0)),
        "accuracy": correct / max(tokens, 1),
        "tokens": float(tokens),
    }


# ---------------------------------------------------------------- checkpoints


@dataclass
class TrainingState:
    """Everything besides the weights that a resumed run needs."""

    epochs_done: int = 0
    history: list[dict[str, float]] = field(default_factory=list)
    best_val_loss: float = math.inf
    best_epoch: int = 0
    wait: int = 0
    stopped_early: bool = False
    baseline: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["best_val_loss"] = None if math.isinf(self.best_val_loss) else self.best_val_loss
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TrainingState:
        best = data.get("best_val_loss")
        return cls(
            epochs_done=int(data["epochs_done"]),
            history=list(data.get("history", [])),
            best_val_loss=math.inf if best is None else float(best),
            best_epoch=int(data.get("best_epoch", 0)),
            wait=int(data.get("wait", 0)),
            stopped_early=bool(data.get("stopped_early", False)),
            baseline=dict(data.get("baseline", {})),
        )


def has_checkpoint(checkpoint_dir: Path) -> bool:
    return all((Path(checkpoint_dir) / n).is_file() for n in (LAST_MODEL_FILE, STATE_FILE))


def read_checkpoint_state(checkpoint_dir: Path) -> TrainingState | None:
    path = Path(checkpoint_dir) / STATE_FILE
    if not path.is_file():
        return None
    return TrainingState.from_dict(json.loads(path.read_text()))


def _write_checkpoint(
    checkpoint_dir: Path, model: keras.Model, best_model: keras.Model, state: TrainingState
) -> None:
    with atomic_dir(checkpoint_dir) as tmp:
        model.save(tmp / LAST_MODEL_FILE)
        best_model.save_weights(tmp / BEST_WEIGHTS_FILE)
        atomic_write_json(tmp / STATE_FILE, state.to_dict())


# ---------------------------------------------------------------- the loop


class _EpochEnd(keras.callbacks.Callback):
    """Validation, early stopping and the checkpoint after every epoch; progress and cancel
    after every batch."""

    def __init__(
        self,
        *,
        state: TrainingState,
        valid: EvalWindows,
        best_model: keras.Model,
        checkpoint_dir: Path,
        config: TrainingConfig,
        batches_per_epoch: int,
        tokens_per_epoch: int,
        on_progress: ProgressCallback | None,
        should_stop: Callable[[], bool] | None,
    ) -> None:
        super().__init__()
        self.state = state
        self.valid = valid
        self.best_model = best_model
        self.checkpoint_dir = checkpoint_dir
        self.config = config
        self.batches_per_epoch = batches_per_epoch
        self.tokens_per_epoch = tokens_per_epoch
        self.on_progress = on_progress
        self.should_stop = should_stop
        self._epoch_started = 0.0
        self._run_started = 0.0
        self._batches_this_run = 0
        self._epoch = 0

    def _report(self, phase: str, batch: int, loss: float | None) -> None:
        if not self.on_progress:
            return
        total = self.config.epochs * self.batches_per_epoch
        done = self._epoch * self.batches_per_epoch + batch
        elapsed = time.perf_counter() - self._run_started
        eta = tps = None
        if self._batches_this_run:
            per_batch = elapsed / self._batches_this_run
            eta = per_batch * (total - done)
            tps = self.tokens_per_epoch / self.batches_per_epoch / per_batch
        self.on_progress(
            done,
            total,
            TrainingProgress(
                phase=phase,
                epoch=self._epoch + 1,
                epochs=self.config.epochs,
                batch=batch,
                batches=self.batches_per_epoch,
                loss=loss,
                eta_s=eta,
                tokens_per_s=tps,
                history=tuple(self.state.history),
                baseline=self.state.baseline,
            ),
        )

    def on_train_begin(self, logs: Mapping[str, Any] | None = None) -> None:
        self._run_started = time.perf_counter()

    def on_epoch_begin(self, epoch: int, logs: Mapping[str, Any] | None = None) -> None:
        self._epoch = epoch
        self._epoch_started = time.perf_counter()
        self.model.optimizer.learning_rate = self.config.learning_rate_at(epoch)

    def on_train_batch_end(self, batch: int, logs: Mapping[str, Any] | None = None) -> None:
        self._batches_this_run += 1
        if self.should_stop is not None and self.should_stop():
            raise JobCancelled("training cancelled")
        loss = None if logs is None or "loss" not in logs else float(logs["loss"])
        self._report("training", batch + 1, loss)

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        train_time_s = time.perf_counter() - self._epoch_started
        self._report("validating", self.batches_per_epoch, None)
        scores = evaluate(self.model, self.valid)
        state = self.state
        record = {
            "epoch": epoch + 1,
            "train_loss": float((logs or {}).get("loss", math.nan)),
            "val_loss": scores["loss"],
            "val_perplexity": scores["perplexity"],
            "val_accuracy": scores["accuracy"],
            "train_time_s": train_time_s,
            "tokens_per_s": self.tokens_per_epoch / max(train_time_s, 1e-9),
            "learning_rate": self.config.learning_rate_at(epoch),
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
        _write_checkpoint(self.checkpoint_dir, self.model, self.best_model, state)
        log.info("epoch %d: %s", epoch + 1, record)
        if self.should_stop is not None and self.should_stop():
            raise JobCancelled("training cancelled")


def train(
    dataset: Dataset,
    *,
    model_config: ModelConfig,
    training_config: TrainingConfig,
    checkpoint_dir: Path,
    out_dir: Path | None = None,
    on_progress: ProgressCallback | None = None,
    should_stop: Callable[[], bool] | None = None,
    resume: bool = True,
) -> TrainingResult:
    """Train (or continue training) on `dataset` and save the best model as a folder.

    With `resume` and a checkpoint in `checkpoint_dir`, training continues from its epoch count
    with the saved optimizer, history and early-stopping counters.

    Raises:
        JobCancelled: `should_stop()` became true; the last epoch's checkpoint is kept.
        ValueError: the dataset has no training windows or no validation pieces.
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
    batches_per_epoch = math.ceil(len(windows) / config.batch_size)
    if config.max_batches_per_epoch:
        batches_per_epoch = min(batches_per_epoch, config.max_batches_per_epoch)
    used = min(len(windows), batches_per_epoch * config.batch_size)
    tokens_per_epoch = int((windows[:, 1:] != vocab.pad_id).sum() * used / len(windows))
    valid = evaluation_windows(valid_ids, length=config.sequence_length, pad_id=vocab.pad_id)

    checkpoint_dir = Path(checkpoint_dir)
    state = (
        read_checkpoint_state(checkpoint_dir) if resume and has_checkpoint(checkpoint_dir) else None
    )
    best_model = build_model(model_config, len(vocab))
    if state is not None:
        log.info("resuming from %s after epoch %d", checkpoint_dir, state.epochs_done)
        model = keras.saving.load_model(checkpoint_dir / LAST_MODEL_FILE, safe_mode=True)
        best_model.load_weights(checkpoint_dir / BEST_WEIGHTS_FILE)
    else:
        state = TrainingState()
        model = build_model(model_config, len(vocab))
        compile_model(model, learning_rate=config.learning_rate, pad_id=vocab.pad_id)

    if not state.baseline:
        if on_progress:
            on_progress(
                0,
                config.epochs * batches_per_epoch,
                TrainingProgress(
                    "baseline", state.epochs_done + 1, config.epochs, 0, batches_per_epoch
                ),
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

    finished = state.stopped_early or state.epochs_done >= config.epochs
    if not finished:
        data = training_dataset(
            windows,
            table=table,
            allowed=allowed,
            batch_size=config.batch_size,
            seed=config.seed,
            first_epoch=state.epochs_done,
            epochs=config.epochs,
            batches_per_epoch=batches_per_epoch,
        )
        epoch_end = _EpochEnd(
            state=state,
            valid=valid,
            best_model=best_model,
            checkpoint_dir=checkpoint_dir,
            config=config,
            batches_per_epoch=batches_per_epoch,
            tokens_per_epoch=tokens_per_epoch,
            on_progress=on_progress,
            should_stop=should_stop,
        )
        model.fit(
            data,
            epochs=config.epochs,
            initial_epoch=state.epochs_done,
            steps_per_epoch=batches_per_epoch,
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
    if on_progress:
        on_progress(
            config.epochs * batches_per_epoch,
            config.epochs * batches_per_epoch,
            TrainingProgress(
                "saving",
                state.epochs_done,
                config.epochs,
                batches_per_epoch,
                batches_per_epoch,
                history=tuple(state.history),
                baseline=state.baseline,
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
            training=config.to_dict(),
            metrics={**metrics, "dataset": dataset.name},
            checkpoint_dir=checkpoint_dir,
            write_extra=functools.partial(write_model_data, dataset=dataset),
        )
    return TrainingResult(model_dir=model_dir, metrics=metrics)


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
        (h for h in history if h["epoch"] == state.best_epoch), history[-1] if history else {}
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
        "history": history,
    }
