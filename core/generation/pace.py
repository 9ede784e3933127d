"""A generated piece keeps the pace and the chord size it sets out with (or, for a model whose
folder records them, the pace and the chord size of its training music).

An LSTM forgets how its piece began: the bundled chorale model's pieces drift back to an average
pace, so a set of them varies less than Bach does (figures: models/README.md, "The sampler keeps
a piece's pace"). The sampler therefore measures
the piece's opening (the primer's and the first new bars) and, from then on, compares the
recent music with it:

- busier than the opening (more onsets per beat): a note's length is drawn with its
  probability tilted toward longer notes, p'(length) ∝ p(length) · length^β with
  β = `LENGTH_GAIN` · ln(recent onsets per beat / the opening's); calmer: toward shorter ones;
- fuller chords than the opening (more notes per onset): ending the chord (moving time on) gets
  `CHORD_GAIN` · ln(recent notes per onset / the opening's) added to its logit; thinner: less.

Both are clipped to `MAX_TILT`: a nudge to the model, never an override. The lengths are the
lever because a time shift follows from them: the model moves time to where a held note ends
almost surely (tilting the shifts alone did nothing). Tilting the lengths alone made the chords
come apart, hence the second nudge.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass

import numpy as np

OPENING_BEATS = 8.0  # the opening whose pace the rest keeps: two bars of 4/4
WINDOW_BEATS = 8.0  # the recent music compared with it
LENGTH_GAIN = 4.0  # β per unit of ln(recent onsets per beat / the opening's)
CHORD_GAIN = 3.0  # logit per unit of ln(recent notes per onset / the opening's)
MAX_TILT = 3.0
# With the training music's pace and chord size to keep, there is no opening to wait for: the
# nudges start after one bar of 4/4, the recent music measured over what there is of it. Chosen
# on Monteverdi madrigals (scripts/tune_chord_nudge.py: from beat 8, 2 or 4, notes at once 2.36,
# 2.57 and 2.54 against the held-out 2.52).
TARGET_START_BEATS = 4.0


@dataclass
class _Onset:
    step: int
    notes: int = 0  # grows while the onset's chord is written


class PaceKeeper:
    """The onsets and notes of a piece as it grows, and how to tilt its next token."""

    def __init__(
        self,
        *,
        steps_per_quarter: int,
        target_onsets_per_beat: float | None = None,
        target_notes_per_onset: float | None = None,
    ) -> None:
        self.opening_steps = OPENING_BEATS * steps_per_quarter
        self.window_steps = WINDOW_BEATS * steps_per_quarter
        self.target_start_steps = TARGET_START_BEATS * steps_per_quarter
        # The pace to keep: the training music's, when the model folder records it and the
        # piece continues no tune of the user's; else the opening's.
        self.target_onsets_per_step = (
            target_onsets_per_beat / steps_per_quarter if target_onsets_per_beat else None
        )
        # The chord size to keep, likewise: the training music's, else the opening's.
        self.target_notes_per_onset = target_notes_per_onset
        self.time_steps = 0
        self.opening_onsets = 1  # the onset at step 0
        self.opening_notes = 0
        self.recent: deque[_Onset] = deque([_Onset(0)])  # the onsets within the window

    def advance(self, shift_steps: int) -> None:
        """Time moves on by `shift_steps` to a new onset."""
        self.time_steps += shift_steps
        if self.time_steps < self.opening_steps:
            self.opening_onsets += 1
        self.recent.append(_Onset(self.time_steps))
        while self.recent[0].step <= self.time_steps - self.window_steps:
            self.recent.popleft()

    def note(self, pitch: int | None = None) -> None:
        """A note starts at the current onset (its pitch does not change the pace)."""
        self.recent[-1].notes += 1
        if self.time_steps < self.opening_steps:
            self.opening_notes += 1

    def _ratio(self, gain: float, recent: float, kept: float, *, aimed: bool) -> float:
        """gain · ln(recent / kept), clipped; 0 until the nudge starts (`aimed`: `kept` is the
        training music's, not the opening's)."""
        start = self.target_start_steps if aimed else max(self.opening_steps, self.window_steps)
        if self.time_steps < start:
            return 0.0
        if recent <= 0 or kept <= 0:
            return 0.0
        return min(max(gain * math.log(recent / kept), -MAX_TILT), MAX_TILT)

    def length_tilt(self) -> float:
        """β for the next note's length: > 0 while the recent music is busier than the opening
        (or than the training music, when that is the pace to keep)."""
        target = self.target_onsets_per_step
        kept = target or self.opening_onsets / self.opening_steps
        span = min(self.window_steps, max(self.time_steps, 1))  # the window, once it is full
        return self._ratio(LENGTH_GAIN, len(self.recent) / span, kept, aimed=target is not None)

    def chord_tilt(self) -> float:
        """The bias on ending the chord: > 0 while recent chords are fuller than the opening's
        (or than the training music's, when that is the size to keep)."""
        target = self.target_notes_per_onset
        kept = target or self.opening_notes / self.opening_onsets
        recent = sum(onset.notes for onset in self.recent) / len(self.recent)
        return self._ratio(CHORD_GAIN, recent, kept, aimed=target is not None)

    def tilt_lengths(
        self, logits: np.ndarray, *, lengths: np.ndarray, steps: np.ndarray
    ) -> np.ndarray:
        """`logits` with β · ln(length) added to the length tokens (`lengths`: their mask;
        `steps`: every token's value, a length in steps for those)."""
        beta = self.length_tilt()
        if beta == 0.0:
            return logits
        out = logits.astype(np.float64)
        out[lengths] += beta * np.log(steps[lengths])
        return out

    def tilt_chord_end(self, logits: np.ndarray, *, shifts: np.ndarray) -> np.ndarray:
        """`logits` with the chord tilt added to the time-shift tokens (`shifts`: their mask)."""
        bias = self.chord_tilt()
        if bias == 0.0:
            return logits
        out = logits.astype(np.float64)
        out[shifts] += bias
        return out
