"""Model quality: validation perplexity of a default training run against the n-gram baseline.

For each built-in collection (bach-chorales, folk-tunes) this runs `python -m core train
--data PRESET --json` with the default settings (the thorough preset, fine-tuned from the base
model), in its own process, and reports the model's best validation perplexity beside the
Kneser-Ney baseline's on the same tokens and split, and their ratio (goal: at most 0.8; the
Music quality issue asks for no worse than 0.56x and 0.73x, the earlier from-scratch figures).

The models are key-normalized (every piece moved to C major / A minor), and so is the n-gram
trained beside them, which gains more from it than the network (on the chorales 5.26 -> 4.85).
The earlier figures were both on the music as written, so the same comparison is printed too:
the n-gram trained and scored on the pieces as written (same split), against the model as a
model of music as written, which must also say which of the 12 transpositions each piece had
(`KEY_CHOICES`: ln 12 nats per held-out piece, a uniform choice, charged on top of its loss).

Opt-in (`python -m core bench quality`), not part of a plain `bench`: it trains two full models,
about 45 minutes on a 2-core CPU (12 and 31 minutes with the thorough preset's hidden input
tokens, 2026-11-26; see docs/benchmarks.md).
"""

from __future__ import annotations

import math
from typing import Any

from benchmarks.training import train_in_own_process

PRESETS = ("bach-chorales", "folk-tunes")
RATIO_GOAL = 0.8
# The Music quality issue's goals: no worse than the from-scratch figures on the music as
# written (0.56x on the chorales, 0.73x on the folk tunes).
EARLIER_RATIOS = {"bach-chorales": 0.56, "folk-tunes": 0.73}
KEY_CHOICES = 12


def run() -> dict[str, Any]:
    figures: dict[str, Any] = {}
    for preset in PRESETS:
        metrics = default_training_metrics(preset)
        model, baseline = metrics["val_perplexity"], metrics["baseline_perplexity"]
        figures[f"{preset}_val_perplexity"] = round(model, 3)
        figures[f"{preset}_baseline_perplexity"] = round(baseline, 3)
        figures[f"{preset}_ratio"] = round(model / baseline, 3)
        figures[f"{preset}_epochs"] = metrics.get("epochs_run")
        written = as_written(preset, metrics)
        figures[f"{preset}_as_written"] = written
        figures[f"{preset}_as_written_goal"] = f"<= {EARLIER_RATIOS[preset]}"
    figures["ratio_goal"] = RATIO_GOAL
    return figures


def as_written(preset: str, metrics: dict[str, Any]) -> dict[str, Any]:
    """The model against the n-gram on the held-out pieces as written (see the docstring)."""
    from core.data.datasets import load_dataset
    from core.tokens.config import EncodingConfig
    from core.training.ngram import ngram_baseline

    written = load_dataset([preset], config=EncodingConfig())  # the app's split, not normalized
    ngram = ngram_baseline(
        written.train_ids(),
        written.valid_ids(),
        vocab_size=len(written.vocab),
        order=int(metrics.get("baseline_order") or 4),
        bos_id=written.vocab.bos_id,
    )
    tokens = int(metrics["valid_tokens"])
    nll = metrics["val_loss"] * tokens + len(written.valid) * math.log(KEY_CHOICES)
    model = math.exp(nll / tokens)
    return {
        "model_perplexity": round(model, 3),
        "ngram_perplexity": round(ngram.perplexity, 3),
        "ratio": round(model / ngram.perplexity, 3),
        "held_out_pieces": len(written.valid),
        "tokens_model": tokens,
        "tokens_ngram": ngram.tokens,
    }


def default_training_metrics(preset: str) -> dict[str, Any]:
    """The final JSON object of a default `train` run on `preset`, in its own process."""
    return train_in_own_process(preset)[0]
