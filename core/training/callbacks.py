"""The callbacks `train` hands to `fit`, the only bridge out of it, one job each (as Keras' own
do): the learning rate of each round, cancel, progress reports, validation on the held-out
pieces, the best weights, early stopping and the checkpoint. Keras calls them in the order of
the list, so `train` lists them in the order a round's work must happen."""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import keras

from core.errors import JobCancelled
from core.progress import ProgressCallback
from core.training.checkpoints import TrainingState, write_checkpoint
from core.training.config import TrainingConfig
from core.training.data import EvalWindows, evaluate
from core.training.records import TrainingProgress

log = logging.getLogger(__name__)

MIN_DELTA = 1e-4  # a validation loss must improve by this much (nats) to count as better


@dataclass(frozen=True)
class Schedule:
    """How a run is counted: rounds (Keras epochs) of `steps_per_round` batches."""

    steps_per_round: int
    rounds: int
    tokens_per_step: float

    @property
    def total_steps(self) -> int:
        return self.steps_per_round * self.rounds


def learning_rate_schedule(
    config: TrainingConfig, schedule: Schedule
) -> keras.callbacks.LearningRateScheduler:
    """Keras' scheduler with the config's rate of each round (a resumed run gets the same)."""
    return keras.callbacks.LearningRateScheduler(
        lambda epoch, _rate: config.learning_rate_at(epoch, schedule.rounds)
    )


class CancelOnRequest(keras.callbacks.Callback):
    """Raises `JobCancelled` when `should_stop()` is true: asked after every batch and after
    every round's checkpoint. First in the list, so a cancelled batch is never reported."""

    def __init__(self, should_stop: Callable[[], bool]) -> None:
        super().__init__()
        self.should_stop = should_stop
        self._round_ended = False

    def _ask(self) -> None:
        if self.should_stop():
            raise JobCancelled("training cancelled")

    def on_train_batch_end(self, batch: int, logs: Mapping[str, Any] | None = None) -> None:
        self._ask()

    def on_epoch_end(self, epoch: int, logs: Mapping[str, Any] | None = None) -> None:
        self._round_ended = True

    # Keras ends every callback's round before the next round begins or the run ends, so
    # asking there is asking after the round's checkpoint.
    def on_epoch_begin(self, epoch: int, logs: Mapping[str, Any] | None = None) -> None:
        self._after_round()

    def on_train_end(self, logs: Mapping[str, Any] | None = None) -> None:
        self._after_round()

    def _after_round(self) -> None:
        if self._round_ended:
            self._round_ended = False
            self._ask()


# Batches timed before an ETA is given: the run's first batch builds the graph (seconds, as
# long as a hundred batches), so it is never timed, and a few more make the figure steady.
ETA_MIN_TIMED_BATCHES = 3


class ProgressReporter(keras.callbacks.Callback):
    """`on_progress(done, total, TrainingProgress)` after every batch and as each round's
    validation starts, with the ETA and speed of this run so far.

    The ETA is what the rounds left take at the measured pace: the time per batch, without the
    run's first batch (the graph is built then: timing it gave "about 35 min left" for a run of
    110 s), plus the last round's time between its last batch and the next round's first (the
    check on the held-out pieces and the checkpoint) for each round left. None until
    `ETA_MIN_TIMED_BATCHES` batches are timed. Early stopping can only make the run shorter.
    """

    def __init__(
        self,
        on_progress: ProgressCallback[TrainingProgress],
        *,
        state: TrainingState,
        schedule: Schedule,
    ) -> None:
        super().__init__()
        self.on_progress = on_progress
        self.state = state
        self.schedule = schedule
        self._epoch = 0
        self._last_mark: float | None = None  # the end of the last batch (or a round's start)
        self._batches_seen = 0
        self._timed_batches = 0
        self._batch_time_s = 0.0
        self._round_ended: float | None = None
        self._between_rounds_s: float | None = None  # the last round's check and checkpoint

    def on_epoch_begin(self, epoch: int, logs: Mapping[str, Any] | None = None) -> None:
        now = time.perf_counter()
        if self._round_ended is not None:
            self._between_rounds_s = now - self._round_ended
            self._round_ended = None
        self._epoch = epoch
        self._last_mark = now

    def on_train_batch_end(self, batch: int, logs: Mapping[str, Any] | None = None) -> None:
        now = time.perf_counter()
        if self._batches_seen and self._last_mark is not None:
            self._batch_time_s += now - self._last_mark
            self._timed_batches += 1
        self._batches_seen += 1
        self._last_mark = now
        loss = None if logs is None or "loss" not in logs else float(logs["loss"])
        self._report("training", batch + 1, loss)

    def on_epoch_end(self, epoch: int, logs: Mapping[str, Any] | None = None) -> None:
        self._report("validating", self.schedule.steps_per_round, None)
        self._round_ended = time.perf_counter()

    def eta_s(self, done: int) -> float | None:
        """Seconds left at the measured pace, `done` batches of the whole run done."""
        if self._timed_batches < ETA_MIN_TIMED_BATCHES:
            return None
        per_batch = self._batch_time_s / self._timed_batches
        checks_left = self.schedule.rounds - self._epoch  # this round's check is still to come
        between = self._between_rounds_s or 0.0
        return per_batch * (self.schedule.total_steps - done) + between * checks_left

    def _report(self, phase: str, batch: int, loss: float | None) -> None:
        per_round = self.schedule.steps_per_round
        total = self.schedule.total_steps
        done = self._epoch * per_round + batch
        tps = None
        if self._timed_batches and self._batch_time_s > 0:
            tps = self.schedule.tokens_per_step * self._timed_batches / self._batch_time_s
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
                eta_s=self.eta_s(done),
                tokens_per_s=tps,
                history=tuple(self.state.history),
                baseline=self.state.baseline,
                start=self.state.start,
            ),
        )


