"""A training run's checkpoint: everything needed to continue it after a cancel or a crash.

`checkpoint_dir` holds the last round's model with its optimizer (`last.keras`), the best
weights so far (`best.weights.h5`) and the loop's state (`state.json`: rounds done, history,
early-stopping counters, the baseline's and the starting weights' scores), written atomically.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from core.config import Config
from core.storage.files import atomic_dir, atomic_write_json

if TYPE_CHECKING:
    import keras

LAST_MODEL_FILE = "last.keras"
BEST_WEIGHTS_FILE = "best.weights.h5"
STATE_FILE = "state.json"
# The weights a checkpoint holds, in copies of the network's: last.keras has them with Adam's
# two moments of each (3), best.weights.h5 once more (1). Measured for the base model's shape:
# 23.4 MB and 7.8 MB beside a 7.8 MB model.keras.
CHECKPOINT_WEIGHT_COPIES = 4


@dataclass
class TrainingState(Config):
    """Everything besides the weights that a resumed run needs."""

    epochs_done: int = 0
    history: list[dict[str, float]] = field(default_factory=list)
    best_val_loss: float = math.inf
    best_epoch: int = 0
    wait: int = 0
    stopped_early: bool = False
    baseline: dict[str, float] = field(default_factory=dict)
    # Held-out scores of the starting weights of a fine-tuning run ("epoch 0"): when no round
    # beats them, the base's weights are the best ones and are what gets saved.
    start: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:  # JSON has no infinity: "no best yet" is null
        data = super().to_dict()
        data["best_val_loss"] = None if math.isinf(self.best_val_loss) else self.best_val_loss
        return data

    @classmethod
    def _from_plain(cls, values: dict[str, Any]) -> dict[str, Any]:
        best = values.get("best_val_loss")
        return {**values, "best_val_loss": math.inf if best is None else float(best)}


def checkpoint_bytes(weights_file_bytes: int) -> int:
    """The size of a checkpoint of a network whose weights file takes `weights_file_bytes`
    (`core.model.folder.weights_file_bytes`)."""
    return CHECKPOINT_WEIGHT_COPIES * weights_file_bytes


def has_checkpoint(checkpoint_dir: Path) -> bool:
    return all((Path(checkpoint_dir) / n).is_file() for n in (LAST_MODEL_FILE, STATE_FILE))


def read_checkpoint_state(checkpoint_dir: Path) -> TrainingState | None:
    path = Path(checkpoint_dir) / STATE_FILE
    if not path.is_file():
        return None
    return TrainingState.from_dict(json.loads(path.read_text()))


def write_checkpoint(
    checkpoint_dir: Path, model: keras.Model, best_model: keras.Model, state: TrainingState
) -> None:
    with atomic_dir(checkpoint_dir) as tmp:
        model.save(tmp / LAST_MODEL_FILE)
        best_model.save_weights(tmp / BEST_WEIGHTS_FILE)
        atomic_write_json(tmp / STATE_FILE, state.to_dict())
