"""Does a set of generated pieces sound like the real music the model learned from?

Generated pieces are compared with the held-out real pieces of the model's data, per piece and
per set: MusPy's metrics as set means beside the real set's, and for each style feature the
overlapping area (OA) of real-vs-generated distances with real-vs-real distances. The
reference is always real against real: the held-out pieces split into two halves give the OA
real music itself reaches, so a figure reads as "x% of what real music gets".
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from core.errors import EvaluationError
from core.evaluation.features import (
    MIN_NOTES,
    MUSPY_METRICS,
    STYLE_FEATURES,
    PieceFigures,
    piece_figures,
)
from core.evaluation.overlap import distances_between, distances_within, overlapping_area
from core.music.piece import Piece

MIN_REAL_PIECES_FOR_OVERLAP = 4  # two halves of at least two pieces each
# Set means shown beside the real set's: MusPy's metrics and the scalar style features.
COMPARED_METRICS = (
    *MUSPY_METRICS,
    "pitch_range",
    "inter_onset_interval",
    "polyphony",
    "notes_per_beat",
)


@dataclass(frozen=True)
class MetricComparison:
    """A set mean of one metric, generated beside real."""

    metric: str
    generated: float
    real: float

    @property
    def ratio(self) -> float:
        return self.generated / self.real if self.real else math.nan

    def to_dict(self) -> dict[str, float]:
        return {"generated": self.generated, "real": self.real, "ratio": self.ratio}


@dataclass(frozen=True)
class FeatureOverlap:
    """OA of one feature: generated against real, and real against real (the reference)."""

    feature: str
    generated: float
    reference: float

    @property
    def ratio(self) -> float:
        """Share of the real-vs-real OA the generated set reaches."""
        return self.generated / self.reference if self.reference > 0 else math.nan

    def to_dict(self) -> dict[str, float]:
        return {"generated": self.generated, "reference": self.reference, "ratio": self.ratio}


@dataclass(frozen=True)
class StyleReport:
    generated: tuple[PieceFigures, ...]
    real: tuple[PieceFigures, ...]
    metrics: dict[str, MetricComparison]
    overlaps: dict[str, FeatureOverlap] = field(default_factory=dict)
    note: str = ""  # why there are no overlaps, when there are none

    def to_dict(self) -> dict[str, Any]:
        return {
            "metrics": {k: v.to_dict() for k, v in self.metrics.items()},
            "overlaps": {k: v.to_dict() for k, v in self.overlaps.items()},
            "note": self.note,
            "real_pieces": len(self.real),
            "generated_pieces": len(self.generated),
            "per_piece": [f.to_dict() for f in self.generated],
        }


def set_mean(figures: Sequence[PieceFigures], metric: str) -> float:
    values = np.array([getattr(f, metric) for f in figures], dtype=np.float64)
    values = values[~np.isnan(values)]
    return float(values.mean()) if len(values) else math.nan


def split_halves(pieces: Sequence[PieceFigures]) -> tuple[list[PieceFigures], list[PieceFigures]]:
    """Alternate pieces, in name order, into two halves (deterministic)."""
    ordered = sorted(pieces, key=lambda f: f.name)
    return ordered[0::2], ordered[1::2]


def feature_overlap(
    real: Sequence[PieceFigures],
    generated: Sequence[PieceFigures],
    feature: str,
    *,
    same: Sequence[tuple[int, int]] = (),
) -> FeatureOverlap:
    """OA of one feature for the generated set, and for the two halves of the real set."""
    real_vectors = [f.feature_vector(feature) for f in real]
    generated_vectors = [f.feature_vector(feature) for f in generated]
    within_real = distances_within(real_vectors)
    to_generated = distances_between(real_vectors, generated_vectors, same=same)
    half_a, half_b = split_halves(real)
    a = [f.feature_vector(feature) for f in half_a]
    b = [f.feature_vector(feature) for f in half_b]
    within_halves = np.concatenate([distances_within(a), distances_within(b)])
    return FeatureOverlap(
        feature=feature,
        generated=overlapping_area(within_real, to_generated),
        reference=overlapping_area(within_halves, distances_between(a, b)),
    )


def compare_style(
    generated: Sequence[Piece],
    real: Sequence[Piece],
    *,
    real_figures: Sequence[PieceFigures] | None = None,
    generated_figures: Sequence[PieceFigures] | None = None,
) -> StyleReport:
    """Generated pieces against real ones (real pieces too short to judge are left out).

    `real_figures`, when cached, must be `real_set_figures(real)`; `generated_figures`, when
    measured already, `piece_figures` of each generated piece.

    Raises:
        EvaluationError: either set is empty, or a piece has too few notes to judge.
    """
    if not generated:
        raise EvaluationError("no generated pieces to judge (the set is empty)")
    if not real:
        raise EvaluationError("no real pieces to compare with (the held-out set is empty)")
    gen_figures = (
        tuple(generated_figures)
        if generated_figures is not None
        else tuple(piece_figures(p) for p in generated)
    )
    if len(gen_figures) != len(generated):
        raise ValueError("generated_figures must be one per generated piece")
    real = usable_real_pieces(real)
    real_figs = tuple(real_figures) if real_figures is not None else real_set_figures(real)
    if len(real_figs) != len(real):
        raise ValueError("real_figures must belong to usable_real_pieces(real)")
    metrics = {
        m: MetricComparison(m, set_mean(gen_figures, m), set_mean(real_figs, m))
        for m in COMPARED_METRICS
    }
    if len(real_figs) < MIN_REAL_PIECES_FOR_OVERLAP:
        note = (
            f"only {len(real_figs)} held-out real piece(s): at least "
            f"{MIN_REAL_PIECES_FOR_OVERLAP} are needed to compare distributions"
        )
        return StyleReport(gen_figures, real_figs, metrics, note=note)
    same = [
        (i, j)
        for j, g in enumerate(generated)
        for i, r in enumerate(real)
        if g.notes == r.notes and g.steps_per_quarter == r.steps_per_quarter
    ]
    overlaps = {
        feature: feature_overlap(real_figs, gen_figures, feature, same=same)
        for feature in STYLE_FEATURES
    }
    return StyleReport(gen_figures, real_figs, metrics, overlaps)


def usable_real_pieces(real: Sequence[Piece]) -> list[Piece]:
    """The real pieces long enough to judge (a short held-out piece is left out, not an error)."""
    return [p for p in real if len(p.notes) >= MIN_NOTES]


def real_set_figures(real: Sequence[Piece]) -> tuple[PieceFigures, ...]:
    """Figures of `usable_real_pieces(real)`."""
    return tuple(piece_figures(p) for p in usable_real_pieces(real))
