"""Judging a model and its music: style against held-out real pieces, originality, degeneracy,
the report, its plain-words verdicts, and the first sentences the pages lead with."""

from core.evaluation.features import NOTE_LENGTH_LABELS
from core.evaluation.headlines import (
    Headline,
    model_headline,
    originality_words,
    set_headline,
    stuck_words,
    style_words,
)
from core.evaluation.records import EvaluationReport, ModelFigures
from core.evaluation.report import (
    DEFAULT_COUNT,
    FIRST_PIECE_SEED,
    SET_STAGE,
    check_model_folder,
    evaluate_model,
    evaluate_pieces,
    new_notes_in_key,
    piece_without_primer,
    prepare_evaluation,
    report_to_dict,
)
from core.evaluation.style_check import StyleCheck, read_style_check
from core.evaluation.training_story import (
    kept_sentence,
    stop_sentence,
    training_story,
    tunes_learned,
)
from core.evaluation.verdicts import (
    EXPLANATIONS,
    FEATURE_TITLES,
    GOOD_OVERLAP_RATIO,
    bars_text,
    heldout_sentence,
    model_is_better,
    model_verdict,
    style_check_sentence,
    style_figures,
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
    "SET_STAGE",
    "EvaluationReport",
    "Headline",
    "ModelFigures",
    "StyleCheck",
    "bars_text",
    "check_model_folder",
    "evaluate_model",
    "evaluate_pieces",
    "heldout_sentence",
    "kept_sentence",
    "model_headline",
    "model_is_better",
    "model_verdict",
    "new_notes_in_key",
    "originality_words",
    "piece_without_primer",
    "prepare_evaluation",
    "read_style_check",
    "report_to_dict",
    "set_headline",
    "stop_sentence",
    "stuck_words",
    "style_check_sentence",
    "style_figures",
    "style_words",
    "summary_sentences",
    "training_story",
    "tunes_learned",
    "writes_more_like",
]
