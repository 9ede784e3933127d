"""What a training run reports: the progress record `on_progress` receives, the result `train`
returns, and the run's final figures drawn from its state."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from core.training.checkpoints import TrainingState


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


def final_metrics(
    state: TrainingState,
    *,
    vocab_size: int,
    train_windows: int,
    valid_tokens: int,
    parameters: int,
    heldout_pieces: int = 0,
    heldout_notes: int = 0,
) -> dict[str, Any]:
    """The figures of a run: best validation scores, the baseline beside them, and history.

    `heldout_pieces` and `heldout_notes` say how much music the held-out scores rest on.
    """
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
        "heldout_pieces": heldout_pieces,
        "heldout_notes": heldout_notes,
        "parameters": parameters,
        "start_val_perplexity": state.start.get("val_perplexity", math.nan),
        # Fine-tuning where no round beat the base on the held-out pieces: the saved weights
        # are the base's, unchanged.
        "kept_base_weights": bool(state.start) and state.best_epoch == 0,
        "start": state.start,
        "history": history,
    }
