"""What a training run did, in plain words, from the figures it records: which round was kept
and why, whether it started to memorise its music, and why it stopped.

A round is one check on the held-out pieces ("music it has not seen"); the kept model is the
round that did best there (round 0: the built-in model it started from, unchanged). A held-out
score that gets worse while training goes on means the network is learning its pieces by heart
rather than their style: with a handful of tunes that can start from the first round.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from pathlib import Path

from core.evaluation.records import ModelFigures


def held_out_losses(
    history: Sequence[Mapping[str, float]], start: Mapping[str, float] | None = None
) -> list[float]:
    """The held-out loss of each round, round 0 (the built-in model's) first when fine-tuned."""
    rounds = [float(h.get("val_loss", math.nan)) for h in history]
    first = [float(start["val_loss"])] if start and "val_loss" in start else []
    return first + rounds


def best_round(
    history: Sequence[Mapping[str, float]], start: Mapping[str, float] | None = None
) -> int:
    """The round with the lowest held-out loss so far (0: the built-in model's own)."""
    losses = held_out_losses(history, start)
    offset = 0 if start and "val_loss" in start else 1
    finite = [(loss, i) for i, loss in enumerate(losses) if math.isfinite(loss)]
    return min(finite)[1] + offset if finite else 0


def worse_every_round(
    history: Sequence[Mapping[str, float]], start: Mapping[str, float] | None = None
) -> bool:
    """Every round did worse on the held-out music than the one before (at least two points:
    round 0 and 1 when fine-tuned, rounds 1 and 2 from scratch)."""
    losses = held_out_losses(history, start)
    return len(losses) >= 2 and all(b > a for a, b in itertools.pairwise(losses))


def tunes_phrase(tunes: int | None) -> str:
    if not tunes:
        return "your music"
    return "your one tune" if tunes == 1 else f"your {tunes} tunes"


def kept_sentence(
    history: Sequence[Mapping[str, float]],
    start: Mapping[str, float] | None = None,
    *,
    best: int | None = None,
    finished: bool = True,
    tunes: int | None = None,
) -> str:
    """Which round is kept and why, or while it runs which round is best so far; "" before the
    first round. `best` is the run's recorded best round (computed when None); `tunes` how many
    pieces it learns from (training and held-out)."""
    if not history:
        return ""
    fine_tuned = bool(start and "val_loss" in start)
    best = best_round(history, start) if best is None else best
    rounds = len(history)
    music = tunes_phrase(tunes)
    kept = "the built-in model as it was" if best == 0 else f"round {best}"
    if worse_every_round(history, start):
        if finished:
            return (
                "Each round of training made it worse at music it had not seen: it was "
                f"memorising {music} instead of learning their style, so I kept {kept}."
                + (" More of your music would help." if fine_tuned else "")
            )
        return (
            "So far each round has made it worse at music it has not seen: it is memorising "
            f"{music} instead of learning their style. Whatever happens next, the best version "
            f"is kept (now {kept})."
        )
    if best == 0:
        if finished:
            return (
                "No round of training did better than the built-in model on music it had not "
                "seen, so I kept the built-in model as it was."
            )
        return (
            "No round so far does better than the built-in model on music it has not seen; the "
            "best version is the one kept."
        )
    if best < rounds:
        if finished:
            return f"It started to memorise {music} after round {best}, so I kept round {best}."
        return (
            f"Round {best} is its best so far: the rounds after it did worse on music it has not "
            f"seen, a sign it is starting to memorise {music}. The best round is the one kept."
        )
    if finished:
        return f"It was still improving at its last round, round {best}, so I kept that one."
    return f"It is still improving: round {best} is its best so far on music it has not seen."


def stop_sentence(
    *, rounds_run: int, best: int, stopped_early: bool, rounds_planned: int | None = None
) -> str:
    """Why a finished run ended before its last round; "" when it ran them all."""
    if not stopped_early or rounds_run < 1:
        return ""
    planned = f" of {rounds_planned}" if rounds_planned and rounds_planned > rounds_run else ""
    since = rounds_run - best
    return (
        f"It stopped at round {rounds_run}{planned}: it had stopped improving "
        f"({since} round{'' if since == 1 else 's'} in a row without a better one)."
    )


def training_story(
    figures: ModelFigures | None, *, tunes: int | None = None, rounds_planned: int | None = None
) -> list[str]:
    """A finished training in one or two sentences: what was kept and why, and why it stopped
    when it stopped early. Empty when the model recorded no rounds."""
    if figures is None or not figures.history:
        return []
    start = figures.start if figures.fine_tuned_from else None
    best = figures.best_epoch if figures.best_epoch or start else None
    kept = kept_sentence(figures.history, start, best=best, tunes=tunes)
    stop = stop_sentence(
        rounds_run=figures.epochs_run or len(figures.history),
        best=best if best is not None else best_round(figures.history, start),
        stopped_early=figures.stopped_early,
        rounds_planned=rounds_planned,
    )
    return [s for s in (kept, stop) if s]


def tunes_learned(model_dir: Path, metrics: Mapping[str, object]) -> int | None:
    """How many pieces a model's training used, its held-out ones included; None when its
    folder does not say (the bundled models, folders from before `music.json`)."""
    from core.model.model_data import read_music_summary

    music = read_music_summary(model_dir)
    if music is None:
        return None
    heldout = metrics.get("heldout_pieces")
    return music.pieces + (int(heldout) if isinstance(heldout, int) and heldout > 0 else 0)
