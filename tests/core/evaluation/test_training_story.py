"""core/evaluation/training_story: what a training did, in words (which round was kept, why,
and why it stopped)."""

from __future__ import annotations

from typing import Any

from core.evaluation.records import ModelFigures
from core.evaluation.training_story import (
    best_round,
    kept_sentence,
    stop_sentence,
    training_story,
    worse_every_round,
)

START = {"epoch": 0, "step": 0, "val_loss": 1.00, "val_perplexity": 2.72}


def rounds(*losses: float) -> tuple[dict[str, float], ...]:
    return tuple({"epoch": i + 1, "train_loss": 1.0 - 0.1 * i, "val_loss": v}
                 for i, v in enumerate(losses))


def figures(history: tuple[dict[str, float], ...], **metrics: Any) -> ModelFigures:
    made = ModelFigures.from_metrics("mine", {"val_perplexity": 2.7, "baseline_perplexity": 3.1,
                                              "history": list(history),
                                              "epochs_run": len(history), **metrics})
    assert made is not None
    return made


def test_held_out_music_getting_worse_every_round_is_memorising() -> None:
    history = rounds(1.05, 1.10, 1.20)
    assert worse_every_round(history, START) and best_round(history, START) == 0
    story = training_story(figures(history, start=START, fine_tuned_from="base", best_epoch=0,
                                   kept_base_weights=True, stopped_early=True),
                           tunes=5, rounds_planned=7)
    assert story == [
        "Each round of training made it worse at music it had not seen: it was memorising your "
        "5 tunes instead of learning their style, so I kept the built-in model as it was. More "
        "of your music would help.",
        "It stopped at round 3 of 7: it had stopped improving (3 rounds in a row without a "
        "better one).",
    ]
    # from scratch the first round is the best there is
    assert kept_sentence(rounds(1.0, 1.1), None, tunes=5).endswith("so I kept round 1.")
    # while it runs
    assert kept_sentence(history, START, finished=False).startswith(
        "So far each round has made it worse at music it has not seen: it is memorising your "
        "music")


def test_the_round_kept_is_the_best_on_music_it_had_not_seen() -> None:
    history = rounds(0.95, 0.90, 0.93, 0.97)
    story = training_story(figures(history, start=START, fine_tuned_from="base", best_epoch=2,
                                   stopped_early=True), tunes=5, rounds_planned=7)
    assert story == [
        "It started to memorise your 5 tunes after round 2, so I kept round 2.",
        "It stopped at round 4 of 7: it had stopped improving (2 rounds in a row without a "
        "better one).",
    ]
    assert kept_sentence(history, START, finished=False).startswith("Round 2 is its best so far")
    improving = rounds(0.95, 0.90)
    assert training_story(figures(improving, best_epoch=2)) == [
        "It was still improving at its last round, round 2, so I kept that one."]
    assert kept_sentence(improving, None, finished=False) == (
        "It is still improving: round 2 is its best so far on music it has not seen.")
    assert kept_sentence(rounds(1.05, 0.99, 1.02), START) == (
        "It started to memorise your music after round 2, so I kept round 2.")
    assert kept_sentence(rounds(1.05, 1.01), START) == (
        "No round of training did better than the built-in model on music it had not seen, so "
        "I kept the built-in model as it was.")


def test_a_run_that_ran_all_its_rounds_has_nothing_to_explain() -> None:
    assert stop_sentence(rounds_run=7, best=7, stopped_early=False, rounds_planned=7) == ""
    assert stop_sentence(rounds_run=4, best=3, stopped_early=True) == (
        "It stopped at round 4: it had stopped improving (1 round in a row without a better "
        "one).")
    assert training_story(figures(())) == [] and training_story(None) == []
