"""The ways of training the app offers (quick and thorough): for each, the settings for
fine-tuning the base model and those for training from scratch."""

from __future__ import annotations

from dataclasses import dataclass, replace

from core.model.network import ModelConfig
from core.training.config import DEFAULT_LEARNING_RATE, TrainingConfig


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


# Quick is a budget of steps, so it takes about the same time whatever the data's size; the
# budget is sized to the base's speed on this project's CPU (docs/training.md, "Training length
# as a budget"). Fine-tuning starts from a model that already knows music, so it uses a lower
# learning rate than training from scratch.
QUICK_STEPS = 280
# At most: a collection smaller than 40 batches is checked after every pass over it (at least
# MIN_STEPS_PER_ROUND steps), so a handful of pieces is not overfitted before the first check.
QUICK_STEPS_PER_ROUND = 40
FINE_TUNING_LEARNING_RATE = 1e-3
# The thorough preset hides a tenth of the input tokens (`TrainingConfig.input_dropout`): the
# network learns from more of the context and overfits later (docs/training.md, "Decisions,
# measured"). The quick preset's short budget has no room for the slower start.
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
