"""The figures of an evaluation as plain sentences, for people who cannot read music."""

from __future__ import annotations

import math
from typing import Any

from core.evaluation.degeneracy import FLAG_BAR_REPEATS
from core.evaluation.form import form_sentence
from core.evaluation.records import EvaluationReport, ModelFigures
from core.evaluation.style_check import StyleCheck
from core.model.training_notes import COPY_FLAG_BARS, WINDOW_NOTES

# Within these of the real music's value, a figure reads as "about the same".
SAME_SCALE_CONSISTENCY = 0.03
SAME_ENTROPY_BITS = 0.10
GOOD_OVERLAP_RATIO = 0.9  # share of the real-vs-real overlap that reads as "like real music"
# Held-out music of one piece, or of fewer notes than this, gives an uncertain figure.
UNCERTAIN_HELDOUT_NOTES = 500

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
    """In plain words: does the model predict held-out music better than the built-in model it
    started from (when fine-tuned) and than a note-counting model, and how much music that
    judgement rests on."""
    if figures is None or not _finite(figures.val_perplexity):
        return "No held-out figures were recorded for this model."
    return " ".join(s for s in (_prediction_sentence(figures), heldout_sentence(figures)) if s)


def start_perplexity(figures: ModelFigures) -> float:
    """The built-in model's score on the same held-out music before training; NaN: not a
    fine-tuned model (or not recorded)."""
    value = figures.start.get("val_perplexity", math.nan) if figures.fine_tuned_from else math.nan
    return float(value) if _finite(value) else math.nan


def model_is_better(figures: ModelFigures | None) -> bool:
    """The verdict is good news: better than the built-in model it started from (fine-tuned)
    or than the note-counting model (from scratch)."""
    if figures is None:
        return False
    base = start_perplexity(figures)
    if _finite(base):
        return not figures.kept_base_weights and figures.val_perplexity < base
    return figures.perplexity_ratio < 1.0


def _prediction_sentence(figures: ModelFigures) -> str:
    mine, counting = figures.val_perplexity, figures.baseline_perplexity
    base = start_perplexity(figures)
    if _finite(base):
        if figures.kept_base_weights:
            first = (
                "Your model predicts your held-out music no better than the built-in model did "
                f"({base:.2f}), so the saved model is the built-in model, unchanged: it "
                "plays the built-in model's music, not yet yours. More pieces of your music "
                "may help."
            )
        else:
            better = "better" if mine < base else "no better"
            first = (
                f"Your model predicts your held-out music {better} than the built-in model did "
                f"({mine:.2f} vs {base:.2f}; lower is better)."
            )
        if not _finite(counting):
            return first
        beats = "yours does better" if mine < counting else "yours does not beat it yet"
        return f"{first} A simple note-counting model scores {counting:.2f}: {beats}."
    if not _finite(counting):
        return f"Your model scores {mine:.2f} on music it never saw (lower is better)."
    if mine < counting:
        return (
            "Your model predicts music it never saw better than a simple note-counting model "
            f"({mine:.2f} vs {counting:.2f}; lower is better)."
        )
    return (
        "Your model predicts music it never saw no better than a simple note-counting model yet "
        f"({mine:.2f} vs {counting:.2f}; lower is better). Starting from the built-in model, "
        "more music or longer training would help."
    )


def heldout_sentence(figures: ModelFigures) -> str:
    """How much music the held-out figures rest on, and whether that is too little to trust;
    "" when the folder did not record it."""
    pieces, notes = figures.heldout_pieces, figures.heldout_notes
    if not pieces:
        return ""
    size = f"{pieces} piece{'' if pieces == 1 else 's'}" + (f" ({notes:,} notes)" if notes else "")
    text = f"Judged on {size} you did not train on."
    if pieces == 1 or (notes and notes < UNCERTAIN_HELDOUT_NOTES):
        text += (
            " That is little music, so the figure is uncertain: other pieces could give a "
            "different one."
        )
    if figures.heldout_transcribed:
        text += (
            " The held-out music is itself a transcription of audio, so the figure can flatter "
            "the model: it may have learned the transcription's mistakes along with the music."
        )
    return text


# A style-check figure within these of the built-in model's distance to the real music reads
# as "about as near".
STYLE_CHECK_TOLERANCES = {"polyphony": 0.05, "pitch_range": 1.0, "notes_per_beat": 0.1}


def writes_more_like(check: StyleCheck) -> int:
    """1: the model's pieces are nearer the real music than the built-in model's on more of the
    figures than they are farther; -1: the other way round; 0: about the same."""
    votes = [
        triple.closer(tolerance=STYLE_CHECK_TOLERANCES.get(name, 0.0))
        for name, triple in check.figures.items()
    ]
    return (sum(votes) > 0) - (sum(votes) < 0)


def style_check_sentence(check: StyleCheck) -> str:
    """Does the model now write more like the user's music than the built-in model, with the
    figures (the user's music, the built-in model's, the model's)."""
    opening = {
        1: "Your model now writes more like your music than the built-in model does",
        0: "Your model writes about like the built-in model, not yet more like your music",
        -1: "Your model does not write more like your music than the built-in model yet",
    }[writes_more_like(check)]
    parts = _style_parts(check)
    return f"{opening}: {'; '.join(parts)}." if parts else f"{opening}."


def style_figures(check: StyleCheck) -> str:
    """The style check's figures alone, as a sentence to show under the headline ("Notes at
    once — your music 1.0, the built-in model 1.4, your model 1.0; range ..."); "" for none."""
    sentence = "; ".join(_style_parts(check))
    return f"{sentence[:1].upper()}{sentence[1:]}." if sentence else ""


def _style_parts(check: StyleCheck) -> list[str]:
    parts = []
    figures = check.figures
    if "polyphony" in figures:
        f = figures["polyphony"]
        parts.append(
            f"notes at once — your music {f.real:.1f}, the built-in model {f.base:.1f}, "
            f"your model {f.model:.1f}"
        )
    if "pitch_range" in figures:
        f = figures["pitch_range"]
        parts.append(f"range {f.real:.0f} / {f.base:.0f} / {f.model:.0f} semitones")
    if "notes_per_beat" in figures:
        f = figures["notes_per_beat"]
        parts.append(f"notes per beat {f.real:.1f} / {f.base:.1f} / {f.model:.1f}")
    return parts


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
            "start_perplexity": start_perplexity(model),
            "beats_base": model_is_better(model) if _finite(start_perplexity(model)) else None,
            "heldout_pieces": model.heldout_pieces,
            "heldout_notes": model.heldout_notes,
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


def bars_text(start: int, end: int) -> str:
    """Where a passage lies, in words: "bar 12" or "bars 12–14"."""
    return f"bar {start}" if start == end else f"bars {start}–{end}"


def originality_sentence(report: EvaluationReport) -> str:
    figures = summary_figures(report)["originality"]
    count = len(report.originality)
    passage = figures["longest"]
    if passage is None:
        return (
            f"Original: none of its {count} piece(s) repeats even {WINDOW_NOTES} notes in a row "
            "from the training music."
        )
    bars = bars_text(passage["source_start_bar"], passage["source_end_bar"])
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
        **(
            {
                "form": form_sentence(
                    report.form["generated"],
                    report.form["real"],
                    real_pieces=len(report.real_degeneracy),
                )
            }
            if report.form
            else {}
        ),
    }
