"""Voice leading by the textbook rules, counted on four voices: the chorale's judge, no model.

The voices are read on their grid as a matrix of what each sounds at every step (-1: silent);
a *sonority* is a run of steps where nothing changes, a *chord change* the step from one
sonority to the next. Counted:

- parallel fifths and octaves: at a chord change, two voices that both move in the same
  direction from a perfect fifth into a perfect fifth, or from an octave (or unison) into an
  octave (or unison), compound intervals included; per voice-pair motion (chord changes x the
  six voice pairs where both voices sound on both sides);
- crossings: a lower voice above the voice next above it (S-A, A-T, T-B), per sonority and
  adjacent pair where both sound;
- spacing: soprano and alto, or alto and tenor, more than an octave apart, per sonority and
  pair (tenor and bass may be further apart);
- range: notes outside their voice's range, per note;
- the chord at each melody note: the pitch classes sounding where it starts.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields

import numpy as np

from core.music.piece import Piece

VOICE_NAMES = ("Soprano", "Alto", "Tenor", "Bass")
SILENT_PITCH = -1
OCTAVE = 12
PERFECT_FIFTH = 7
# Common textbook ranges of the four voices (MIDI pitches), as in Aldwell & Schachter's
# "Harmony and Voice Leading" and Kostka & Payne's "Tonal Harmony": soprano C4-G5, alto F3-D5,
# tenor C3-G4, bass E2-C4.
VOICE_RANGES: tuple[tuple[int, int], ...] = ((60, 79), (53, 74), (48, 67), (40, 60))
SPACED_PAIRS = ((0, 1), (1, 2))  # soprano-alto, alto-tenor: at most an octave apart
MAX_UPPER_SPACING = OCTAVE


def voices_to_grid(voices: Sequence[Piece]) -> np.ndarray:
    """(steps, voices) of what each voice sounds at each step of their common grid (-1: none).
    A voice's notes are taken as one line: a later onset cuts an earlier note."""
    length = max((v.length_steps for v in voices), default=0)
    grid = np.full((length, len(voices)), SILENT_PITCH, dtype=np.int64)
    for column, voice in enumerate(voices):
        for note in sorted(voice.notes):
            grid[note.onset_step : note.end_step, column] = note.pitch
    return grid


def sonorities(grid: np.ndarray) -> np.ndarray:
    """The grid's rows with each run of equal rows kept once (whole silences dropped)."""
    if not len(grid):
        return grid
    keep = np.ones(len(grid), dtype=bool)
    keep[1:] = (grid[1:] != grid[:-1]).any(axis=1)
    rows = grid[keep]
    return rows[(rows != SILENT_PITCH).any(axis=1)]


