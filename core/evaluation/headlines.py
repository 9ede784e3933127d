"""The first sentences the Train and Evaluate pages lead with: plain words a person who cannot
read music can act on, with no figure and no machine-learning term. The figures behind each
one are `core.evaluation.verdicts`' sentences: the style check's right under the headline
(`verdicts.style_figures`), the rest under "details".
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from core.evaluation.records import EvaluationReport, ModelFigures
from core.evaluation.style import MIN_REAL_PIECES_FOR_OVERLAP
from core.evaluation.style_check import StyleCheck
from core.evaluation.verdicts import (
    FEATURE_TITLES,
    GOOD_OVERLAP_RATIO,
    SAME_SCALE_CONSISTENCY,
    model_is_better,
    start_perplexity,
    writes_more_like,
)
from core.model.training_notes import COPY_FLAG_BARS

# What to do when a model does not yet write like its music: measured, 5 string-quartet
# excerpts moved nothing and 15 did (`bench your_style_piano`, docs/benchmarks.md).
MORE_MUSIC_HELPS = "More pieces of your music, of the same kind, would help it learn."


@dataclass(frozen=True)
class Headline:
    """A sentence, and whether it is good news (the pages colour it)."""

    text: str
    good: bool


def model_headline(
    figures: ModelFigures | None, check: StyleCheck | None = None, *, mine: bool = True
) -> Headline:
    """Does the model write more like its music than the built-in one (when the training
    measured it), else does it predict its music better than where it started. `mine`: the
    visitor's own model ("Your model"), else a bundled one ("This model")."""
    subject = "Your model" if mine else "This model"
    if check is not None:
        verdict = writes_more_like(check)
        text = {
            1: f"{subject} now writes more like your music than the built-in one.",
            0: f"{subject} writes about like the built-in one: not yet more like your music.",
            -1: f"{subject} does not write more like your music than the built-in one yet.",
        }[verdict]
        if verdict <= 0 and mine:
            text += f" {MORE_MUSIC_HELPS}"
        return Headline(text, verdict > 0)
    if figures is None or not math.isfinite(figures.val_perplexity):
        return Headline(f"{subject} carries no record of how well it learned.", False)
    music = "your music" if mine else "its music"
    if math.isfinite(start_perplexity(figures)):
        if figures.kept_base_weights:
            return Headline(
                "Training did not improve on the built-in model, so your model is the built-in "
                "one, unchanged: it plays the built-in model's music, not yet yours. More of "
                "your music would help.",
                False,
            )
        if model_is_better(figures):
            return Headline(
                f"{subject} has learned {music}: it guesses the next notes of pieces it never "
                "saw better than the built-in model it started from.",
                True,
            )
        return Headline(
            f"{subject} has not learned {music} better than the built-in model it started from "
            "yet: more music or longer training would help.",
            False,
        )
    if model_is_better(figures):
        return Headline(
            f"{subject} has learned more than simply counting which notes follow which.", True
        )
    return Headline(
        f"{subject} has not learned more than simply counting which notes follow which yet: "
        "starting from the built-in model, more music or longer training would help.",
        False,
    )


def _overlap_mean(report: EvaluationReport) -> tuple[float | None, str | None]:
    ratios = {k: v.ratio for k, v in report.style.overlaps.items() if math.isfinite(v.ratio)}
    if not ratios:
        return None, None
    worst = min(ratios, key=lambda k: ratios[k])
    return sum(ratios.values()) / len(ratios), worst


def sounds_like(report: EvaluationReport) -> bool | None:
    """Its pieces sound like the real music overall; None: too few real pieces to tell."""
    mean, _ = _overlap_mean(report)
    return None if mean is None else mean >= GOOD_OVERLAP_RATIO


def style_words(report: EvaluationReport) -> str:
    mean, worst = _overlap_mean(report)
    sc = report.style.metrics["scale_consistency"]
    if math.isfinite(sc.generated) and math.isfinite(sc.real):
        if abs(sc.generated - sc.real) <= SAME_SCALE_CONSISTENCY:
            key = "it stays in key as much as the real music does"
        elif sc.generated > sc.real:
            key = "it stays in key even more than the real music does"
        else:
            key = "it strays out of key more than the real music does"
    else:
        key = ""
    if mean is None:
        real = len(report.style.real)
        text = (
            f"Only {real} real piece{'' if real == 1 else 's'} could be set aside to compare "
            f"with, too few to compare styles closely ({MIN_REAL_PIECES_FOR_OVERLAP} are needed)"
        )
        return f"{text}; {key}." if key else f"{text}."
    worst_title = FEATURE_TITLES.get(worst or "", worst or "")
    if mean >= GOOD_OVERLAP_RATIO:
        text = "Its music sounds like the music it learned"
    else:
        text = "Its music does not sound much like the music it learned yet"
    return f"{text}: {key}, and it differs most in {worst_title}."


def originality_words(report: EvaluationReport) -> str:
    copied = sum(o.flagged for o in report.originality)
    count = len(report.originality)
    if not copied:
        return (
            f"Its music is its own: no piece copies {COPY_FLAG_BARS:g} bars or more of the music "
            "it learned."
        )
    return (
        f"{copied} of its {count} pieces copy {COPY_FLAG_BARS:g} bars or more of the music it "
        "learned: listen below to compare."
    )


def stuck_words(report: EvaluationReport) -> str:
    stuck = sum(d.flagged for d in report.degeneracy)
    if not stuck:
        return "None of its pieces gets stuck repeating one note or one bar."
    return (
        f"{stuck} of its {len(report.degeneracy)} pieces get stuck repeating one note or one bar."
    )


def set_headline(report: EvaluationReport) -> Headline:
    """The judged set in one sentence: like its music? its own? stuck?"""
    count = len(report.pieces)
    like = sounds_like(report)
    copied = sum(o.flagged for o in report.originality)
    stuck = sum(d.flagged for d in report.degeneracy)
    parts = []
    if like is not None:
        parts.append(
            "sound like the music it learned"
            if like
            else "do not sound much like the music it learned yet"
        )
    parts.append("are its own" if not copied else f"{copied} copy from the music it learned")
    parts.append("none gets stuck" if not stuck else f"{stuck} get stuck repeating themselves")
    said = ", ".join(parts[:-1]) + " and " + parts[-1]
    return Headline(
        f"Its {count} pieces {said}.", bool(like is not False and not copied and not stuck)
    )
