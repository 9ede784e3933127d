"""Musical form of the bundled models' pieces: do their bars come back as real music's do?

For each bundled style: the bar-recurrence profile (`core.evaluation.form`: the share of bars
whose top-line pattern recurs 1, 2, 4 and 8 bars earlier, a transposed restatement included)
of 30 generated pieces at the Evaluate page's default settings, in each of the seed ranges of
`bundled_style` (1-30, 101-130, 201-230: the same pieces), pooled over the 90, beside the same
profile of the model's held-out real pieces. The real pieces are cut to the generated pieces'
median length, so both sides have as many bars to repeat; the ratio generated / real per
distance is judged against the goal 0.7x..1.3x, at the distances where real music brings back
at least 1% of its bars. The whole real pieces' profile is printed too, and, where a piece
records its meter, the real profile at 4/4 bars beside the one at that meter.
The stuck share (4 or more identical bars in a row, `core.evaluation.degeneracy`) is given for
both sides, since repeating bars is the goal and looping them is not.

What the goal can tell apart (`real_vs_real`): the model's own training pieces, real music of the
same collection, cut to the same length and judged against the same held-out pieces, whole and in
random sets of as many pieces as the generated set. A bar comes back 8 bars later a few times in
90 pieces of 30 s, so the real sets' ratios spread widely; the share of them within the goal at
every judged distance is the best a generator that writes exactly like its training music can
expect to score.

Beside the 90, `many_pieces` judges 450 pieces of other seeds the same way: 90 pieces are one
draw of a figure that swings by a third between draws, 450 say what the generator does.

Pieces started from a snippet of the training music (`snippet_started`, "Start from: a snippet
of its music" on Generate, the snippet drawn from the seed as the page draws it) go on in the
style's form too: their profile at the snippet's own meter, in the style's form and free, beside
the held-out pieces' at theirs.

Each set is also judged as `bundled_style` judges it (scale consistency, overlapping-area
ratios, copies, pace persistence), on the same pieces, so a sampler that brings phrases back can
be seen not to lose style or copy its training music while it does.

A new sampler is measured by passing its options, or its own piece maker, to `run`:
`run(return_to_phrases=True)` hands `return_to_phrases=True` to `generate`, which replaces
that field of the default `SamplingSettings`; `run(make_piece=my_generate)` replaces
`generate` itself (called as `make_piece(style, seed, **options)`).
"""

from __future__ import annotations

import functools
import math
import statistics
from collections.abc import Sequence
from dataclasses import replace
from typing import Any, Protocol

import numpy as np

from benchmarks.bundled_style import PIECES, SEED_RANGES, pace_persistence
from core.evaluation.form import (
    DEFAULT_QUARTERS_PER_BAR,
    DISTANCES_BARS,
    GOAL_RATIO_HIGH,
    GOAL_RATIO_LOW,
    MIN_JUDGED_SHARE,
    collection_form_profile,
    cut_to_beats,
    form_sentence,
    stuck_share,
)
from core.evaluation.report import evaluate_pieces, evaluation_settings
from core.evaluation.verdicts import summary_figures
from core.generation.generator import Generator
from core.model.bundled import STYLES, available_styles
from core.model.model_data import TRAINING_NOTES_FILE, read_heldout
from core.model.training_notes import TrainingNotes
from core.music.meter import parse_meter
from core.music.piece import Piece

DIGITS = 4
REAL_SETS = 200  # random sets of training pieces in `real_vs_real`
REAL_SETS_SEED = 27
# `many_pieces`: what the generator does on average, beyond one draw of 90 (the folk model's
# pieces of seeds 1-240 brought back 3.0/8.1/2.5% of their bars at 2/4/8 bars, those of
# 70,001-70,240 3.9/8.8/2.2%, the 90 of `SEED_RANGES` 2.4/6.4/1.8%)
MANY_PIECES = 450
MANY_FIRST_SEED = 1001


class PieceMaker(Protocol):
    def __call__(self, style: str, seed: int, **options: Any) -> Piece: ...


@functools.lru_cache(maxsize=len(STYLES))
def _generator(style: str) -> Generator:
    return Generator.from_folder(STYLES[style].path)


def generate(style: str, seed: int, **options: Any) -> Piece:
    """One piece of the bundled `style` model from `seed`, at the Evaluate page's default
    settings ("Balanced", 30 s at 100 BPM, from a blank page); `options` replace fields of
    those `SamplingSettings`."""
    settings = replace(evaluation_settings(), **options)
    result = _generator(style).generate(settings, seed=seed)
    return replace(result.piece, name=f"seed {seed}")


def run(*, make_piece: PieceMaker = generate, style_figures: bool = True, **options: Any) -> dict:
    """The form figures of every bundled style (`style_figures`: also the style and copy
    figures of the same pieces, about half the time)."""
    figures: dict[str, Any] = {
        "distances_bars": list(DISTANCES_BARS),
        "goal_ratio": [GOAL_RATIO_LOW, GOAL_RATIO_HIGH],
        "options": {k: repr(v) for k, v in options.items()},
    }
    for style in available_styles():
        figures[style.name] = style_form(
            style.name, make_piece=make_piece, style_figures=style_figures, **options
        )
    return figures


