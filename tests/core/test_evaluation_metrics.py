"""core/evaluation on constructed pieces whose figures are worked out by hand in the comments.

Grid: 4 steps per quarter note, a bar is 16 steps (4/4). A note is Note(onset, pitch, duration).
"""

from __future__ import annotations

import itertools
import math
import shutil
from pathlib import Path

import numpy as np
import pytest
from scipy.stats import gaussian_kde

from core.errors import EvaluationError
from core.evaluation import overlap
from core.evaluation.degeneracy import (
    FLAG_BAR_REPEATS,
    degeneracy,
    longest_bar_run,
    longest_note_run,
)
from core.evaluation.features import NOTE_LENGTH_LABELS, note_length_histogram, piece_figures
from core.evaluation.report import evaluate_model, evaluate_pieces, piece_without_primer
from core.evaluation.report import usable_pieces as usable
from core.evaluation.style import compare_style
from core.generation.primers import Primer
from core.generation.sampler import DEFAULT_MODEL_DIR, Generator, SamplingSettings
from core.model.model_data import HELDOUT_FILE, TRAINING_NOTES_FILE, load_index, read_heldout
from core.model.training_notes import (
    COPY_FLAG_BARS,
    OriginalityIndex,
    TrainingNotes,
    passage_excerpt,
)
from core.music.piece import Note, Piece
from core.tokens.config import EncodingConfig
from core.tokens.scheme import piece_to_tokens, tokens_to_piece

C_MAJOR = (0, 2, 4, 5, 7, 9, 11)


def piece(name: str, notes: list[tuple[int, int, int]], steps_per_quarter: int = 4) -> Piece:
    return Piece(name, tuple(Note(*n) for n in notes), steps_per_quarter)


def diatonic_piece(name: str, rng: np.random.Generator, bars: int = 8) -> Piece:
    """A melody in C major (white keys only) with varied note lengths."""
    notes, t = [], 0
    while t < bars * 16:
        d = int(rng.choice([1, 2, 2, 4, 4, 6, 8]))
        pitch = 60 + int(rng.choice(C_MAJOR)) + 12 * int(rng.integers(-1, 2))
        notes.append(Note(t, pitch, d))
        t += d
    return Piece(name, tuple(notes))


def random_pitch_piece(name: str, rng: np.random.Generator, bars: int = 8) -> Piece:
    """A melody on uniformly random pitches: all 12 pitch classes, no key."""
    notes, t = [], 0
    while t < bars * 16:
        d = int(rng.choice([1, 2, 2, 4]))
        notes.append(Note(t, int(rng.integers(48, 84)), d))
        t += d
    return Piece(name, tuple(notes))


@pytest.fixture(scope="module")
def real_pieces() -> list[Piece]:
    rng = np.random.default_rng(0)
    return [diatonic_piece(f"real {i:02d}", rng) for i in range(12)]


@pytest.fixture(scope="module")
def random_pieces() -> list[Piece]:
    rng = np.random.default_rng(0)
    return [random_pitch_piece(f"random {i}", rng) for i in range(8)]


# ------------------------------------------------------------------ per-piece figures

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


# ------------------------------------------------------------------ overlapping area


def test_overlapping_area_of_a_sample_with_itself_and_with_a_far_one() -> None:
    x = np.random.default_rng(0).normal(size=40)
    assert overlap.overlapping_area(x, x) == pytest.approx(1.0, abs=1e-9)
    assert overlap.overlapping_area(x, x + 50.0) < 1e-6
    # moving one sample away shrinks the shared area step by step
    areas = [overlap.overlapping_area(x, x + shift) for shift in (0.0, 0.5, 1.0, 2.0, 4.0)]
    assert all(a > b for a, b in itertools.pairwise(areas)), areas


def test_density_is_scipys_gaussian_kde() -> None:
    x = np.random.default_rng(1).gamma(2.0, size=30)
    grid = np.linspace(-2.0, 12.0, 500)
    np.testing.assert_allclose(overlap._density(x, grid, 10.0), gaussian_kde(x)(grid), atol=1e-12)


def test_degenerate_samples_do_not_crash() -> None:
    same = np.full(6, 2.0)
    assert overlap.overlapping_area(same, same) == pytest.approx(1.0, abs=1e-9)
    assert overlap.overlapping_area(same, np.full(6, 5.0)) < 1e-6
    x = np.random.default_rng(2).normal(size=20)
    for first, second in ((same, x), (x, same), (np.array([0.3]), x)):
        area = overlap.overlapping_area(first, second)
        assert 0.0 <= area <= 1.0
    with pytest.raises(ValueError):
        overlap.overlapping_area(np.array([]), x)