class Validation(keras.callbacks.Callback):
    """Scores the held-out pieces after every round and adds the round to the state's history
    (and its `val_loss` to Keras' logs)."""

    def __init__(
        self,
        valid: EvalWindows,
        *,
        state: TrainingState,
        config: TrainingConfig,
        schedule: Schedule,
    ) -> None:
        super().__init__()
        self.valid = valid
        self.state = state
        self.config = config
        self.schedule = schedule
        self._round_started = 0.0

    def on_epoch_begin(self, epoch: int, logs: Mapping[str, Any] | None = None) -> None:
        self._round_started = time.perf_counter()

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        train_time_s = time.perf_counter() - self._round_started
        scores = evaluate(self.model, self.valid)
        per_round = self.schedule.steps_per_round
        self.state.history.append(
            {
                "epoch": epoch + 1,
                "step": (epoch + 1) * per_round,
                "train_loss": float((logs or {}).get("loss", math.nan)),
                "val_loss": scores["loss"],
                "val_perplexity": scores["perplexity"],
                "val_accuracy": scores["accuracy"],
                "train_time_s": train_time_s,
                "tokens_per_s": self.schedule.tokens_per_step * per_round / max(train_time_s, 1e-9),
                "learning_rate": self.config.learning_rate_at(epoch, self.schedule.rounds),
            }
        )
        self.state.epochs_done = epoch + 1
        if logs is not None:
            logs["val_loss"] = scores["loss"]


class BestWeights(keras.callbacks.Callback):
    """Copies the weights into `best_model` when a round's validation loss beats the best so
    far by MIN_DELTA."""

    def __init__(self, best_model: keras.Model, *, state: TrainingState) -> None:
        super().__init__()
        self.best_model = best_model
        self.state = state

    def on_epoch_end(self, epoch: int, logs: Mapping[str, Any] | None = None) -> None:
        state = self.state
        val_loss = state.history[-1]["val_loss"]
        if val_loss < state.best_val_loss - MIN_DELTA:
            state.best_val_loss = val_loss
            state.best_epoch = epoch + 1
            self.best_model.set_weights(self.model.get_weights())


class EarlyStopping(keras.callbacks.Callback):
    """Ends the run after `patience` rounds in a row that were not the best."""

    def __init__(self, *, state: TrainingState, patience: int) -> None:
        super().__init__()
        self.state = state
        self.patience = patience

    def on_epoch_end(self, epoch: int, logs: Mapping[str, Any] | None = None) -> None:
        state = self.state
        if state.best_epoch == epoch + 1:
            state.wait = 0
            return
        state.wait += 1
        if state.wait >= self.patience:
            state.stopped_early = True
            self.model.stop_training = True


class RoundCheckpoint(keras.callbacks.Callback):
    """Writes the checkpoint after every round: the model with its optimizer, the best weights
    and the state (`core.training.checkpoints`)."""

    def __init__(self, checkpoint_dir: Path, *, best_model: keras.Model, state: TrainingState):
        super().__init__()
        self.checkpoint_dir = checkpoint_dir
        self.best_model = best_model
        self.state = state

    def on_epoch_end(self, epoch: int, logs: Mapping[str, Any] | None = None) -> None:
        write_checkpoint(self.checkpoint_dir, self.model, self.best_model, self.state)
        log.info("round %d: %s", epoch + 1, self.state.history[-1])