def style_form(
    style: str, *, make_piece: PieceMaker = generate, style_figures: bool = True, **options: Any
) -> dict[str, Any]:
    """One style's generated sets against its held-out real pieces."""
    runs: dict[str, Any] = {}
    generated: list[Piece] = []
    for seed in SEED_RANGES:
        pieces = [make_piece(style, s, **options) for s in range(seed, seed + PIECES)]
        generated.extend(pieces)
        run_figures: dict[str, Any] = {
            "form_profile": _rounded(collection_form_profile(pieces)),
            "stuck_share": round(stuck_share(pieces), 3),
        }
        if style_figures:
            run_figures["style"] = _style_figures(style, pieces)
        runs[f"seeds_{seed}-{seed + PIECES - 1}"] = run_figures

    real = read_heldout(STYLES[style].path)
    beats = statistics.median(p.length_steps / p.steps_per_quarter for p in generated)
    real_cut = [cut_to_beats(p, beats) for p in real]
    generated_profile = collection_form_profile(generated)
    real_profile = collection_form_profile(real_cut)
    ratios = {d: _ratio(generated_profile[d], real_profile[d]) for d in DISTANCES_BARS}
    within_goal = _within_goal(ratios, real_profile)
    return {
        "generated_pieces": len(generated),
        "real_pieces": len(real),
        "real_cut_to_beats": round(beats, 2),
        "generated_profile": _rounded(generated_profile),
        "real_profile": _rounded(real_profile),
        "real_profile_whole_pieces": _rounded(collection_form_profile(real)),
        "ratio": _rounded(ratios),
        "within_goal": within_goal,
        "every_judged_distance_within_goal": _every_judged_within(ratios, real_profile),
        "stuck_share_generated": round(stuck_share(generated), 3),
        "stuck_share_real": round(stuck_share(real), 3),
        "sentence": form_sentence(generated_profile, real_profile),
        "real_by_meter": real_by_meter(real),
        "real_vs_real": real_vs_real(style, real_cut, beats, set_size=len(generated)),
        "snippet_started": snippet_started(style, real_cut, **options),
        "many_pieces": many_pieces(style, real_cut, make_piece=make_piece, **options),
        **runs,
    }


def many_pieces(
    style: str, heldout_cut: Sequence[Piece], *, make_piece: PieceMaker, **options: Any
) -> dict[str, Any]:
    """`MANY_PIECES` pieces of seeds of their own against the same held-out pieces: the ratio
    the generator gives on average, where 90 pieces give one draw of it."""
    pieces = [
        make_piece(style, s, **options)
        for s in range(MANY_FIRST_SEED, MANY_FIRST_SEED + MANY_PIECES)
    ]
    profile, real = collection_form_profile(pieces), collection_form_profile(heldout_cut)
    ratios = {d: _ratio(profile[d], real[d]) for d in DISTANCES_BARS}
    # The goal's own test on each run of 90 of them, as `real_vs_real` tries sets of real ones
    size = PIECES * len(SEED_RANGES)
    sets = []
    for start in range(0, len(pieces) - size + 1, size):
        chunk = collection_form_profile(pieces[start : start + size])
        chunk_ratios = {d: _ratio(chunk[d], real[d]) for d in DISTANCES_BARS}
        sets.append(_every_judged_within(chunk_ratios, real))
    return {
        "pieces": len(pieces),
        "seeds": f"{MANY_FIRST_SEED}-{MANY_FIRST_SEED + MANY_PIECES - 1}",
        "generated_profile": _rounded(profile),
        "ratio": _rounded(ratios),
        "within_goal": _within_goal(ratios, real),
        f"sets_of_{size}_within_goal": f"{sum(sets)} of {len(sets)}",
        "stuck_share": round(stuck_share(pieces), 3),
    }


def snippet_started(style: str, heldout_cut: Sequence[Piece], **options: Any) -> dict[str, Any]:
    """Pieces that start from a snippet of the training music, one per seed of `SEED_RANGES`,
    in the style's form and free: their bars' recurrence at their own meter (the snippet's),
    against the held-out pieces' at theirs (4/4 where a file states none)."""
    generator = _generator(style)
    real = collection_form_profile(heldout_cut, quarters_per_bar=None)
    figures: dict[str, Any] = {"real_profile_at_own_meter": _rounded(real)}
    for form in ("style", "free"):
        settings = replace(evaluation_settings(), **{**options, "form": form})
        pieces = []
        for seed in (s for start in SEED_RANGES for s in range(start, start + PIECES)):
            primer = generator.excerpt_primer(np.random.default_rng(seed))
            pieces.append(generator.generate(settings, seed=seed, primer=primer).piece)
        profile = collection_form_profile(pieces, quarters_per_bar=None)
        figures[form] = {
            "pieces": len(pieces),
            "profile_at_own_meter": _rounded(profile),
            "ratio": _rounded({d: _ratio(profile[d], real[d]) for d in DISTANCES_BARS}),
            "stuck_share": round(stuck_share(pieces), 3),
        }
    return figures


