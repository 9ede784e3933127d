"""Phrases that return: a form plan the sampler follows, bar by bar.

The LSTM sees a few bars back and nothing rewards coming back to a phrase, so its pieces never
restate one (issue 27: real folk tunes restate a quarter of their bars, the model's almost none).
A `FormPlan` says, for each distance d of 1, 2, 4 and 8 bars, how often a bar starts restating
the bar d bars back (`start`) and how often a restatement, once begun, goes on into the next bar
(`go_on`): a strain repeated (AABB) is a restatement at 8 bars that goes on for 8 bars; an
answering phrase one at 2 or 4 bars for a bar or two. The plan is learned from the model's
training music (`learn_form_plan`, kept in the model folder's `form.json`), so a style writes in
its own form; the evaluation then compares the pieces' profile with held-out real music
(`core.evaluation.form`).

While the sampler restates, it proposes the earlier bar's tokens one by one (`FormKeeper`), and
takes each only where every rule of that step allows it (grammar, scale, range, copy guard,
loop guard); the first refused token ends the restatement and the model writes on. Like the
Magenta Lookback RNN's "what happened one and two bars ago", but as a plan in the sampler: no
retraining, and a model of one's own gets its music's form at once.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from core.music.meter import BarGrid
from core.tokens.scheme import TokenKind, token_kind, token_value

FORM_FILE = "form.json"
DISTANCES = (1, 2, 4, 8)
FORM_FREE = "free"
FORM_STYLE = "style"
FORMS = (FORM_FREE, FORM_STYLE)
MAX_SHARE = 0.95  # a plan never restates every bar: the piece must also say something new


@dataclass(frozen=True)
class FormPlan:
    """How often a bar restates the bar `d` back (`start[d]`) and, once restating, goes on
    into the next bar (`go_on[d]`); `quarters_per_bar` is the bar it was learned in."""

    start: dict[int, float]
    go_on: dict[int, float]
    quarters_per_bar: float = 4.0

    def __post_init__(self) -> None:
        for name, values in (("start", self.start), ("go_on", self.go_on)):
            if set(values) - set(DISTANCES):
                raise ValueError(f"{name}: distances must be among {DISTANCES}")
            if not all(0.0 <= float(v) <= 1.0 for v in values.values()):
                raise ValueError(f"{name}: chances must be within 0..1")
        if not 0.0 < self.quarters_per_bar <= 32.0:
            raise ValueError("quarters_per_bar must be within (0, 32]")

    def to_dict(self) -> dict[str, object]:
        return {
            "start": {str(d): round(v, 4) for d, v in self.start.items()},
            "go_on": {str(d): round(v, 4) for d, v in self.go_on.items()},
            "quarters_per_bar": self.quarters_per_bar,
        }

    @classmethod
    def from_dict(cls, data: dict[str, object]) -> FormPlan:
        def chances(key: str) -> dict[int, float]:
            raw = data.get(key, {})
            if not isinstance(raw, dict):
                raise ValueError(f"{key} must be an object")
            return {int(d): float(v) for d, v in raw.items()}

        return cls(
            start=chances("start"),
            go_on=chances("go_on"),
            quarters_per_bar=float(data.get("quarters_per_bar", 4.0)),  # type: ignore[arg-type]
        )


def plan_from_runs(shares: dict[int, float], run_bars: dict[int, float]) -> FormPlan:
    """The plan whose restatements cover `shares[d]` of the bars in runs of `run_bars[d]` bars
    on average (what a collection's pieces do, `learn_form_plan`).

    A run goes on with chance g = 1 - 1 / run, so it lasts `run` bars on average; a share s of
    the bars in such runs needs runs to start in s / ((1 - s) * run) of the other bars.
    """
    start, go_on = {}, {}
    for d in DISTANCES:
        share = min(max(shares.get(d, 0.0), 0.0), MAX_SHARE)
        run = max(run_bars.get(d, 1.0), 1.0)
        go_on[d] = 1.0 - 1.0 / run
        start[d] = min(share / ((1.0 - share) * run), 1.0)
    return FormPlan(start=start, go_on=go_on)


def write_form_plan(folder: Path, plan: FormPlan) -> None:
    from core.storage.files import atomic_write_json

    atomic_write_json(Path(folder) / FORM_FILE, plan.to_dict())


def read_form_plan(folder: Path | None) -> FormPlan | None:
    """The model folder's form plan; None when it has none (or an unusable one)."""
    if folder is None:
        return None
    path = Path(folder) / FORM_FILE
    try:
        if path.stat().st_size > 4096:  # a plan is a few numbers: anything larger is not one
            return None
        return FormPlan.from_dict(json.loads(path.read_text()))
    except (OSError, ValueError, TypeError, AttributeError):
        return None


@dataclass
class FormKeeper:
    """Follows the new tokens bar by bar and proposes the earlier bar's tokens while it restates.

    Bars are `bar_steps` grid steps, the first bar line `pickup_steps` after the first token
    (0: the piece starts on one; else the upbeat before it is bar 0, never restated). Only bars
    whose both ends fall on a time step (no shift over the bar line) can be restated or be
    restated. A piece that starts from a snippet is `prime`d with it first.
    """

    plan: FormPlan
    bar_steps: int
    rng: np.random.Generator
    pickup_steps: int = 0
    marks: list[int | None] = field(default_factory=lambda: [0])  # token index at each bar line
    tokens: list[str] = field(default_factory=list)
    time_steps: int = 0  # counted from bar 0's (possibly unheard) start
    queue: list[str] = field(default_factory=list)  # what the restatement proposes next
    restating: int = 0  # the distance of the current restatement; 0: none
    restated_bars: int = 0
    priming: bool = False  # following a snippet: no restatement is decided

    def __post_init__(self) -> None:
        BarGrid(self.bar_steps, self.pickup_steps)  # its checks: ValueError for no such bars
        if self.pickup_steps:  # the upbeat is the end of a bar whose start is not heard
            self.marks = [None]
            self.time_steps = self.bar_steps - self.pickup_steps

    def prime(self, tokens: Sequence[str]) -> None:
        """Follow the snippet the piece starts from: its bars can be restated later, but none
        of them restates one. When it ends on a bar line, the next bar is decided at once."""
        self.priming = True
        try:
            for token in tokens:
                self.add(token)
        finally:
            self.priming = False
        if self.marks[-1] is not None and self.marks[-1] == len(self.tokens) and self.tokens:
            self._bar_begins(len(self.marks) - 1)

    def proposal(self) -> str | None:
        """The token the form proposes next; None: the model writes freely."""
        return self.queue[0] if self.queue else None

    def refused(self) -> None:
        """The proposed token was not allowed: the restatement ends here."""
        self.queue.clear()
        self.restating = 0

    def add(self, token: str) -> None:
        """A token joined the piece (proposed or drawn)."""
        if self.queue and token == self.queue[0]:
            self.queue.pop(0)
        elif self.queue:  # something else was written: the restatement is over
            self.refused()
        self.tokens.append(token)
        if token_kind(token) is not TokenKind.SHIFT:
            return
        self.time_steps += token_value(token)
        crossed = False
        while self.time_steps >= len(self.marks) * self.bar_steps:
            on_the_line = self.time_steps == len(self.marks) * self.bar_steps
            self.marks.append(len(self.tokens) if on_the_line else None)
            crossed = True
        if not crossed or self.priming:
            return
        if self.marks[-1] is not None:
            self._bar_begins(len(self.marks) - 1)
        else:  # a note or a rest held over the bar line: no bar to restate from here
            self.refused()

    def _bar_begins(self, bar: int) -> None:
        """Decide whether bar `bar` restates one before it."""
        going_on = self.rng.random() < self.plan.go_on.get(self.restating, 0.0)
        if self.restating and going_on and self._restate(bar, self.restating):
            return
        self.restating = 0
        self.queue.clear()
        draws = self.rng.random(len(DISTANCES))
        for distance, draw in zip(sorted(DISTANCES, reverse=True), draws, strict=True):
            if draw < self.plan.start.get(distance, 0.0) and self._restate(bar, distance):
                return

    def _restate(self, bar: int, distance: int) -> bool:
        source = bar - distance
        if source < 0:
            return False
        begin, end = self.marks[source], self.marks[source + 1]
        if begin is None or end is None or end <= begin:
            return False
        segment = self.tokens[begin:end]
        if not any(token_kind(t) is TokenKind.PITCH for t in segment):
            return False  # a silent bar is no phrase
        self.queue = list(segment)
        self.restating = distance
        self.restated_bars += 1
        return True


def bar_runs(recurs: Sequence[bool]) -> list[int]:
    """The lengths of the runs of consecutive True in `recurs`."""
    runs, length = [], 0
    for value in (*recurs, False):
        if value:
            length += 1
        elif length:
            runs.append(length)
            length = 0
    return runs
