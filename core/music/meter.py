"""Meters (time signatures): "6/8" → how long its bar is, how many beats it has, and on a grid.

A piece keeps its meter as text (`Piece.meter`, "" when its file states none); `Meter` is that
text understood. Only the bar's length and its grouping are modelled: beaming, additive meters
("3+2/8" is read as 5/8) and meter changes are not (a piece takes its first meter).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

MAX_NUMERATOR = 32  # 32 beats to a bar is already far beyond any dance
DENOMINATORS = (1, 2, 4, 8, 16, 32)  # a whole note down to a thirty-second
COMPOUND_DENOMINATOR = 8  # 6/8, 9/8, 12/8: three eighths to a beat
COMPOUND_GROUPING = 3
QUARTERS_PER_WHOLE = 4
COMMON_TIME = "4/4"  # the bar of a piece that states no meter


@dataclass(frozen=True)
class Meter:
    """A time signature: `numerator` notes of 1/`denominator` to a bar."""

    numerator: int
    denominator: int

    def __post_init__(self) -> None:
        if isinstance(self.numerator, bool) or not isinstance(self.numerator, int):
            raise ValueError(f"a meter's numerator must be a whole number, not {self.numerator!r}")
        if not 1 <= self.numerator <= MAX_NUMERATOR:
            raise ValueError(
                f"a meter's numerator must be 1..{MAX_NUMERATOR}, not {self.numerator}"
            )
        if isinstance(self.denominator, bool) or self.denominator not in DENOMINATORS:
            raise ValueError(
                f"a meter's denominator must be one of {', '.join(map(str, DENOMINATORS))}, "
                f"not {self.denominator!r}"
            )

    @classmethod
    def parse(cls, text: str) -> Meter:
        """ "6/8" → Meter(6, 8).

        Raises:
            ValueError: not "numerator/denominator" in whole numbers, or out of bounds.
        """
        if not isinstance(text, str):
            raise ValueError(f"a meter must be a text such as '6/8', not {text!r}")
        top, slash, bottom = text.strip().partition("/")
        if not slash or not top.strip().isdigit() or not bottom.strip().isdigit():
            raise ValueError(f"not a meter: {text[:20]!r} (write it as '6/8' or '3/4')")
        if len(top.strip()) > 3 or len(bottom.strip()) > 3:  # int() of a huge text is slow
            raise ValueError(f"not a meter: {text[:20]!r} (out of bounds)")
        return cls(int(top), int(bottom))

    def __str__(self) -> str:
        return f"{self.numerator}/{self.denominator}"

    @property
    def quarters_per_bar(self) -> float:
        """A bar's length in quarter notes: 6/8 and 3/4 → 3.0, 2/2 → 4.0, 9/8 → 4.5."""
        return self.numerator * QUARTERS_PER_WHOLE / self.denominator

    @property
    def is_compound(self) -> bool:
        """Three notes to a beat: 6/8, 9/8, 12/8 (3/8 is one beat of three, counted simple)."""
        return (
            self.denominator == COMPOUND_DENOMINATOR
            and self.numerator > COMPOUND_GROUPING
            and self.numerator % COMPOUND_GROUPING == 0
        )

    @property
    def beats(self) -> int:
        """Beats felt in a bar: 6/8 → 2, 9/8 → 3, 3/4 → 3, 2/2 → 2, 4/4 → 4."""
        return self.numerator // COMPOUND_GROUPING if self.is_compound else self.numerator

    def bar_steps(self, steps_per_quarter: int) -> int:
        """A bar's length in steps of a grid of `steps_per_quarter`.

        Raises:
            ValueError: the bar is not a whole number of the grid's steps (9/8 on a grid of
                eighth triplets: 13.5 steps).
        """
        if steps_per_quarter < 1:
            raise ValueError(f"a grid needs at least one step per quarter, not {steps_per_quarter}")
        steps, rest = divmod(
            self.numerator * QUARTERS_PER_WHOLE * steps_per_quarter, self.denominator
        )
        if rest:
            raise ValueError(
                f"a bar of {self} lasts {self.quarters_per_bar:g} quarter notes, not a whole "
                f"number of steps on a grid of {steps_per_quarter} steps per quarter note"
            )
        return steps


def parse_meter(text: str | Meter | None) -> Meter:
    """A piece's meter text (or a Meter) as a Meter; "" or None (not stated) is 4/4.

    Raises:
        ValueError: the text is not a meter (see `Meter.parse`).
    """
    if isinstance(text, Meter):
        return text
    return _parsed(text or COMMON_TIME)


@functools.lru_cache(maxsize=256)
def _parsed(text: str) -> Meter:
    """`Meter.parse`, once per text: pieces are built and bars counted in loops."""
    return Meter.parse(text)


def meter_text(numerator: int, denominator: int) -> str:
    """A meter read from a file as a piece keeps it: "6/8", or "" when it is out of bounds."""
    try:
        return str(Meter(int(numerator), int(denominator)))
    except (ValueError, TypeError, OverflowError):
        return ""


@dataclass(frozen=True)
class BarGrid:
    """Where a piece's bar lines fall on its grid: every `bar_steps` steps, the first one
    `pickup_steps` after its start (an upbeat, anacrusis; 0: it starts on a bar line).

    Bars are counted from 0, the pickup (when there is one) being bar 0: a short first bar.
    """

    bar_steps: int
    pickup_steps: int = 0

    def __post_init__(self) -> None:
        if self.bar_steps < 1:
            raise ValueError(f"a bar lasts at least one step, not {self.bar_steps}")
        if not 0 <= self.pickup_steps < self.bar_steps:
            raise ValueError(
                f"a pickup lasts 0 to {self.bar_steps - 1} steps (less than a bar of "
                f"{self.bar_steps}), not {self.pickup_steps}"
            )

    @property
    def phase_steps(self) -> int:
        """Where the piece's first step falls within its bar (0: on a bar line)."""
        return -self.pickup_steps % self.bar_steps

    def bar_of(self, step: int) -> int:
        """The bar (from 0) in which `step` falls."""
        return (step + self.phase_steps) // self.bar_steps

    def bar_start(self, bar: int) -> int:
        """The step where bar `bar` (from 0) begins; bar 0 begins at the piece's start."""
        return max(bar * self.bar_steps - self.phase_steps, 0)
