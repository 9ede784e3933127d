"""A collection's form as a plan for the sampler: how often its bars restate the bar 1, 2, 4 or
8 bars back, and for how many bars in a row (`core.generation.form.FormPlan`).

Measured with the evaluation's own notion of a bar that recurs (`core.evaluation.form`: the same
top-line rhythm and intervals), so the plan aims at the figure the pieces are judged by. A
model learns it from its training pieces; its pieces are judged against held-out ones.

The plan's chances come out low at first: real tunes' recurrences overlap (a bar that comes back
2 bars later often also comes back 4 later), while the sampler restates from one distance at a
time, and a restatement stops at the first token a rule refuses. So `calibrate_form_plan`
generates pieces with the plan, measures them against the same training pieces cut to their
length, and scales each distance's chance of starting by what is missing, a few rounds. Only
training pieces and seeds of its own (`CALIBRATION_SEED`) take part, never held-out music.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import replace

import numpy as np

from core.evaluation.form import (
    DEFAULT_QUARTERS_PER_BAR,
    MIN_JUDGED_SHARE,
    bar_patterns,
    collection_form_profile,
    cut_to_beats,
)
from core.evaluation.report import evaluation_settings
from core.generation.form import DISTANCES, FormPlan, bar_runs, plan_from_runs
from core.generation.generator import Generator
from core.generation.settings import SamplingSettings
from core.music.piece import Piece

CALIBRATION_SEED = 50_001  # far from the seeds pages and benchmarks use
# 240 pieces a round, each round on seeds of its own: over 80, a round's profile swung by a
# third between seed blocks (folk, 8 bars: 0.020..0.051 over five blocks of 90 with one plan)
CALIBRATION_PIECES = 240
CALIBRATION_ROUNDS = 4

GOOD_ENOUGH = math.log(1.1)  # every distance within 10% of the target: stop
MAX_GAIN = 4.0  # per round: a distance the sampler can hardly restate is not chased forever


def learn_form_plan(
    pieces: Iterable[Piece], *, quarters_per_bar: float = DEFAULT_QUARTERS_PER_BAR
) -> FormPlan | None:
    """The plan that restates as often, and in runs as long, as `pieces` do; None when they
    hold no two bars to compare."""
    recurring = dict.fromkeys(DISTANCES, 0)
    counted = dict.fromkeys(DISTANCES, 0)
    runs: dict[int, list[int]] = {d: [] for d in DISTANCES}
    for piece in pieces:
        patterns = bar_patterns(piece, quarters_per_bar=quarters_per_bar)
        for d in DISTANCES:
            pairs = [
                (later, earlier)
                for later, earlier in zip(patterns[d:], patterns, strict=False)
                if later is not None and earlier is not None
            ]
            recurs = [later == earlier for later, earlier in pairs]
            recurring[d] += sum(recurs)
            counted[d] += len(recurs)
            runs[d].extend(bar_runs(recurs))
    if not any(counted.values()):
        return None
    shares = {d: recurring[d] / counted[d] if counted[d] else 0.0 for d in DISTANCES}
    run_bars = {d: float(np.mean(runs[d])) if runs[d] else 1.0 for d in DISTANCES}
    plan = plan_from_runs(shares, run_bars)
    return FormPlan(plan.start, plan.go_on, quarters_per_bar=quarters_per_bar)


def calibrate_form_plan(
    generator: Generator,
    plan: FormPlan,
    training: Sequence[Piece],
    *,
    pieces: int = CALIBRATION_PIECES,
    rounds: int = CALIBRATION_ROUNDS,
) -> FormPlan:
    """`plan` with each distance's chance of starting scaled until the generator's pieces (at
    the Evaluate page's default settings) restate as often as `training` cut to their length.

    Each round generates `pieces` of fresh seeds, and each distance's chance is set from all
    rounds so far: the share of bars its pieces brought back per unit of chance, pooled, gives
    the chance that brings back the target's share. (Until 2026-12-03 every round reused the
    same seeds and the round that came closest won: the winner was the one its seeds
    flattered, and on other seeds the folk model's pieces brought back a quarter fewer bars
    than its training music: 2.8/6.5/1.5% at 2/4/8 bars over 150 pieces, against 3.7/8.5/2.0%.)
    """
    settings = replace(evaluation_settings(), form="style")
    beats = settings.tempo_bpm / 60.0 * (settings.length_s or 0.0)
    target = collection_form_profile(
        [cut_to_beats(p, beats) for p in training], quarters_per_bar=4.0
    )
    measured: list[tuple[FormPlan, dict[int, float]]] = []
    for round_ in range(rounds):
        first_seed = CALIBRATION_SEED + round_ * pieces
        achieved = _profile_of(generator, plan, settings, pieces, first_seed=first_seed)
        measured.append((plan, achieved))
        if _miss(achieved, target) < GOOD_ENOUGH:
            break
        plan = _rescaled(plan, measured, target)
    generator.form_plan = plan
    return plan


def _rescaled(
    plan: FormPlan, measured: Sequence[tuple[FormPlan, dict[int, float]]], target: dict[int, float]
) -> FormPlan:
    """`plan` with each judged distance's chance of starting set to bring back the target's
    share, at the rate (share brought back per unit of chance) pooled over `measured`."""
    start = dict(plan.start)
    for d in DISTANCES:
        want = target.get(d, math.nan)
        if not math.isfinite(want) or want < MIN_JUDGED_SHARE or start.get(d, 0.0) <= 0.0:
            continue  # kept as learned: too rare to aim at (chasing a ratio to a bar or two
            # in 80 pieces, the chorales' 1 bar, steered the whole plan by noise)
        rounds = [
            (p.start.get(d, 0.0), got[d])
            for p, got in measured
            if math.isfinite(got.get(d, math.nan))
        ]
        chance = sum(c for c, _ in rounds)
        brought = sum(g for _, g in rounds)
        wanted = start[d] * MAX_GAIN if brought <= 0.0 else want * chance / brought
        start[d] = min(max(wanted, start[d] / MAX_GAIN), start[d] * MAX_GAIN, 1.0)
    return FormPlan(start, plan.go_on, quarters_per_bar=plan.quarters_per_bar)


def _profile_of(
    generator: Generator,
    plan: FormPlan,
    settings: SamplingSettings,
    pieces: int,
    *,
    first_seed: int,
) -> dict[int, float]:
    generator.form_plan = plan
    made = [generator.generate(settings, seed=first_seed + i).piece for i in range(pieces)]
    return collection_form_profile(made, quarters_per_bar=plan.quarters_per_bar)


def _miss(achieved: dict[int, float], target: dict[int, float]) -> float:
    """How far a profile is from the target: the largest |log ratio| over the distances where
    the target brings back at least `MIN_JUDGED_SHARE` of its bars."""
    misses = [
        abs(math.log(max(achieved[d], 1e-4) / target[d]))
        for d in DISTANCES
        if math.isfinite(target.get(d, math.nan))
        and target[d] >= MIN_JUDGED_SHARE
        and math.isfinite(achieved.get(d, math.nan))
    ]
    return max(misses, default=0.0)
