"""A new piece never copies 2 bars of the training music note for note (the copy guard)."""

from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from core.generation.copy_guard import CopyGuard, window_hash
from core.generation.generator import Generator
from core.generation.settings import SamplingSettings
from core.model.model_data import TRAINING_NOTES_FILE, load_index
from core.model.training_notes import OriginalityIndex, TrainingNotes, window_hashes
from core.music.piece import Note, Piece

STEPS_PER_QUARTER = 4
BAR_STEPS = 4 * STEPS_PER_QUARTER


def training_tune(note_steps: int, count: int = 40) -> Piece:
    """A melody of even notes whose intervals never repeat a window (a seeded random walk)."""
    rng = np.random.default_rng(3)
    pitches = 60 + np.cumsum(rng.choice([-5, -4, -3, -2, -1, 1, 2, 3, 4, 5], size=count))
    notes = tuple(Note(i * note_steps, int(p), note_steps) for i, p in enumerate(pitches))
    return Piece(name="tune", notes=notes, steps_per_quarter=STEPS_PER_QUARTER)


def copy_with_guard(tune: Piece, index: OriginalityIndex) -> tuple[Piece, list[int]]:
    """Write `tune` again note for note, as a model that only knows it would, except where the
    guard bars a pitch (then one semitone higher) or caps a length; and where it barred one."""
    guard = CopyGuard(index, steps_per_quarter=STEPS_PER_QUARTER)
    notes, barred = [], []
    for k, note in enumerate(tune.notes):
        guard.advance(note.onset_step - guard.time_steps)
        pitch = note.pitch
        if pitch in guard.blocked_pitches():
            pitch += 1
            barred.append(k)
        guard.note(pitch)
        longest = guard.max_length()
        duration = min(note.duration_steps, longest) if longest else note.duration_steps
        notes.append(Note(note.onset_step, pitch, duration))
    return replace(tune, notes=tuple(notes)), barred


def index_of(tune: Piece) -> OriginalityIndex:
    return OriginalityIndex(TrainingNotes.from_pieces([tune], steps_per_quarter=STEPS_PER_QUARTER))


def test_a_copy_stops_before_two_bars_and_only_there() -> None:
    tune = training_tune(note_steps=STEPS_PER_QUARTER)
    index = index_of(tune)
    assert index.query(tune).longest_bars >= 10  # the copier alone copies it all
    copied, barred = copy_with_guard(tune, index)
    assert index.query(copied).longest_bars < 2
    # Quarter notes: 8 of them (a window) start the run at step 0; the 9th would begin at
    # step 32, 2 bars, so it is the first one barred, and the 8th is cut to end before it.
    assert barred[0] == 8
    assert copied.notes[7].duration_steps == 2 * BAR_STEPS - 1 - 7 * STEPS_PER_QUARTER
    assert copied.notes[:7] == tune.notes[:7]
    # After the break the copier picks the tune up again: shorter copies are allowed.
    assert 1 <= index.query(copied).longest_bars < 2


def test_slow_music_cannot_start_a_two_bar_copy() -> None:
    """Half notes: the 8 notes of a first window already span 4 bars, so the 8th is barred."""
    tune = training_tune(note_steps=2 * STEPS_PER_QUARTER)
    index = index_of(tune)
    copied, barred = copy_with_guard(tune, index)
    assert barred[0] == 7
    assert index.query(copied).longest is None or index.query(copied).longest_bars < 2


def test_music_that_copies_nothing_is_never_touched() -> None:
    tune = training_tune(note_steps=STEPS_PER_QUARTER)
    other = replace(
        tune,
        notes=tuple(Note(n.onset_step, 2 * 60 - n.pitch, n.duration_steps) for n in tune.notes),
    )  # the tune upside down: every interval reversed
    copied, barred = copy_with_guard(other, index_of(tune))
    assert barred == [] and copied == other


def test_the_folk_model_writes_on_where_it_copied_two_bars() -> None:
    """Seed 116 sang 2 bars of a training tune note for note before the guard (found by
    searching seeds 1-300); with it, the piece is the same up to the copy and breaks it off."""
    folk = Generator.from_folder("folk-tunes")
    index = load_index(folk.path)
    settings = SamplingSettings(length_tokens=None, length_s=10.0)
    guarded = folk.generate(settings, seed=116)
    free = folk.generate(replace(settings, avoid_copies=False), seed=116)
    assert index.query(free.piece).longest_bars >= 2
    assert index.query(guarded.piece).longest_bars < 2
    same = next(
        i for i, (a, b) in enumerate(zip(guarded.tokens, free.tokens, strict=False)) if a != b
    )
    assert same > 20  # the opening is the model's own, untouched


@pytest.mark.parametrize("damage", ["missing", "corrupt"])
def test_a_model_without_usable_training_notes_generates_unguarded(
    tmp_path: Path, damage: str
) -> None:
    folder = tmp_path / "no-notes"
    shutil.copytree(Generator.from_folder("folk-tunes").path, folder)
    notes = folder / TRAINING_NOTES_FILE
    if damage == "missing":
        notes.unlink()
    else:
        notes.write_bytes(b"not an npz file")
    generator = Generator.from_folder(folder)
    assert generator.copy_guard() is None
    settings = SamplingSettings(length_tokens=None, length_s=10.0)
    assert generator.generate(settings, seed=116).piece.notes == (
        Generator.from_folder("folk-tunes")
        .generate(replace(settings, avoid_copies=False), seed=116)
        .piece.notes
    )


def test_the_guards_window_hash_is_the_index_hash() -> None:
    codes = np.random.default_rng(0).integers(0, 2**32, size=40)
    assert [window_hash(codes[i : i + 7].tolist()) for i in range(34)] == (
        window_hashes(codes).tolist()
    )


def test_the_copy_guard_stops_at_two_bars_of_the_piece_s_meter() -> None:
    tune = Piece("t", tuple(Note(2 * i, 60 + i % 7, 2) for i in range(20)), 4)
    index = OriginalityIndex(TrainingNotes.from_pieces([tune], steps_per_quarter=4))
    assert CopyGuard(index, steps_per_quarter=4).limit_steps == 32  # two 4/4 bars
    assert CopyGuard(index, steps_per_quarter=4, bar_steps=12).limit_steps == 24  # two 6/8
