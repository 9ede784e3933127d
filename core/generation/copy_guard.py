"""A new piece never copies two bars of its model's training music note for note.

The Evaluate page flags a piece whose longest passage found note for note in one training piece
lasts `COPY_FLAG_BARS` or more (`core.model.training_notes`: the melody of the sorted notes as
steps of (pitch interval, onset gap), runs of 8-note windows). Folk tunes share stock phrases, so
the folk model sometimes sang one on for 2 bars (models/README.md, "The sampler breaks off
copies").

The sampler writes notes in that very order (time moves forward, a chord's pitches ascend), so
this guard follows the runs the index would find, as the piece grows: 8 notes that match a
training window start a run; each further note with the training piece's next step extends it.
Before each note it names the pitches that would stretch a run to the flag, and after a note
that extends a run, the longest note length that keeps the run (last onset minus first, plus
the last note's length, as the index measures it) under the flag. The sampler masks them and
the model picks its next choice, so a copy breaks off before two bars. Only long copies are
stopped: shared 8-note figures and 1-bar phrases, which real tunes share too, stay.
"""

from __future__ import annotations

import numpy as np

from core.model.training_notes import (
    COPY_FLAG_BARS,
    GAP_CODES,
    HASH_BASE,
    INTERVAL_OFFSET,
    MAX_GAP_STEPS,
    WINDOW_NOTES,
    OriginalityIndex,
)
from core.music.piece import steps_per_bar

_STEPS = WINDOW_NOTES - 1  # steps (codes) in one window
MIDI_PITCHES = 128
_BASE = int(HASH_BASE)
_MASK = (1 << 64) - 1


def _code(interval: int, gap: int) -> int:
    """`step_codes` of one step."""
    return (interval + INTERVAL_OFFSET) * GAP_CODES + min(gap, MAX_GAP_STEPS)


def window_hash(codes: list[int]) -> int:
    """`window_hashes` of one window, in Python integers: a few microseconds a note where numpy's
    per-call overhead would cost ten times that (the sampler asks at every note)."""
    value = 0
    for code in codes:
        value = (value * _BASE + code) & _MASK
    return value


class CopyGuard:
    """The runs of training notes the piece is copying, and what would stretch them too far."""

    def __init__(
        self, index: OriginalityIndex, *, steps_per_quarter: int, bar_steps: int | None = None
    ) -> None:
        """`bar_steps`: a bar of the piece's meter on its grid (None: a 4/4 bar), so the guard
        stops a jig's copies at two 6/8 bars, as the Evaluate page measures them."""
        self.index = index
        bar = bar_steps if bar_steps is not None else steps_per_bar(steps_per_quarter)
        self.limit_steps = int(COPY_FLAG_BARS * bar)
        self.time_steps = 0
        self.onsets: list[int] = []
        self.pitches: list[int] = []
        self.codes: list[int] = []  # codes[k]: the step from note k to note k + 1
        # Live runs as (end, start): the flat training index of the note matched by the piece's
        # last note, and the onset where the run began in the piece.
        self.runs: list[tuple[int, int]] = []

    def advance(self, steps: int) -> None:
        self.time_steps += steps

    def note(self, pitch: int) -> None:
        """A note begins now: extend the runs it continues, and start those it completes."""
        onset = self.time_steps
        if self.pitches:
            code = _code(pitch - self.pitches[-1], onset - self.onsets[-1])
            self.codes.append(code)
            if self.runs:
                codes = self.index.codes
                self.runs = [(end + 1, start) for end, start in self.runs if codes[end] == code]
        self.onsets.append(onset)
        self.pitches.append(pitch)
        if len(self.codes) >= _STEPS:
            live = {end for end, _ in self.runs}
            start = self.onsets[-WINDOW_NOTES]
            for first in self._first_notes(self.codes[-_STEPS:]):
                if first + _STEPS not in live:
                    self.runs.append((first + _STEPS, start))

    def blocked_pitches(self) -> set[int]:
        """Pitches whose note, beginning now, would make a copy of `COPY_FLAG_BARS` or more."""
        if not self.pitches:
            return set()
        onset, last = self.time_steps, self.pitches[-1]
        gap = onset - self.onsets[-1]
        blocked: set[int] = set()
        # A live run extended by the note: its span is at least onset - start + 1 step.
        for end, start in self.runs:
            code = int(self.index.codes[end])
            if onset - start + 1 >= self.limit_steps and code >= 0 and code % GAP_CODES == gap:
                blocked.add(last + code // GAP_CODES - INTERVAL_OFFSET)
        # A run the note would start: 8 notes that already cover the flag's length (slow music).
        if len(self.codes) >= _STEPS - 1 and onset - self.onsets[-_STEPS] + 1 >= self.limit_steps:
            prefix = self.codes[len(self.codes) - (_STEPS - 1) :]
            pitches = np.arange(MIDI_PITCHES)
            lasts = (pitches - last + INTERVAL_OFFSET) * GAP_CODES + min(gap, MAX_GAP_STEPS)
            with np.errstate(over="ignore"):  # every candidate window hashed at once
                hashes = np.uint64(window_hash(prefix)) * HASH_BASE + lasts.astype(np.uint64)
            sorted_hashes = self.index.sorted_hashes
            found = np.searchsorted(sorted_hashes, hashes, side="right") > np.searchsorted(
                sorted_hashes, hashes, side="left"
            )
            for pitch in np.flatnonzero(found).tolist():
                if self._first_notes([*prefix, int(lasts[pitch])]):
                    blocked.add(pitch)
        return blocked

    def max_length(self) -> int | None:
        """The longest length the last note may have (None: any), so no run reaches the flag."""
        if not self.runs:
            return None
        first = min(start for _, start in self.runs)
        longest = self.limit_steps - 1 - (self.onsets[-1] - first)
        return longest if longest >= 1 else None  # < 1: a copy the masks could not stop

    def _first_notes(self, window: list[int]) -> list[int]:
        """The first notes (flat indices) of the training windows equal to `window`."""
        index = self.index
        value = np.uint64(window_hash(window))
        low = index.sorted_hashes.searchsorted(value, side="left")  # methods: np.* dispatch
        high = index.sorted_hashes.searchsorted(value, side="right")  # cost as much again
        if low == high:
            return []
        starts = index.sorted_starts[low:high]
        # a hash collision never counts
        same = np.all(index.codes[starts[:, None] + np.arange(_STEPS)] == window, axis=1)
        return [int(s) for s in starts[same]]
