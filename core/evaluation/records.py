"""The records of one evaluation: a model's held-out figures and the judged set of pieces."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from core.evaluation.degeneracy import Degeneracy
from core.evaluation.style import StyleReport
from core.model.training_notes import Originality
from core.music.piece import Piece


@dataclass(frozen=True)
class ModelFigures:
    """Held-out scores from training, beside the n-gram baseline's on the same tokens."""

    name: str
    dataset: str
    val_loss: float
    val_perplexity: float
    val_accuracy: float
    baseline_loss: float
    baseline_perplexity: float
    baseline_accuracy: float
    baseline_order: int
    epochs_run: int
    best_epoch: int
    history: tuple[dict[str, float], ...] = ()
    fine_tuned_from: str = ""  # the base model's name, "" when trained from scratch
    start: dict[str, float] = field(default_factory=dict)  # the base's scores before training
    kept_base_weights: bool = False  # no round beat the base: the saved weights are the base's
    heldout_pieces: int = 0  # how much music the held-out scores rest on (0: not recorded)
    heldout_notes: int = 0
    heldout_transcribed: bool = False  # some held-out music is a transcription of audio
    stopped_early: bool = False  # it stopped before its last round: no longer improving

    @property
    def perplexity_ratio(self) -> float:
        if not self.baseline_perplexity:
            return math.nan
        return self.val_perplexity / self.baseline_perplexity

    @classmethod
    def from_metrics(cls, name: str, metrics: dict[str, Any]) -> ModelFigures | None:
        """None when the metrics hold no held-out scores (a model from elsewhere)."""

        def number(key: str) -> float:
            value = metrics.get(key)
            return float(value) if isinstance(value, int | float) else math.nan

        def count(key: str) -> int:
            value = number(key)
            return int(value) if math.isfinite(value) and value > 0 else 0

        if not isinstance(metrics, dict) or math.isnan(number("val_perplexity")):
            return None
        history = metrics.get("history", [])
        return cls(
            name=name,
            dataset=str(metrics.get("dataset", "")),
            val_loss=number("val_loss"),
            val_perplexity=number("val_perplexity"),
            val_accuracy=number("val_accuracy"),
            baseline_loss=number("baseline_loss"),
            baseline_perplexity=number("baseline_perplexity"),
            baseline_accuracy=number("baseline_accuracy"),
            baseline_order=int(number("baseline_order")) if metrics.get("baseline_order") else 0,
            epochs_run=int(number("epochs_run")) if metrics.get("epochs_run") else 0,
            best_epoch=int(number("best_epoch")) if metrics.get("best_epoch") else 0,
            history=tuple(h for h in history if isinstance(h, dict))
            if isinstance(history, list)
            else (),
            fine_tuned_from=str(metrics.get("fine_tuned_from") or ""),
            start=dict(metrics["start"]) if isinstance(metrics.get("start"), dict) else {},
            kept_base_weights=_kept_base_weights(metrics),
            heldout_pieces=count("heldout_pieces"),
            heldout_notes=count("heldout_notes"),
            heldout_transcribed=bool(metrics.get("heldout_transcribed")),
            stopped_early=metrics.get("stopped_early") is True,
        )

    def to_dict(self) -> dict[str, Any]:
        data = {k: v for k, v in self.__dict__.items() if k != "history"}
        data["perplexity_ratio"] = self.perplexity_ratio
        data["history"] = list(self.history)
        return data


def _kept_base_weights(metrics: dict[str, Any]) -> bool:
    """A fine-tuning whose saved weights are the base's (no round beat them). Folders saved
    before `kept_base_weights` was recorded say so by their best round being round 0."""
    if "kept_base_weights" in metrics:
        return bool(metrics["kept_base_weights"])
    return (
        bool(metrics.get("fine_tuned_from"))
        and bool(metrics.get("start"))
        and metrics.get("best_epoch") == 0
    )


@dataclass(frozen=True)
class EvaluationReport:
    model_name: str
    model: ModelFigures | None
    pieces: tuple[Piece, ...]
    style: StyleReport
    originality: tuple[Originality, ...]
    degeneracy: tuple[Degeneracy, ...]
    real_degeneracy: tuple[Degeneracy, ...]
    skipped: tuple[str, ...] = ()  # one line per piece left out, naming it
    generation: dict[str, Any] = field(default_factory=dict)  # count, seed, settings
    # How often bars come back 1, 2, 4 and 8 bars later (`core.evaluation.form`): of the
    # generated pieces ("generated") and of the held-out ones cut to their length ("real").
    form: dict[str, dict[int, float]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """Every figure (`core.evaluation.report.report_to_dict` adds the verdicts); a figure that
        does not exist (NaN) is None, so the JSON is strict."""
        return without_nan(
            {
                "model_name": self.model_name,
                "model": self.model.to_dict() if self.model else None,
                "generation": self.generation,
                "skipped": list(self.skipped),
                "style": self.style.to_dict(),
                "originality": [o.to_dict() for o in self.originality],
                "degeneracy": [d.to_dict() for d in self.degeneracy],
                "real_degeneracy": _mean_degeneracy(self.real_degeneracy),
                "form": {
                    side: {str(d): v for d, v in profile.items()}
                    for side, profile in self.form.items()
                },
            }
        )


def without_nan(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: without_nan(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [without_nan(v) for v in value]
    return value


def _mean_degeneracy(items: Sequence[Degeneracy]) -> dict[str, float]:
    if not items:
        return {}
    return {
        "top_token_share": float(np.mean([d.top_token_share for d in items])),
        "longest_note_run": float(max(d.longest_note_run for d in items)),
        "longest_bar_run": float(max(d.longest_bar_run for d in items)),
    }