def test_distances_within_a_set_are_the_pairs_between_it_and_itself() -> None:
    # 1-D values 0, 3, 7: ordered pairs (0,3) (0,7) (3,0) (3,7) (7,0) (7,3)
    vectors = [np.array([0.0]), np.array([3.0]), np.array([7.0])]
    within = overlap.distances_within(vectors)
    np.testing.assert_allclose(within, [3, 7, 3, 4, 7, 4])
    between = overlap.distances_between(vectors, vectors, same=[(0, 0), (1, 1), (2, 2)])
    np.testing.assert_array_equal(between, within)  # so a set against itself has OA 1


# ------------------------------------------------------------------ style against real music


def test_a_set_against_itself_matches_everywhere(real_pieces: list[Piece]) -> None:
    report = compare_style(real_pieces, real_pieces)
    assert set(report.overlaps) == {
        "pitch_class_histogram",
        "pitch_range",
        "note_length_histogram",
        "inter_onset_interval",
        "polyphony",
        "notes_per_beat",
    }
    for name, o in report.overlaps.items():
        assert o.generated == pytest.approx(1.0, abs=1e-6), name
        assert 0.0 < o.reference <= 1.0 + 1e-9, name
    for name, m in report.metrics.items():
        assert m.generated == pytest.approx(m.real, abs=1e-12), name
    assert report.metrics["scale_consistency"].real == pytest.approx(1.0)  # white keys only


def test_random_pitches_are_told_from_music_in_a_key(
    real_pieces: list[Piece], random_pieces: list[Piece]
) -> None:
    report = compare_style(random_pieces, real_pieces)
    scale = report.metrics["scale_consistency"]
    assert scale.real == pytest.approx(1.0)
    assert scale.generated < 0.75, scale
    entropy = report.metrics["pitch_class_entropy"]
    assert entropy.generated > entropy.real + 0.5, entropy  # 12 classes against 7
    histogram = report.overlaps["pitch_class_histogram"]
    assert histogram.generated < 0.5, histogram
    assert histogram.reference > 0.7, histogram
    assert histogram.ratio < 0.6, histogram
    assert len(report.to_dict()["per_piece"]) == len(random_pieces)


def test_short_real_pieces_are_left_out_and_too_few_give_no_overlaps(
    real_pieces: list[Piece], random_pieces: list[Piece]
) -> None:
    tiny = piece("tiny real", [(0, 60, 4), (4, 62, 4)])
    report = compare_style(random_pieces, [*real_pieces, tiny])
    assert len(report.real) == len(real_pieces)
    few = compare_style(random_pieces[:2], real_pieces[:3])
    assert few.overlaps == {}
    assert "3 held-out real piece(s)" in few.note and "at least 4" in few.note
    assert few.metrics["scale_consistency"].real == pytest.approx(1.0)


# ------------------------------------------------------------------ originality

BAR_POSITIONS = (0, 2, 4, 8, 10, 12)  # 6 notes per bar, on even steps only
BAR_DURATIONS = (2, 2, 4, 2, 2, 4)


def melody(name: str, bars: int, rng: np.random.Generator) -> Piece:
    notes = [
        Note(16 * bar + pos, 60 + int(rng.integers(-12, 13)), d)
        for bar in range(bars)
        for pos, d in zip(BAR_POSITIONS, BAR_DURATIONS, strict=True)
    ]
    return Piece(name, tuple(notes))


def odd_steps(start: int, count: int, rng: np.random.Generator) -> list[Note]:
    """Notes whose onset gaps are odd (3 or 5): no training piece has such a step."""
    notes, t = [], start
    for i in range(count):
        notes.append(Note(t, 50 + int(rng.integers(0, 30)), 2))
        t += 3 if i % 3 else 5
    return notes


@pytest.fixture(scope="module")
def training() -> tuple[list[Piece], OriginalityIndex]:
    rng = np.random.default_rng(1)
    pieces = [melody("A", 6, rng), melody("B", 10, rng), melody("C", 6, rng)]
    return pieces, OriginalityIndex(TrainingNotes.from_pieces(pieces, steps_per_quarter=4))


