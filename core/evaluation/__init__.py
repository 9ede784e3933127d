"""Judging a model and its music: style against held-out real pieces, originality, degeneracy,
the report and its plain-words verdicts."""

from core.evaluation.features import NOTE_LENGTH_LABELS
from core.evaluation.records import EvaluationReport, ModelFigures
from core.evaluation.report import (
    DEFAULT_COUNT,
    FIRST_PIECE_SEED,
    check_model_folder,
    evaluate_model,
    evaluate_pieces,
    new_notes_in_key,
    piece_without_primer,
    report_to_dict,
)
from core.evaluation.style_check import StyleCheck, read_style_check
from core.evaluation.verdicts import (
    EXPLANATIONS,
    FEATURE_TITLES,
    GOOD_OVERLAP_RATIO,
    heldout_sentence,
    model_is_better,
    model_verdict,
    style_check_sentence,
    summary_sentences,
    writes_more_like,
)

__all__ = [
    "DEFAULT_COUNT",
    "EXPLANATIONS",
    "FEATURE_TITLES",
    "FIRST_PIECE_SEED",
    "GOOD_OVERLAP_RATIO",
    "NOTE_LENGTH_LABELS",
    "EvaluationReport",
    "ModelFigures",
    "StyleCheck",
    "check_model_folder",
    "evaluate_model",
    "evaluate_pieces",
    "heldout_sentence",
    "model_is_better",
    "model_verdict",
    "new_notes_in_key",
    "piece_without_primer",
    "read_style_check",
    "report_to_dict",
    "style_check_sentence",
    "summary_sentences",
    "writes_more_like",
]
