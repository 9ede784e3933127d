"""A piece of music on a quantization grid: its notes, tempo, key and meter, and the named grids."""

from __future__ import annotations

import heapq
import math
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any

from core.music.meter import COMMON_TIME, BarGrid, Meter, parse_meter
from core.music.scales import spell_key

SIXTEENTH_STEPS_PER_QUARTER = 4

DEFAULT_STEPS_PER_QUARTER = SIXTEENTH_STEPS_PER_QUARTER

# Named grids for the UI: steps per quarter note. 12 holds both sixteenths and eighth triplets.
GRIDS: dict[str, int] = {
    "sixteenth": 4,
    "eighth triplet": 3,
    "sixteenth triplet": 6,
    "sixteenth + eighth triplet": 12,
}

DEFAULT_TEMPO_BPM = 120.0
# The bar of a piece that states no meter: four quarter notes (4/4). Pieces read from files keep
# their own meter (`Piece.meter`); bars of those are `steps_per_bar(spq, piece.meter)`.
BEATS_PER_BAR = int(Meter.parse(COMMON_TIME).quarters_per_bar)

PIANO_MIN_PITCH = 21

PIANO_MAX_PITCH = 108


@dataclass(frozen=True, order=True)
class Note:
    """One note on the grid. Sorted by onset, then pitch."""

    onset_step: int
    pitch: int
    duration_steps: int

    def __post_init__(self) -> None:
        if self.onset_step < 0 or self.duration_steps < 1 or not 0 <= self.pitch <= 127:
            raise ValueError(f"invalid note: {self}")

    @property
    def end_step(self) -> int:
        return self.onset_step + self.duration_steps


@dataclass(frozen=True)
class Piece:
    """A named piece of music: its notes on a grid of `steps_per_quarter`, with its tempo.

    `meter` is the time signature its file states ("6/8", "3/4"; the first one when it changes),
    "" when none is stated (generated music, a MIDI file without one); it is checked and kept in
    its plain spelling (`core.music.meter.Meter`). `pickup_steps` is where its first bar line
    falls (an upbeat before it; 0: the piece starts on a bar line, as files read here do): a
    generated piece that starts inside a bar of its primer keeps the bar lines where they were.
    """

    name: str
    notes: tuple[Note, ...]
    steps_per_quarter: int = DEFAULT_STEPS_PER_QUARTER
    tempo_bpm: float = DEFAULT_TEMPO_BPM
    key: str = ""  # e.g. "C major", estimated from the notes
    meter: str = ""
    pickup_steps: int = 0

    def __post_init__(self) -> None:
        if self.meter:
            spelled = str(parse_meter(self.meter))  # a bad meter raises ValueError here
            if spelled != self.meter:
                object.__setattr__(self, "meter", spelled)
        if self.pickup_steps:
            if isinstance(self.pickup_steps, bool) or not isinstance(self.pickup_steps, int):
                raise ValueError(f"a pickup is a whole number of steps, not {self.pickup_steps!r}")
            if bar_grid(self).pickup_steps != self.pickup_steps:
                raise ValueError(
                    f"{self.name}: a pickup of {self.pickup_steps} steps is not shorter than "
                    "a bar, or the meter's bar falls between the grid's steps"
                )

    @property
    def length_steps(self) -> int:
        return max((n.end_step for n in self.notes), default=0)

    @property
    def duration_s(self) -> float:
        return self.length_steps / self.steps_per_quarter * 60.0 / self.tempo_bpm

    @property
    def pitch_range(self) -> tuple[int, int]:
        pitches = [n.pitch for n in self.notes]
        return (min(pitches), max(pitches)) if pitches else (0, 0)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "notes": [[n.onset_step, n.pitch, n.duration_steps] for n in self.notes],
            "steps_per_quarter": self.steps_per_quarter,
            "tempo_bpm": self.tempo_bpm,
            "key": self.key,
            "meter": self.meter,
            # only when there is one: records of pieces without a pickup read as before
            **({"pickup_steps": self.pickup_steps} if self.pickup_steps else {}),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Piece:
        notes = tuple(Note(int(o), int(p), int(d)) for o, p, d in data["notes"])
        return cls(
            name=data["name"],
            notes=notes,
            steps_per_quarter=int(data["steps_per_quarter"]),
            tempo_bpm=float(data["tempo_bpm"]),
            key=spell_key(data.get("key", "")),  # files from before "Eb" read "E-"
            meter=str(data.get("meter") or ""),  # files from before meters: not stated
            pickup_steps=int(data.get("pickup_steps") or 0),
        )