def copying_piece(b: Piece, first: int, count: int, *, last_duration: int | None = None) -> Piece:
    """4 notes of its own (onsets 0 3 5 9), then B's notes first..first+count moved to start at
    step 12 (a gap of 3 from the note before: B never has it), then 6 more notes of its own."""
    rng = np.random.default_rng(5)
    intro = [Note(0, 50, 3), Note(3, 53, 2), Note(5, 51, 3), Note(9, 56, 3)]
    copied = list(b.notes[first : first + count])
    shift = 12 - copied[0].onset_step
    copied = [Note(n.onset_step + shift, n.pitch, n.duration_steps) for n in copied]
    if last_duration is not None:
        copied[-1] = Note(copied[-1].onset_step, copied[-1].pitch, last_duration)
    outro = odd_steps(copied[-1].onset_step + 5, 6, rng)
    return Piece("copier", tuple(intro + copied + outro))


def test_a_copied_passage_is_found_with_its_source_bars(training) -> None:
    pieces, index = training
    b = pieces[1]
    # B's bar 3 starts at step 32, its note 12 (6 notes a bar). 24 notes = bars 3..6.
    assert b.notes[12].onset_step == 32
    generated = copying_piece(b, 12, 24)
    result = index.query(generated)
    assert result.windows == 34 - 7  # 4 + 24 + 6 notes, 8-note windows
    assert result.windows_found == 24 - 7  # the windows inside the copied notes
    assert result.found_share == pytest.approx(17 / 27)
    passage = result.longest
    assert passage is not None
    assert passage.notes == 24
    assert passage.source == "B"
    assert passage.source_start_note == 12
    assert passage.source_start_bar == 3
    assert passage.source_end_bar == 6  # B's note 35: bar 6, step 92
    assert passage.start_note == 4
    # In the generated piece the copy runs from step 12 to step 72 (+ its 4-step last note):
    # span (72 - 12 + 4) = 64 steps = 4 bars; onsets in bars 1..5.
    assert (passage.start_bar, passage.end_bar) == (1, 5)
    assert passage.bars == pytest.approx((72 - 12 + 4) / 16)
    assert result.flagged
    # both excerpts hold the same notes, from time 0
    source = index.source_excerpt(passage)
    ours = passage_excerpt(generated, passage)
    expected = tuple(Note(n.onset_step - 32, n.pitch, n.duration_steps) for n in b.notes[12:36])
    assert source.notes == expected and ours.notes == expected


def test_transposed_and_shifted_copy_is_the_same_copy(training) -> None:
    pieces, index = training
    generated = copying_piece(pieces[1], 12, 24)
    moved = Piece(
        "moved",
        tuple(Note(n.onset_step + 7, n.pitch + 5, n.duration_steps) for n in generated.notes),
    )
    first, second = index.query(generated), index.query(moved)
    assert (second.windows, second.windows_found) == (first.windows, first.windows_found)
    a, b = first.longest, second.longest
    assert a is not None and b is not None
    for field in ("notes", "bars", "start_note", "source", "source_start_note"):
        assert getattr(b, field) == getattr(a, field), field
    assert (b.source_start_bar, b.source_end_bar) == (3, 6)
    # steps 19..79 of the moved piece: bars 2..5
    assert (b.start_bar, b.end_bar) == (2, 5)


def test_an_original_piece_has_no_copied_passage(training) -> None:
    _, index = training
    original = Piece("original", tuple(odd_steps(0, 20, np.random.default_rng(9))))
    result = index.query(original)
    assert result.windows == 13
    assert result.longest is None and result.windows_found == 0
    assert result.found_share == 0.0 and result.longest_bars == 0.0
    assert not result.flagged
    assert result.to_dict()["longest"] is None


def test_a_copy_is_flagged_from_two_bars_on(training) -> None:
    pieces, index = training
    # 12 notes of B's bars 3 and 4: onsets 32 .. 60, the last lasting 4 -> 32 steps = 2.0 bars
    two = index.query(copying_piece(pieces[1], 12, 12))
    assert two.longest_notes == 12 and two.longest_bars == pytest.approx(2.0)
    assert COPY_FLAG_BARS == 2.0 and two.flagged
    # the same notes, the last one a step shorter: 31/16 bars, not flagged
    under = index.query(copying_piece(pieces[1], 12, 12, last_duration=3))
    assert under.longest_notes == 12 and under.longest_bars == pytest.approx(31 / 16)
    assert not under.flagged


