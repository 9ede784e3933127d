"""The textbook rules counted on hand-made four-voice passages."""

from __future__ import annotations

import pytest

from core.harmonize.voice_leading import (
    chords_at_melody_notes,
    count_voice_leading,
    same_chord_share,
)
from core.music.piece import Note, Piece


def _voices(*lines: list[int], quarter: int = 4) -> list[Piece]:
    """One piece per voice, a quarter note per pitch."""
    return [
        Piece("v", tuple(Note(i * quarter, p, quarter) for i, p in enumerate(line)))
        for line in lines
    ]


def test_a_clean_cadence_breaks_no_rule() -> None:
    # I - V - I in C: soprano E-D-C, alto C-B-C, tenor G-G-G, bass C-G-C
    counts = count_voice_leading(_voices([64, 62, 60], [60, 59, 60], [55, 55, 55], [48, 43, 48]))
    assert counts.parallels == 0
    assert counts.crossings == 0
    assert counts.wide_spacings == 0
    assert counts.out_of_range == 0
    assert counts.sonorities == 3
    assert counts.pair_motions == 12  # 2 chord changes x 6 pairs
    assert counts.notes == 12


def test_a_parallel_fifth_and_a_parallel_octave() -> None:
    # soprano and bass C-G → D-A: a fifth each (compound), both up: one parallel fifth;
    # alto and tenor E-E' ... tenor an octave below the alto, both up a step: parallel octave.
    counts = count_voice_leading(_voices([67, 69], [64, 65], [52, 53], [48, 50]))
    assert counts.parallel_fifths == 1
    assert counts.parallel_octaves == 1
    assert counts.parallel_rate == pytest.approx(2 / 6)


def test_contrary_motion_into_a_fifth_is_no_parallel() -> None:
    # soprano G4 → A4 up, bass C3 → D2 down: a fifth into a fifth, but in contrary motion
    counts = count_voice_leading(_voices([67, 69], [64, 65], [55, 53], [48, 38]))
    assert counts.parallel_fifths == 0


def test_a_crossing_wide_spacing_and_out_of_range() -> None:
    # tenor above the alto in the second chord; soprano and alto 15 semitones apart in the first
    counts = count_voice_leading(_voices([76, 72], [61, 60], [57, 62], [36, 43]))
    assert counts.crossings == 1
    assert counts.wide_spacings == 1  # S-A 76-61 = 15 > 12
    assert counts.out_of_range == 1  # the bass's C2 is below E2
    assert counts.crossing_rate == pytest.approx(1 / 6)


def test_the_chord_at_each_melody_note() -> None:
    voices = _voices([64, 62], [60, 59], [55, 55], [48, 43])
    chords = chords_at_melody_notes(voices)
    assert chords == [frozenset({0, 4, 7}), frozenset({2, 7, 11})]
    assert same_chord_share(chords, [frozenset({0, 4, 7}), frozenset({2, 5, 7, 11})]) == 0.5