def transpose_piece(piece: Piece, semitones: int) -> Piece:
    notes = tuple(
        Note(n.onset_step, n.pitch + semitones, n.duration_steps)
        for n in piece.notes
        if 0 <= n.pitch + semitones <= 127
    )
    return replace(piece, notes=notes)


def seconds_to_steps(duration_s: float, *, tempo_bpm: float, steps_per_quarter: int) -> int:
    return math.ceil(duration_s * tempo_bpm / 60.0 * steps_per_quarter)


def steps_per_bar(steps_per_quarter: int, meter: str | Meter | None = None) -> int:
    """Grid steps in one bar of `meter` (a piece's meter text or a Meter; "" or None: 4/4).

    Raises:
        ValueError: the meter is not one, or its bar is not a whole number of steps.
    """
    return parse_meter(meter).bar_steps(steps_per_quarter)


def bar_grid(piece: Piece) -> BarGrid:
    """Where the piece's bar lines fall (`meter_bar_grid` of its grid, meter and pickup)."""
    return meter_bar_grid(piece.steps_per_quarter, piece.meter, pickup_steps=piece.pickup_steps)


def meter_bar_grid(
    steps_per_quarter: int, meter: str | Meter | None, *, pickup_steps: int = 0
) -> BarGrid:
    """Bars of `meter` (4/4 when "" or None) on a grid, the first bar line `pickup_steps` in
    (taken modulo the bar). A meter whose bar is no whole number of the grid's steps (9/8 on a
    grid of eighth triplets) is counted in 4/4 bars, from the start.

    Raises:
        ValueError: `pickup_steps` is below 0, or the meter is not one.
    """
    if pickup_steps < 0:
        raise ValueError(f"a pickup lasts 0 steps or more, not {pickup_steps}")
    meter = parse_meter(meter)
    try:
        bar = meter.bar_steps(steps_per_quarter)
    except ValueError:
        return BarGrid(steps_per_bar(steps_per_quarter))
    return BarGrid(bar, pickup_steps % bar)


def over_bar_line_share(pieces: Iterable[Piece]) -> float:
    """The share of the pieces' notes that sound over a bar line of their own piece (onset in
    one bar, end in a later one: a tie in the sheet music); nan when they hold no notes."""
    crossing = total = 0
    for piece in pieces:
        grid = bar_grid(piece)
        for note in piece.notes:
            total += 1
            crossing += grid.bar_of(note.end_step - 1) != grid.bar_of(note.onset_step)
    return crossing / total if total else math.nan


def top_line(piece: Piece) -> dict[int, int]:
    """{onset step: pitch} of the piece's top line, in onset order: at each onset its highest
    starting note, unless a higher note struck earlier is still sounding (then the onset is an
    inner voice moving under a held melody note, and is left out)."""
    by_onset: dict[int, list[Note]] = {}
    for note in piece.notes:
        by_onset.setdefault(note.onset_step, []).append(note)
    sounding: list[tuple[int, int]] = []  # heap of (-pitch, end step) of the notes struck so far
    line = {}
    for onset in sorted(by_onset):
        while sounding and sounding[0][1] <= onset:  # the highest one has ended
            heapq.heappop(sounding)
        highest = max(n.pitch for n in by_onset[onset])
        if not sounding or highest >= -sounding[0][0]:
            line[onset] = highest
        for note in by_onset[onset]:
            heapq.heappush(sounding, (-note.pitch, note.end_step))
    return line