def test_training_notes_save_and_load(training, tmp_path: Path) -> None:
    pieces, index = training
    path = tmp_path / TRAINING_NOTES_FILE
    index.notes.save(path)
    loaded = TrainingNotes.load(path)
    assert loaded.names == ("A", "B", "C") and loaded.steps_per_quarter == 4
    for field in ("offsets", "onsets", "pitches", "durations"):
        np.testing.assert_array_equal(getattr(loaded, field), getattr(index.notes, field))
    again = OriginalityIndex(loaded).query(copying_piece(pieces[1], 12, 24))
    assert again.longest is not None and again.longest.notes == 24
    # through the model folder: the same index
    assert load_index(tmp_path).query(copying_piece(pieces[1], 12, 24)).longest_notes == 24


def test_corrupt_training_notes_are_refused(training, tmp_path: Path) -> None:
    _, index = training
    garbage = tmp_path / "garbage.npz"
    garbage.write_bytes(b"not numpy at all")
    good = tmp_path / "good.npz"
    index.notes.save(good)
    truncated = tmp_path / "truncated.npz"
    truncated.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    inconsistent = tmp_path / "inconsistent.npz"
    bad_offsets = TrainingNotes(**{**index.notes.__dict__, "offsets": np.array([0, 5, 3, 9])})
    bad_offsets.save(inconsistent)
    for path in (garbage, truncated, inconsistent):
        with pytest.raises((ValueError, OSError)):
            TrainingNotes.load(path)
    folder = tmp_path / "model"
    folder.mkdir()
    shutil.copy(truncated, folder / TRAINING_NOTES_FILE)
    with pytest.raises(EvaluationError, match=f"model: {TRAINING_NOTES_FILE} is corrupt"):
        load_index(folder)


# ------------------------------------------------------------------ degeneracy

ONE_BAR = [(0, 60, 4), (4, 64, 4), (8, 67, 4), (12, 64, 4)]


def bars_of(*contents: list[tuple[int, int, int]] | None) -> Piece:
    """Bars in a row; None is an empty bar."""
    notes = [
        (16 * i + o, p, d) for i, bar in enumerate(contents) if bar is not None for o, p, d in bar
    ]
    return piece("bars", notes)


def test_a_one_bar_loop_is_flagged() -> None:
    loop = bars_of(*[ONE_BAR] * 8)
    d = degeneracy(loop, piece_to_tokens(loop, EncodingConfig()))
    assert d.longest_bar_run == 8 and d.longest_note_run == 1
    assert d.flagged
    other = [(0, 62, 8), (8, 65, 8)]
    assert longest_bar_run(bars_of(ONE_BAR, ONE_BAR, ONE_BAR, other, ONE_BAR)) == 3
    assert FLAG_BAR_REPEATS == 4
    assert not degeneracy(bars_of(*[ONE_BAR] * 3, other), []).flagged
    assert degeneracy(bars_of(*[ONE_BAR] * 4, other), []).flagged
    # an empty bar breaks a run
    assert longest_bar_run(bars_of(ONE_BAR, ONE_BAR, None, ONE_BAR, ONE_BAR)) == 2


def test_a_varied_piece_is_not_flagged(real_pieces: list[Piece]) -> None:
    for p in real_pieces[:4]:
        d = degeneracy(p, piece_to_tokens(p, EncodingConfig()))
        assert not d.flagged, d
        assert d.longest_bar_run == 1 and d.longest_note_run < 6


def test_one_pitch_struck_twenty_times_is_flagged() -> None:
    # D4, E4, then C4 twenty times every 3 steps (so no two bars look alike), then F4.
    notes = [(0, 62, 2), (3, 64, 2)] + [(6 + 3 * i, 60, 2) for i in range(20)] + [(66, 65, 2)]
    stuck = piece("stuck", notes)
    d = degeneracy(stuck, piece_to_tokens(stuck, EncodingConfig()))
    assert d.longest_note_run == 20 and d.longest_bar_run == 1
    assert d.flagged
    # a chord struck again counts as the same "note": C-E-G three times, then C-E
    chords = piece("c", [(o, p, 4) for o in (0, 4, 8) for p in (60, 64, 67)] + [(12, 60, 4)])
    assert longest_note_run(chords) == 3


