"""core/evaluation/verdicts: a model's figures in plain words."""

from __future__ import annotations

from core.evaluation.report import ModelFigures
from core.evaluation.verdicts import model_verdict


def test_a_model_worse_than_the_baseline_is_told_so_plainly() -> None:
    figures = ModelFigures.from_metrics(
        "few songs", {"val_perplexity": 15.2, "baseline_perplexity": 4.5, "baseline_order": 4}
    )
    verdict = model_verdict(figures)
    assert verdict.startswith("Not better than the simple baseline")
    assert "more music" in verdict.lower() and "longer training" in verdict