def real_vs_real(
    style: str, heldout_cut: Sequence[Piece], beats: float, *, set_size: int
) -> dict[str, Any]:
    """The style's training pieces, cut to `beats`, judged as the generated set is: all of
    them, and `REAL_SETS` random sets of `set_size` (the 5th, 50th and 95th percentile of
    their ratios, and the share of sets within the goal at every judged distance)."""
    training = [
        cut_to_beats(p, beats)
        for p in TrainingNotes.load(STYLES[style].path / TRAINING_NOTES_FILE).pieces()
    ]
    heldout = collection_form_profile(heldout_cut)
    rng = np.random.default_rng(REAL_SETS_SEED)
    ratios: dict[int, list[float]] = {d: [] for d in DISTANCES_BARS}
    within = 0
    size = min(set_size, len(training))
    for _ in range(REAL_SETS):
        chosen = rng.choice(len(training), size=size, replace=False)
        profile = collection_form_profile([training[i] for i in chosen])
        set_ratios = {d: _ratio(profile[d], heldout[d]) for d in DISTANCES_BARS}
        for d, r in set_ratios.items():
            ratios[d].append(r)
        within += _every_judged_within(set_ratios, heldout)
    whole = collection_form_profile(training)
    return {
        "training_pieces": len(training),
        "training_profile": _rounded(whole),
        "training_ratio": _rounded({d: _ratio(whole[d], heldout[d]) for d in DISTANCES_BARS}),
        "set_size": size,
        "sets": REAL_SETS,
        "set_ratio_percentiles_5_50_95": {
            d: [round(float(np.nanpercentile(v, q)), 2) for q in (5, 50, 95)]
            if np.isfinite(v).any()
            else None
            for d, v in ((d, np.array(r, dtype=float)) for d, r in ratios.items())
        },
        "share_of_sets_within_goal": round(within / REAL_SETS, 3),
    }


def real_by_meter(pieces: Sequence[Piece]) -> dict[str, Any] | str:
    """Per stated meter, the real pieces' profile at 4/4 bars and at that meter; a line saying
    so when no piece states one (held-out files from before `Piece.meter` state none)."""
    groups: dict[str, list[Piece]] = {}
    for piece in pieces:
        if piece.meter:
            groups.setdefault(piece.meter, []).append(piece)
    if not groups:
        return "no piece states its meter"
    figures: dict[str, Any] = {}
    for meter, group in sorted(groups.items()):
        entry: dict[str, Any] = {
            "pieces": len(group),
            "at_4_4": _rounded(collection_form_profile(group)),
        }
        quarters = parse_meter(meter).quarters_per_bar
        if quarters != DEFAULT_QUARTERS_PER_BAR:
            try:
                entry["at_meter"] = _rounded(
                    collection_form_profile(group, quarters_per_bar=quarters)
                )
            except ValueError as error:  # a bar that is no whole number of grid steps
                entry["at_meter"] = str(error)
        figures[meter] = entry
    return figures


def _style_figures(style: str, pieces: Sequence[Piece]) -> dict[str, Any]:
    """What `bundled_style` reports of a set, from the same core report."""
    report = evaluate_pieces(_generator(style), pieces)
    summary = summary_figures(report)
    metrics = report.style.metrics
    return {
        "scale_consistency": round(metrics["scale_consistency"].generated, 3),
        "scale_consistency_real": round(metrics["scale_consistency"].real, 3),
        "overlap_ratio_mean": round(summary["style"]["overlap_ratio_mean"], 3),
        "overlap_ratio_min": round(summary["style"]["overlap_ratio_min"], 3),
        "overlap_ratio_min_feature": summary["style"]["overlap_ratio_min_feature"],
        "longest_copy_bars_max": round(summary["originality"]["longest_bars"], 2),
        "share_under_2_bars": round(summary["originality"]["share_under_flag"], 3),
        "pace_persistence": round(pace_persistence(list(report.pieces)), 2),
    }


def _within_goal(ratios: dict[int, float], real: dict[int, float]) -> dict[int, bool | None]:
    """Per distance, whether the ratio is within the goal; None: not judged, real music hardly
    repeats a bar at that distance (`MIN_JUDGED_SHARE`)."""
    return {
        d: GOAL_RATIO_LOW <= r <= GOAL_RATIO_HIGH if real[d] >= MIN_JUDGED_SHARE else None
        for d, r in ratios.items()
    }


def _every_judged_within(ratios: dict[int, float], real: dict[int, float]) -> bool:
    """Whether the ratio is within the goal at every distance judged (`_within_goal`)."""
    return all(v for v in _within_goal(ratios, real).values() if v is not None)


def _ratio(generated: float, real: float) -> float:
    if not (math.isfinite(generated) and math.isfinite(real)) or real == 0:
        return math.nan
    return generated / real


def _rounded(profile: dict[int, float]) -> dict[int, float | None]:
    return {d: round(v, DIGITS) if math.isfinite(v) else None for d, v in profile.items()}