def test_top_token_share_by_hand() -> None:
    p = piece("t", [(0, 60, 4)])
    # Without BOS/EOS: P60 x3, D4 x2, T4 x2, D2 x1 of 8 tokens -> P60, 3/8.
    tokens = ["BOS", "P60", "D4", "T4", "P60", "D4", "T4", "P60", "D2", "EOS"]
    d = degeneracy(p, tokens)
    assert (d.top_token, d.top_token_share) == ("P60", 3 / 8)
    assert not d.flagged
    # T1 is 5 of 9 tokens: over half, flagged
    stuck = degeneracy(p, ["BOS", "T1", "T1", "T1", "T1", "T1", "P60", "D1", "P62", "D1", "EOS"])
    assert (stuck.top_token, stuck.top_token_share) == ("T1", 5 / 9) and stuck.flagged
    empty = degeneracy(p, ["BOS", "EOS"])
    assert (empty.top_token, empty.top_token_share) == ("", 0.0)


# ------------------------------------------------------------------ bad input


def test_empty_sets_and_short_pieces_are_refused(real_pieces: list[Piece]) -> None:
    with pytest.raises(EvaluationError, match="no generated pieces"):
        compare_style([], real_pieces)
    with pytest.raises(EvaluationError, match="no real pieces"):
        compare_style(real_pieces, [])
    five = piece("five note tune", [(4 * i, 60 + i, 4) for i in range(5)])
    with pytest.raises(EvaluationError, match="five note tune: 5 note") as error:
        piece_figures(five)
    assert "at least 8" in str(error.value)
    kept, skipped = usable([real_pieces[0], five, real_pieces[1]])
    assert kept == [real_pieces[0], real_pieces[1]]
    assert len(skipped) == 1 and skipped[0].startswith("five note tune: 5 note(s)")


def test_read_heldout_names_the_folder(tmp_path: Path) -> None:
    folder = tmp_path / "old model"
    folder.mkdir()
    with pytest.raises(EvaluationError, match="old model: no held-out pieces"):
        read_heldout(folder)
    (folder / HELDOUT_FILE).write_text('{"pieces": [{"name": "x"}]}')
    with pytest.raises(EvaluationError, match=f"old model: {HELDOUT_FILE} is corrupt"):
        read_heldout(folder)


@pytest.fixture(scope="module")
def default_generator() -> Generator:
    if not (DEFAULT_MODEL_DIR / HELDOUT_FILE).is_file():
        pytest.skip("no bundled model with held-out data")
    return Generator.from_folder("default")


def test_a_model_without_heldout_data_is_refused_before_judging(
    tmp_path: Path, real_pieces: list[Piece], monkeypatch, default_generator: Generator
) -> None:
    folder = tmp_path / "old model"
    shutil.copytree(DEFAULT_MODEL_DIR, folder)
    (folder / HELDOUT_FILE).unlink()
    generator = Generator.from_folder(folder)

    def never(*args, **kwargs):
        raise AssertionError("judged or generated before the folder was checked")

    monkeypatch.setattr("core.evaluation.report.compare_style", never)
    monkeypatch.setattr(generator, "generate", never)
    with pytest.raises(EvaluationError, match="old model: no held-out pieces"):
        evaluate_pieces(generator, real_pieces)
    with pytest.raises(EvaluationError, match="old model: no held-out pieces"):
        evaluate_model(generator, count=2)


def test_piece_without_primer_drops_exactly_the_primer(default_generator: Generator) -> None:
    g = default_generator
    settings = SamplingSettings(length_tokens=40)
    # A primer ending on an open chord (C3 C4, then E3 G3): the model goes on adding higher
    # notes to that last chord, at the primer's last onset.
    mine = Primer(("P48", "D4", "P60", "D4", "T4", "P52", "D4", "P55", "D4"), name="mine")
    excerpt = g.excerpt_primer(np.random.default_rng(3))
    assert excerpt is not None
    for primer in (mine, excerpt):
        result = g.generate(settings, seed=1, primer=primer)
        primer_notes = tokens_to_piece(primer.tokens, g.encoding).notes
        assert len(primer_notes) == sum(t.startswith("D") for t in primer.tokens)
        ordered = sorted(result.piece.notes)
        assert tuple(ordered[: len(primer_notes)]) == primer_notes
        stripped = piece_without_primer(result)
        assert stripped.notes == tuple(ordered[len(primer_notes) :])
        assert len(stripped.notes) == len(result.piece.notes) - len(primer_notes) > 0
    # the hand-made primer really was continued inside its last chord
    result = g.generate(settings, seed=1, primer=mine)
    assert any(n.onset_step == 4 for n in piece_without_primer(result).notes)
    plain = g.generate(settings, seed=1)
    assert piece_without_primer(plain) == plain.piece
