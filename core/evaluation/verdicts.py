"""The figures of an evaluation as plain sentences, for people who cannot read music."""

from __future__ import annotations

import math
from typing import Any

from core.evaluation.degeneracy import FLAG_BAR_REPEATS
from core.evaluation.records import EvaluationReport, ModelFigures
from core.model.training_notes import COPY_FLAG_BARS, WINDOW_NOTES

# Within these of the real music's value, a figure reads as "about the same".
SAME_SCALE_CONSISTENCY = 0.03
SAME_ENTROPY_BITS = 0.10
GOOD_OVERLAP_RATIO = 0.9  # share of the real-vs-real overlap that reads as "like real music"

# "What does this mean", one line per figure, for the page and the CLI's text output.
EXPLANATIONS: dict[str, str] = {
    "perplexity": "How surprised the model is, on average, by each next note of music it never "
    "saw. Lower is better; 1 would be never surprised.",
    "baseline": "A simple counting model (an n-gram) that predicts the next note from the last "
    "few. A trained network should beat it; if it does not, it has not learned much more than "
    "counting.",
    "accuracy": "How often the model's single best guess for the next note is right.",
    "scale_consistency": "How much of a piece fits one major or minor scale. Music that stays in "
    "a key scores near 1; notes picked at random score about 0.6.",
    "pitch_class_entropy": "How evenly a piece uses the twelve notes of the octave, in bits. Music "
    "in a key uses some notes much more than others (about 3); all twelve equally is 3.58.",
    "groove_consistency": "How alike the rhythm of neighbouring bars is (1: every bar has its "
    "notes at the same places).",
    "empty_beat_rate": "The share of beats where nothing plays.",
    "pitch_range": "Semitones from the lowest note to the highest.",
    "inter_onset_interval": "The average time between one note start and the next, in beats.",
    "polyphony": "How many notes sound at once, on average, when something sounds.",
    "notes_per_beat": "How busy the music is: notes started per beat.",
    "pitch_class_histogram": "Which of the twelve notes of the octave a piece uses, and how often.",
    "note_length_histogram": "How many notes are short, medium or long.",
    "overlap": "For each feature, how much the spread of differences between generated and real "
    "pieces overlaps the spread between real pieces themselves (1: indistinguishable). Shown as "
    "a share of what two halves of the real music reach against each other.",
    "copied": "The longest stretch of a piece that appears note for note (in any key) in one "
    f"piece of the training music. {COPY_FLAG_BARS:g} bars or more is flagged as copied. "
    "While it writes, the app breaks a copy off before that by taking the model's next choice "
    "of note, so the share of stretches found (below) is what shows how much a model leans on "
    "its training music.",
    "found_share": f"The share of a piece's {WINDOW_NOTES}-note stretches that appear anywhere in "
    "the training music. Some is normal (scales, cadences); most of a piece is copying.",
    "degeneracy": "A piece that gets stuck: one note struck over and over, one bar "
    f"repeated {FLAG_BAR_REPEATS} or more times in a row, or one symbol making up half of it.",
}

FEATURE_TITLES: dict[str, str] = {
    "scale_consistency": "staying in one key",
    "pitch_class_entropy": "spread over the 12 notes",
    "groove_consistency": "steady rhythm from bar to bar",
    "empty_beat_rate": "silent beats",
    "pitch_range": "range from low to high",
    "inter_onset_interval": "time between notes",
    "polyphony": "notes at once",
    "notes_per_beat": "notes per beat",
    "pitch_class_histogram": "which notes it uses",
    "note_length_histogram": "note lengths",
}


def _finite(value: float) -> bool:
    return isinstance(value, int | float) and math.isfinite(value)


def model_verdict(figures: ModelFigures | None) -> str:
    """One line: does the model beat the n-gram baseline on held-out music, and by how much."""
    if figures is None or not _finite(figures.perplexity_ratio):
        return "No held-out figures were recorded for this model."
    ratio = figures.perplexity_ratio
    numbers = (
        f"perplexity {figures.val_perplexity:.2f} vs {figures.baseline_perplexity:.2f} for a "
        f"{figures.baseline_order or 4}-gram counting model"
    )
    if ratio < 1.0:
        return (
            f"Better than the simple baseline: on music it never saw it is {1 - ratio:.0%} less "
            f"surprised than a note-counting model ({numbers})."
        )
    helps = (
        "More music or the thorough (longer) training would help."
        if figures.fine_tuned_from
        else "Starting from the pretrained base model, more music or longer training would help."
    )
    return (
        f"Not better than the simple baseline yet: on music it never saw it is {ratio - 1:.0%} "
        f"more surprised than a note-counting model ({numbers}). {helps}"
    )


