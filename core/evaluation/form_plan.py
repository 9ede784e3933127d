"""A collection's form as a plan for the sampler: how often its bars restate the bar 1, 2, 4 or
8 bars back, and for how many bars in a row (`core.generation.form.FormPlan`).

Measured with the evaluation's own notion of a bar that recurs (`core.evaluation.form`: the same
top-line rhythm and intervals), so the plan aims at the figure the pieces are judged by. A
model learns it from its training pieces; its pieces are judged against held-out ones.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from core.evaluation.form import DEFAULT_QUARTERS_PER_BAR, bar_patterns
from core.generation.form import DISTANCES, FormPlan, bar_runs, plan_from_runs
from core.music.piece import Piece


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
