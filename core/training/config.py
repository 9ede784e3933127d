"""The training config: how to train a network (its shape is `core.model.network.ModelConfig`),
with the defaults it starts from and the schedules it derives (rounds, learning rates)."""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

from core.config import Config
from core.data.datasets import SPLIT_SEED
from core.errors import InvalidSettingError
from core.tokens.config import EncodingConfig
from core.training.ngram import DEFAULT_ORDER

DEFAULT_SEQUENCE_LENGTH = 128
DEFAULT_BATCH_SIZE = 32
DEFAULT_LEARNING_RATE = 3e-3
DEFAULT_EPOCHS = 30  # an upper bound: early stopping usually ends a run sooner
DEFAULT_PATIENCE = 3
DEFAULT_TRANSPOSE_SEMITONES = 5  # with augmentation: each window moved by -5..+5 semitones
DEFAULT_DECAY_FROM_FRACTION = 2 / 3
MIN_LEARNING_RATE_FRACTION = 0.1
# With a step budget, a round (one check on the held-out pieces) is at most `steps_per_round`
# steps but never more than one pass over the training windows, and never fewer steps than
# this: a handful of pieces is checked before it has been seen more than a few times. Data of
# `steps_per_round` batches or more keeps its rounds as they were (docs/training.md).
MIN_STEPS_PER_ROUND = 5


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
    # Random transposition of each training window. Off by default: on held-out pieces in their
    # own keys it costs perplexity (folk tunes sit in a few keys; figures in docs/training.md),
    # but it lets a model trained on few pieces play in every key.
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
            raise InvalidSettingError("sequence_length must be at least 2")
        if self.window_stride is not None and self.window_stride < 1:
            raise InvalidSettingError("window_stride must be at least 1")
        if self.batch_size < 1 or self.epochs < 1 or self.patience < 1:
            raise InvalidSettingError("batch_size, epochs and patience must be at least 1")
        if not 0 < self.learning_rate < 1:
            raise InvalidSettingError("learning_rate must be within (0, 1)")
        if not 0 <= self.transpose_semitones <= 12:
            raise InvalidSettingError("transpose_semitones must be within 0..12")
        if not 0.0 <= self.decay_from_fraction <= 1.0:
            raise InvalidSettingError("decay_from_fraction must be within 0..1")
        if self.max_batches_per_epoch is not None and self.max_batches_per_epoch < 1:
            raise InvalidSettingError("max_batches_per_epoch must be at least 1")
        if self.max_steps is not None and self.max_steps < 1:
            raise InvalidSettingError("max_steps must be at least 1")
        if self.steps_per_round is not None and self.steps_per_round < 1:
            raise InvalidSettingError("steps_per_round must be at least 1")
        if not 0.0 <= self.input_dropout < 1.0:
            raise InvalidSettingError("input_dropout must be within [0, 1)")

    def rounds(self, batches_per_pass: int) -> tuple[int, int]:
        """(steps per round, rounds): whole passes, or the step budget rounded up to rounds.

        With a budget a round is `steps_per_round` steps, cut to one pass over small data (but
        at least MIN_STEPS_PER_ROUND steps), so a tiny collection is checked early and often.
        """
        if self.max_steps is None:
            return batches_per_pass, self.epochs
        per_round = self.steps_per_round or batches_per_pass
        per_round = min(per_round, max(batches_per_pass, MIN_STEPS_PER_ROUND))
        per_round = min(per_round, self.max_steps)
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
