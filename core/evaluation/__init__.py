"""Judging a model and its music: style against held-out real pieces, originality, degeneracy,
the report and its plain-words verdicts."""

from core.evaluation.features import NOTE_LENGTH_LABELS
from core.evaluation.report import (
    DEFAULT_COUNT,
    DEFAULT_SEED,
    PIECE_TEMPO_BPM,
    EvaluationReport,
    ModelFigures,
    check_model_folder,
    evaluate_model,
    evaluate_pieces,
    new_notes_in_key,
    piece_without_primer,
)
from core.evaluation.verdicts import EXPLANATIONS, FEATURE_TITLES, GOOD_OVERLAP_RATIO, model_verdict

__all__ = [
    "DEFAULT_COUNT",
    "DEFAULT_SEED",
    "EXPLANATIONS",
    "FEATURE_TITLES",
    "GOOD_OVERLAP_RATIO",
    "NOTE_LENGTH_LABELS",
    "PIECE_TEMPO_BPM",
    "EvaluationReport",
    "ModelFigures",
    "check_model_folder",
    "evaluate_model",
    "evaluate_pieces",
    "model_verdict",
    "new_notes_in_key",
    "piece_without_primer",
]
