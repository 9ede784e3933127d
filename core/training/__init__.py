"""Training the LSTM: configs and presets, the data pipeline, the loop, checkpoints, the n-gram
baseline and fine-tuning from a base."""

from core.training.config import TrainingConfig
from core.training.fine_tuning import fine_tuning_setup
from core.training.presets import TRAINING_PRESETS

__all__ = [
    "TRAINING_PRESETS",
    "TrainingConfig",
    "fine_tuning_setup",
]
