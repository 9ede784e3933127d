"""core/evaluation/features: one piece's figures, worked out by hand in the comments.

Grid: 4 steps per quarter note, a bar is 16 steps (4/4). A note is Note(onset, pitch, duration).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from core.errors import EvaluationError
from core.evaluation.features import NOTE_LENGTH_LABELS, note_length_histogram, piece_figures
from core.music.piece import Piece
from tests.core._evaluation_fixtures import piece

# The C major scale up one octave, one note per beat, then an F# after a rest:
#   onsets 0, 4, ..., 28 (beats 0..7), pitches C4 D E F G A B C5, durations 1 2 3 3 1 2 3 3
#   F#4 at onset 40 (beat 10), duration 3. Every note ends inside the beat it starts in.
SCALE = piece(
    "scale with F#",
    [
        (0, 60, 1),
        (4, 62, 2),
        (8, 64, 3),
        (12, 65, 3),
        (16, 67, 1),
        (20, 69, 2),
        (24, 71, 3),
        (28, 72, 3),
        (40, 66, 3),
    ],
)


def test_figures_of_a_scale_with_one_foreign_note() -> None:
    f = piece_figures(SCALE)
    assert f.notes == 9
    assert f.duration_beats == pytest.approx(43 / 4)  # the last note ends at step 43
    # C major holds 8 of the 9 notes (all but F#); G major too (all but F); no scale holds
    # 8 pitch classes, so the best is 8/9.
    assert f.scale_consistency == pytest.approx(8 / 9, abs=1e-12)
    # Pitch classes: C twice (C4, C5), D E F F# G A B once each, of 9 notes.
    expected_histogram = np.array([2, 0, 1, 0, 1, 1, 1, 1, 0, 1, 0, 1]) / 9
    np.testing.assert_allclose(f.pitch_class_histogram, expected_histogram, atol=1e-12)
    # Entropy in bits: -(2/9 log2(2/9) + 7 * 1/9 log2(1/9)) = 2/9 log2(9/2) + 7/9 log2(9) = 2.948
    entropy = 2 / 9 * math.log2(9 / 2) + 7 / 9 * math.log2(9)
    assert f.pitch_class_entropy == pytest.approx(entropy, abs=1e-12)
    assert f.pitch_class_entropy == pytest.approx(2.9477, abs=1e-4)
    # MusPy counts beats 0..43 // 4 = 0..10 (11 beats); notes sound in beats 0-7 and 10:
    # beats 8 and 9 (the rest) are empty.
    assert f.empty_beat_rate == pytest.approx(2 / 11, abs=1e-12)
    assert f.pitch_range == 72 - 60
    # Durations 1,1 (16th), 2,2 (8th), 3 x 5 (dotted 8th) of 9 notes.
    assert f.note_length_histogram == pytest.approx((2 / 9, 2 / 9, 5 / 9, 0, 0, 0, 0, 0))
    # Onset gaps: seven of 4 steps, then 28 -> 40 = 12: (7 * 4 + 12) / 8 = 5 steps = 1.25 beats.
    assert f.inter_onset_interval == pytest.approx(1.25, abs=1e-12)
    assert f.notes_per_beat == pytest.approx(9 / (43 / 4), abs=1e-12)
    assert f.polyphony == pytest.approx(1.0)  # one note at a time
    # MusPy counts 43 // 16 + 1 = 3 bars: onsets at {0, 4, 8, 12} in bars 1 and 2, {8} in bar
    # 3; Hamming distances 0 and 3 over 2 * 16 positions: 1 - 3/32.
    assert f.groove_consistency == pytest.approx(29 / 32, abs=1e-12)


def test_polyphony_of_a_held_chord_then_one_note() -> None:
    # Twice: C-E-G held 12 steps, then C5 alone for 4. Per bar 3 * 12 + 1 * 4 = 40 pitch-steps
    # over 16 sounding steps: polyphony 2.5.
    bar = [(0, 60, 12), (0, 64, 12), (0, 67, 12), (12, 72, 4)]
    chords = piece("chords", [(o + b, p, d) for b in (0, 16) for o, p, d in bar])
    f = piece_figures(chords)
    assert f.polyphony == pytest.approx(2.5, abs=1e-12)
    assert f.pitch_range == 12
    # Distinct onsets 0, 12, 16, 28 (a chord is one onset): gaps 12, 4, 12 -> 28/3 steps,
    # / 4 steps per beat = 7/3 beats.
    assert f.inter_onset_interval == pytest.approx(7 / 3, abs=1e-12)
    assert f.notes_per_beat == pytest.approx(8 / 8)  # 8 notes over 32 steps = 8 beats
    assert f.empty_beat_rate == 0.0  # something sounds in every beat


def _two_bars(first: set[int], second: set[int]) -> Piece:
    """16th notes at these positions of bar 1 and bar 2; the piece ends before step 32, so
    MusPy counts exactly two bars."""
    notes = [(pos, 60 + i % 7, 1) for i, pos in enumerate(sorted(first))]
    notes += [(16 + pos, 62 + i % 5, 1) for i, pos in enumerate(sorted(second))]
    return piece("two bars", notes)


@pytest.mark.parametrize(
    ("first", "second", "differing"),
    [
        ({0, 4, 8, 12}, {0, 4, 8, 12}, 0),  # the same rhythm
        ({0, 4, 8, 12}, {0, 4, 8, 12, 14}, 1),  # one onset more
        ({0, 4, 8, 12}, {0, 6, 8, 12}, 2),  # 4 moved to 6: positions 4 and 6 differ
        ({0, 2, 4, 6, 8}, {1, 3, 5, 7, 9}, 10),  # every onset moved by one step
    ],
)
def test_groove_consistency_is_one_minus_differing_positions(
    first: set[int], second: set[int], differing: int
) -> None:
    f = piece_figures(_two_bars(first, second))
    assert f.groove_consistency == pytest.approx(1 - differing / 16, abs=1e-12)


def test_groove_consistency_is_nan_within_one_bar() -> None:
    # 8 sixteenths, the piece ends at step 8 < 16: MusPy needs two bars to compare.
    f = piece_figures(piece("short", [(i, 60 + i, 1) for i in range(8)]))
    assert math.isnan(f.groove_consistency)


def test_note_length_classes() -> None:
    # Durations in steps -> quarters -> class (upper edges 0.25 0.5 0.75 1 1.5 2 3, then more):
    # 1 -> 0.25 16th, 2 -> 0.5 8th, 3 -> 0.75 dotted 8th, 4 -> 1 quarter, 5 -> 1.25 and
    # 6 -> 1.5 dotted quarter, 8 -> 2 half, 12 -> 3 dotted half, 16 -> 4 and 20 -> 5 whole+.
    durations = [1, 2, 3, 4, 5, 6, 8, 12, 16, 20]
    onsets = np.concatenate([[0], np.cumsum(durations)[:-1]])
    p = piece("lengths", [(int(o), 60, d) for o, d in zip(onsets, durations, strict=True)])
    expected = np.array([1, 1, 1, 1, 2, 1, 1, 2]) / 10
    np.testing.assert_allclose(note_length_histogram(p), expected, atol=1e-12)
    assert len(NOTE_LENGTH_LABELS) == len(expected)
    # On a triplet grid (12 steps per quarter) 4 steps is an eighth triplet, 1/3 of a quarter:
    # above the 16th's edge (0.25), so it falls in the next class up, the 8th.
    triplets = piece("triplets", [(4 * i, 60, 4) for i in range(3)], steps_per_quarter=12)
    np.testing.assert_allclose(note_length_histogram(triplets), [0, 1, 0, 0, 0, 0, 0, 0])


def test_a_piece_too_short_to_judge_is_refused_by_name() -> None:
    five = piece("five note tune", [(4 * i, 60 + i, 4) for i in range(5)])
    with pytest.raises(EvaluationError, match="five note tune: 5 note") as error:
        piece_figures(five)
    assert "at least 8" in str(error.value)