def parallel_motions(rows: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For rows (..., changes + 1, voices): per row pair, the count of parallel fifths, of
    parallel octaves, and of voice-pair motions (both voices sounding on both sides).
    Rows that repeat count nothing, so frames may be passed as they are."""
    before, after = rows[..., :-1, :], rows[..., 1:, :]
    voices = rows.shape[-1]
    fifths = np.zeros(before.shape[:-1], dtype=np.int64)
    octaves = np.zeros_like(fifths)
    motions = np.zeros_like(fifths)
    changed = (before != after).any(axis=-1)
    for upper in range(voices):
        for lower in range(upper + 1, voices):
            a0, a1 = before[..., upper], after[..., upper]
            b0, b1 = before[..., lower], after[..., lower]
            sounding = (a0 >= 0) & (a1 >= 0) & (b0 >= 0) & (b1 >= 0)
            motions += sounding & changed
            up, low = np.sign(a1 - a0), np.sign(b1 - b0)
            similar = sounding & (up == low) & (up != 0)
            i0, i1 = np.abs(a0 - b0) % OCTAVE, np.abs(a1 - b1) % OCTAVE
            fifths += similar & (i0 == PERFECT_FIFTH) & (i1 == PERFECT_FIFTH)
            octaves += similar & (i0 == 0) & (i1 == 0)
    return fifths, octaves, motions


def crossings_and_spacing(rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For rows (..., voices): per row, adjacent voices crossed, and upper pairs spaced
    more than an octave apart (voices top to bottom)."""
    crossed = np.zeros(rows.shape[:-1], dtype=np.int64)
    for upper in range(rows.shape[-1] - 1):
        a, b = rows[..., upper], rows[..., upper + 1]
        crossed += (a >= 0) & (b >= 0) & (b > a)
    spaced = np.zeros_like(crossed)
    for upper, lower in SPACED_PAIRS:
        if lower < rows.shape[-1]:
            a, b = rows[..., upper], rows[..., lower]
            spaced += (a >= 0) & (b >= 0) & (a - b > MAX_UPPER_SPACING)
    return crossed, spaced


@dataclass(frozen=True)
class VoiceLeadingCounts:
    """The rules' counts over one or more chorales, and their denominators; add to pool."""

    sonorities: int = 0
    pair_motions: int = 0
    parallel_fifths: int = 0
    parallel_octaves: int = 0
    adjacent_pairs: int = 0  # sonorities x adjacent voice pairs, both sounding
    crossings: int = 0
    spaced_pairs: int = 0  # sonorities x (S-A, A-T), both sounding
    wide_spacings: int = 0
    notes: int = 0
    out_of_range: int = 0

    def __add__(self, other: VoiceLeadingCounts) -> VoiceLeadingCounts:
        return VoiceLeadingCounts(
            **{f.name: getattr(self, f.name) + getattr(other, f.name) for f in fields(self)}
        )

    @property
    def parallels(self) -> int:
        return self.parallel_fifths + self.parallel_octaves

    @property
    def parallel_rate(self) -> float:
        """Parallel fifths and octaves per voice-pair motion."""
        return self.parallels / self.pair_motions if self.pair_motions else 0.0

    @property
    def crossing_rate(self) -> float:
        """Crossed adjacent voices per sonority and adjacent pair."""
        return self.crossings / self.adjacent_pairs if self.adjacent_pairs else 0.0

    @property
    def spacing_rate(self) -> float:
        """Upper voices more than an octave apart, per sonority and upper pair."""
        return self.wide_spacings / self.spaced_pairs if self.spaced_pairs else 0.0

    @property
    def range_rate(self) -> float:
        """Notes outside their voice's range, per note."""
        return self.out_of_range / self.notes if self.notes else 0.0


def count_voice_leading(
    voices: Sequence[Piece], *, ranges: Sequence[tuple[int, int]] = VOICE_RANGES
) -> VoiceLeadingCounts:
    """The rules' counts for voices given top to bottom (soprano, alto, tenor, bass)."""
    rows = sonorities(voices_to_grid(voices))
    fifths, octaves, motions = parallel_motions(rows)
    crossed, spaced = crossings_and_spacing(rows)
    sounding = rows >= 0
    adjacent = int((sounding[:, :-1] & sounding[:, 1:]).sum())
    spaced_pairs = sum(
        int((sounding[:, a] & sounding[:, b]).sum()) for a, b in SPACED_PAIRS if b < rows.shape[1]
    )
    notes = sum(len(v.notes) for v in voices)
    outside = sum(
        sum(not low <= n.pitch <= high for n in voice.notes)
        for voice, (low, high) in zip(voices, ranges, strict=False)
    )
    return VoiceLeadingCounts(
        sonorities=len(rows),
        pair_motions=int(motions.sum()),
        parallel_fifths=int(fifths.sum()),
        parallel_octaves=int(octaves.sum()),
        adjacent_pairs=adjacent,
        crossings=int(crossed.sum()),
        spaced_pairs=spaced_pairs,
        wide_spacings=int(spaced.sum()),
        notes=notes,
        out_of_range=outside,
    )


def chords_at_melody_notes(voices: Sequence[Piece]) -> list[frozenset[int]]:
    """The pitch classes sounding (in all voices) where each note of `voices[0]` starts."""
    grid = voices_to_grid(voices)
    return [
        frozenset(int(p) % OCTAVE for p in grid[note.onset_step] if p >= 0)
        for note in sorted(voices[0].notes)
    ]


def same_chord_share(ours: Sequence[frozenset[int]], theirs: Sequence[frozenset[int]]) -> float:
    """The share of melody notes where both have the same pitch-class set."""
    if len(ours) != len(theirs):
        raise ValueError("the two harmonizations must have the same melody notes")
    if not ours:
        return 0.0
    return sum(a == b for a, b in zip(ours, theirs, strict=True)) / len(ours)
