"""core/evaluation/headlines: the first sentences of Train and Evaluate, in words with no
figure and no machine-learning term."""

from __future__ import annotations

import re
from typing import Any

import pytest

from core.evaluation.headlines import model_headline, set_headline, style_words
from core.evaluation.records import ModelFigures
from core.evaluation.report import evaluate_pieces
from core.evaluation.style_check import FigureTriple, StyleCheck
from core.generation.generator import Generator
from core.generation.settings import SamplingSettings

START = {"epoch": 0, "step": 0, "val_loss": 1.04, "val_perplexity": 2.82}
LAB_WORDS = ("perplexity", "n-gram", "baseline", "held-out", "bits", "nats", "overlap", "loss")


def plain_words(text: str) -> bool:
    """No machine-learning word and no figure with decimals."""
    return not any(w in text.lower() for w in LAB_WORDS) and not re.search(r"\d\.\d", text)


def figures(**metrics: Any) -> ModelFigures:
    made = ModelFigures.from_metrics("mine", {"baseline_perplexity": 3.10, **metrics})
    assert made is not None
    return made


def check(verdict: int) -> StyleCheck:
    near, far = (1.0, 1.4) if verdict > 0 else (1.4, 1.0)
    triple = FigureTriple(1.0, far, near)
    return StyleCheck({"polyphony": triple}, pieces=4, length_s=15.0, real_pieces=5,
                      base_model="base")


def test_the_style_check_says_first_whether_it_writes_more_like_my_music() -> None:
    better = model_headline(figures(val_perplexity=2.7), check(1))
    assert better.text == "Your model now writes more like your music than the built-in one."
    assert better.good
    worse = model_headline(figures(val_perplexity=2.7), check(-1))
    assert worse.text == ("Your model does not write more like your music than the built-in one "
                          "yet. More pieces of your music, of the same kind, would help it learn.")
    assert not worse.good
    bundled = model_headline(figures(val_perplexity=2.7), check(-1), mine=False)
    assert bundled.text.endswith("than the built-in one yet.")  # no advice for a bundled one


@pytest.mark.parametrize(("metrics", "good", "start"), [
    ({"val_perplexity": 2.70, "fine_tuned_from": "base", "start": START, "best_epoch": 2},
     True, "Your model has learned your music"),
    ({"val_perplexity": 2.90, "fine_tuned_from": "base", "start": START, "best_epoch": 2},
     False, "Your model has not learned your music better than the built-in model"),
    ({"val_perplexity": 2.82, "fine_tuned_from": "base", "start": START, "best_epoch": 0,
      "kept_base_weights": True}, False, "Training did not improve on the built-in model"),
    ({"val_perplexity": 2.70}, True, "Your model has learned more than simply counting"),
    ({"val_perplexity": 15.2}, False, "Your model has not learned more than simply counting"),
])
def test_without_a_style_check_the_headline_says_whether_it_learned(metrics, good, start) -> None:
    headline = model_headline(figures(**metrics))
    assert headline.text.startswith(start) and headline.good is good
    assert plain_words(headline.text)


def test_a_judged_set_is_told_in_words() -> None:
    generator = Generator.from_folder("default")
    pieces = [generator.generate(SamplingSettings(length_tokens=120), seed=s).piece
              for s in (1, 2, 3, 4)]
    report = evaluate_pieces(generator, pieces)
    headline = set_headline(report)
    assert headline.text.startswith("Its 4 pieces ")
    assert plain_words(headline.text) and plain_words(style_words(report))
