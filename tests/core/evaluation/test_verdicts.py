"""core/evaluation/verdicts: a model's figures in plain words."""

from __future__ import annotations

from typing import Any

from core.evaluation.report import ModelFigures
from core.evaluation.style_check import FigureTriple, StyleCheck, read_style_check
from core.evaluation.verdicts import (
    model_is_better,
    model_verdict,
    style_check_sentence,
    style_figures,
    writes_more_like,
)

START = {"epoch": 0, "step": 0, "val_loss": 1.04, "val_perplexity": 2.82}


def figures(**metrics: Any) -> ModelFigures:
    made = ModelFigures.from_metrics("mine", {"baseline_perplexity": 3.10, "baseline_order": 4,
                                              **metrics})
    assert made is not None
    return made


def test_a_model_worse_than_the_baseline_is_told_so_plainly() -> None:
    verdict = model_verdict(figures(val_perplexity=15.2, baseline_perplexity=4.5))
    assert verdict.startswith(
        "Your model predicts music it never saw no better than a simple note-counting model"
    )
    assert "(15.20 vs 4.50; lower is better)" in verdict
    assert "more music" in verdict.lower() and "longer training" in verdict
    for lab_word in ("perplexity", "n-gram", "surprised"):
        assert lab_word not in verdict


def test_a_fine_tuned_model_is_compared_with_the_built_in_model_both_ways() -> None:
    better = figures(val_perplexity=2.70, fine_tuned_from="base", start=START, best_epoch=3,
                     kept_base_weights=False)
    verdict = model_verdict(better)
    assert verdict.startswith(
        "Your model predicts your held-out music better than the built-in model did "
        "(2.70 vs 2.82; lower is better)."
    )
    assert "A simple note-counting model scores 3.10: yours does better." in verdict
    assert model_is_better(better)
    worse = figures(val_perplexity=2.90, fine_tuned_from="base", start=START, best_epoch=2,
                    kept_base_weights=False)
    assert model_verdict(worse).startswith(
        "Your model predicts your held-out music no better than the built-in model did "
        "(2.90 vs 2.82"
    )
    assert not model_is_better(worse)


def test_a_fine_tuning_that_kept_the_base_says_the_saved_model_is_the_built_in_one() -> None:
    kept = figures(val_perplexity=2.82, fine_tuned_from="base", start=START, best_epoch=0,
                   kept_base_weights=True)
    verdict = model_verdict(kept)
    assert "no better than the built-in model did (2.82)" in verdict
    assert "the saved model is the built-in model, unchanged" in verdict
    assert not model_is_better(kept)
    # a folder from before the flag: its best round is round 0
    old = figures(val_perplexity=2.82, fine_tuned_from="base", start=START, best_epoch=0)
    assert "unchanged" in model_verdict(old)


def test_the_held_out_size_is_said_and_a_single_piece_is_called_uncertain() -> None:
    one = model_verdict(figures(val_perplexity=2.5, heldout_pieces=1, heldout_notes=212))
    assert "Judged on 1 piece (212 notes) you did not train on." in one
    assert "uncertain" in one
    few_notes = model_verdict(figures(val_perplexity=2.5, heldout_pieces=3, heldout_notes=420))
    assert "Judged on 3 pieces (420 notes)" in few_notes and "uncertain" in few_notes
    plenty = model_verdict(figures(val_perplexity=2.5, heldout_pieces=30, heldout_notes=4100))
    assert "Judged on 30 pieces (4,100 notes)" in plenty and "uncertain" not in plenty
    # folders from before the record say nothing of it
    assert "Judged on" not in model_verdict(figures(val_perplexity=2.5))


def test_held_out_transcriptions_are_said_to_flatter_the_model() -> None:
    verdict = model_verdict(figures(val_perplexity=2.5, heldout_pieces=8, heldout_notes=2000,
                                    heldout_transcribed=True))
    assert "itself a transcription" in verdict and "flatter" in verdict


def check(**triples: tuple[float, float, float]) -> StyleCheck:
    return StyleCheck({k: FigureTriple(*v) for k, v in triples.items()}, pieces=4,
                      length_s=15.0, real_pieces=5, base_model="base")


def test_the_style_check_says_whether_the_model_writes_more_like_the_music() -> None:
    closer = check(polyphony=(1.0, 1.4, 1.0), pitch_range=(15, 23, 16),
                   notes_per_beat=(2.0, 2.1, 2.0))
    assert writes_more_like(closer) == 1
    assert style_check_sentence(closer) == (
        "Your model now writes more like your music than the built-in model does: notes at once "
        "— your music 1.0, the built-in model 1.4, your model 1.0; range 15 / 23 / 16 "
        "semitones; notes per beat 2.0 / 2.1 / 2.0."
    )
    assert style_figures(closer) == (
        "Notes at once — your music 1.0, the built-in model 1.4, your model 1.0; range 15 / 23 "
        "/ 16 semitones; notes per beat 2.0 / 2.1 / 2.0."
    )
    assert style_figures(check()) == ""  # nothing measured, nothing shown
    farther = check(polyphony=(1.0, 1.1, 1.5), pitch_range=(15, 16, 24),
                    notes_per_beat=(2.0, 2.0, 2.0))
    assert style_check_sentence(farther).startswith(
        "Your model does not write more like your music than the built-in model yet:"
    )
    same = check(polyphony=(1.0, 1.2, 1.2), pitch_range=(15, 20, 20),
                 notes_per_beat=(2.0, 2.5, 2.5))
    assert style_check_sentence(same).startswith("Your model writes about like the built-in")


def test_a_style_check_round_trips_through_the_metrics_and_a_broken_one_is_ignored() -> None:
    made = check(polyphony=(1.0, 1.4, 1.0), pitch_range=(15, 23, 16))
    assert read_style_check({"style_check": made.to_dict()}) == made
    assert read_style_check({}) is None
    assert read_style_check({"style_check": {"figures": "nonsense"}}) is None
    broken = made.to_dict()
    broken["figures"]["polyphony"]["model"] = float("nan")
    assert read_style_check({"style_check": broken}) is None


def test_a_passage_of_one_bar_is_named_as_one() -> None:
    from core.evaluation import bars_text

    assert bars_text(12, 12) == "bar 12"
    assert bars_text(3, 5) == "bars 3–5"
