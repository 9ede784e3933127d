"""core/model/training_notes: the originality index finds passages copied from the training music.

Grid: 4 steps per quarter note, a bar is 16 steps (4/4). A note is Note(onset, pitch, duration).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from core.errors import EvaluationError
from core.model.model_data import TRAINING_NOTES_FILE, load_index
from core.model.training_notes import (
    COPY_FLAG_BARS,
    OriginalityIndex,
    TrainingNotes,
    passage_excerpt,
)
from core.music.piece import Note, Piece

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
