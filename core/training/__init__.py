"""Training the LSTM: configs and presets, the data pipeline, the loop, checkpoints, the n-gram
baseline and fine-tuning from a base."""

from core.training.fine_tuning import fine_tuning_setup
from core.training.loop import TRAINING_PRESETS, TrainingConfig

__all__ = [
    "TRAINING_PRESETS",
    "TrainingConfig",
    "fine_tuning_setup",
]