def summary_figures(report: EvaluationReport) -> dict[str, Any]:
    style = report.style
    overlaps = style.overlaps
    ratios = {k: v.ratio for k, v in overlaps.items() if _finite(v.ratio)}
    worst = min(ratios, key=lambda k: ratios[k]) if ratios else None
    originality = report.originality
    longest = max(originality, key=lambda o: o.longest_bars, default=None)
    flagged = sum(o.flagged for o in originality)
    degenerate = [d for d in report.degeneracy if d.flagged]
    model = report.model
    return {
        "pieces": len(report.pieces),
        "model": None
        if model is None
        else {
            "val_perplexity": model.val_perplexity,
            "baseline_perplexity": model.baseline_perplexity,
            "perplexity_ratio": model.perplexity_ratio,
            "beats_baseline": model.perplexity_ratio < 1.0,
        },
        "style": {
            **{k: v.to_dict() for k, v in style.metrics.items()},
            "overlap_ratio_mean": sum(ratios.values()) / len(ratios) if ratios else None,
            "overlap_ratio_min": ratios[worst] if worst else None,
            "overlap_ratio_min_feature": worst,
        },
        "originality": {
            "longest_bars": longest.longest_bars if longest else 0.0,
            "longest_notes": longest.longest_notes if longest else 0,
            "longest_piece": longest.name if longest and longest.longest else None,
            "longest": longest.longest.to_dict() if longest and longest.longest else None,
            "flagged": flagged,
            "share_under_flag": 1 - flagged / len(originality) if originality else None,
            "found_share_mean": sum(o.found_share for o in originality) / len(originality)
            if originality
            else None,
        },
        "degeneracy": {
            "flagged": len(degenerate),
            "top_token_share_mean": sum(d.top_token_share for d in report.degeneracy)
            / max(len(report.degeneracy), 1),
            "longest_bar_run": max((d.longest_bar_run for d in report.degeneracy), default=0),
            "longest_note_run": max((d.longest_note_run for d in report.degeneracy), default=0),
        },
    }


def key_sentence(report: EvaluationReport) -> str:
    metrics = report.style.metrics
    sc = metrics["scale_consistency"]
    pce = metrics["pitch_class_entropy"]
    return (
        f"Its pieces stay in one key {_relation(sc.generated, sc.real, SAME_SCALE_CONSISTENCY)} "
        f"the real music ({sc.generated:.2f} vs {sc.real:.2f}); they use the twelve notes "
        f"{_relation(pce.generated, pce.real, SAME_ENTROPY_BITS, 'evenly')} "
        f"it does ({pce.generated:.2f} vs {pce.real:.2f} bits)."
    )


def _relation(generated: float, real: float, tolerance: float, what: str = "often") -> str:
    """ "about as often as", "more often than" or "less often than"."""
    if not (_finite(generated) and _finite(real)):
        return f"(cannot compare how {what}) with"
    if abs(generated - real) <= tolerance:
        return f"about as {what} as"
    return f"{'more' if generated > real else 'less'} {what} than"


def style_sentence(report: EvaluationReport) -> str:
    figures = summary_figures(report)["style"]
    text = key_sentence(report)
    mean = figures["overlap_ratio_mean"]
    if mean is None:
        return f"{text} {report.style.note.capitalize()}."
    worst = figures["overlap_ratio_min_feature"]
    overall = "like the real music" if mean >= GOOD_OVERLAP_RATIO else "unlike the real music"
    return (
        f"{text} Overall its style is {overall}: {mean:.0%} of the overlap real pieces reach "
        f"with each other, weakest on {FEATURE_TITLES.get(worst, worst)} "
        f"({figures['overlap_ratio_min']:.0%})."
    )


def originality_sentence(report: EvaluationReport) -> str:
    figures = summary_figures(report)["originality"]
    count = len(report.originality)
    passage = figures["longest"]
    if passage is None:
        return (
            f"Original: none of its {count} piece(s) repeats even {WINDOW_NOTES} notes in a row "
            "from the training music."
        )
    bars = (
        f"bar {passage['source_start_bar']}"
        if passage["source_start_bar"] == passage["source_end_bar"]
        else f"bars {passage['source_start_bar']}–{passage['source_end_bar']}"
    )
    flagged = figures["flagged"]
    verdict = (
        "Original"
        if not flagged
        else f"{flagged} of {count} piece(s) copy {COPY_FLAG_BARS:g} bars or more"
    )
    return (
        f"{verdict}: the longest passage copied from the training music is "
        f"{passage['bars']:.1f} bars ({passage['notes']} notes), from {passage['source']}, "
        f"{bars} (in {figures['longest_piece']}). On average {figures['found_share_mean']:.0%} "
        f"of a piece's {WINDOW_NOTES}-note stretches appear somewhere in the training music."
    )


def degeneracy_sentence(report: EvaluationReport) -> str:
    stuck = [d for d in report.degeneracy if d.flagged]
    if not stuck:
        return "None of its pieces gets stuck repeating one note or one bar."
    worst = max(stuck, key=lambda d: (d.longest_bar_run, d.longest_note_run))
    return (
        f"{len(stuck)} of {len(report.degeneracy)} piece(s) get stuck: {worst.name} repeats one "
        f"bar {worst.longest_bar_run} times and one note {worst.longest_note_run} times in a row."
    )


def summary_sentences(report: EvaluationReport) -> dict[str, str]:
    """One line per area, for the top of the page and the CLI."""
    return {
        "model": model_verdict(report.model),
        "style": style_sentence(report),
        "originality": originality_sentence(report),
        "degeneracy": degeneracy_sentence(report),
    }
