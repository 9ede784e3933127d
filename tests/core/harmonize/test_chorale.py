"""The shipped chorale harmonizer on short tunes: the melody kept, three voices below it."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.errors import InvalidModelError
from core.harmonize import Harmonization, HarmonyStyle, melody_from_piece
from core.harmonize.chorale import (
    DEFAULT_HARMONIZER_DIR,
    ChoraleHarmonizer,
    load_chorale_harmonizer,
)
from core.harmonize.frames import choices_to_notes, frame_bounds, melody_frames, voice_to_choices
from core.harmonize.voice_leading import VOICE_RANGES, voices_to_grid
from core.music.piece import Note, Piece

# "Old Hundredth" in G (a hymn tune in 4/4, half notes at the phrase ends), a 3/4 tune with a
# dotted rhythm and a 6/8 tune with sixteenths and a long last note.
HYMN = (
    (0, 67, 4),
    (4, 67, 4),
    (8, 66, 4),
    (12, 64, 4),
    (16, 62, 8),
    (24, 67, 4),
    (28, 69, 4),
    (32, 71, 4),
    (36, 71, 4),
    (40, 69, 8),
)
WALTZ = (
    (0, 72, 6),
    (6, 71, 2),
    (8, 69, 4),
    (12, 67, 8),
    (20, 65, 4),
    (24, 64, 6),
    (30, 65, 2),
    (32, 67, 4),
    (36, 60, 12),
)
JIG = (
    (0, 62, 2),
    (2, 64, 1),
    (3, 66, 1),
    (4, 67, 2),
    (6, 69, 4),
    (10, 71, 2),
    (12, 69, 6),
    (18, 67, 2),
    (20, 66, 2),
    (22, 64, 2),
    (24, 62, 24),
)


@pytest.fixture(scope="module")
def harmonizer() -> ChoraleHarmonizer:
    return load_chorale_harmonizer()


def _melody(notes: tuple[tuple[int, int, int], ...], meter: str) -> Piece:
    return Piece("tune", tuple(Note(*n) for n in notes), tempo_bpm=90.0, meter=meter)


def _check(result: Harmonization, tune: Piece) -> None:
    assert result.style is HarmonyStyle.CHORALE
    assert result.voice_names == ("Soprano", "Alto", "Tenor", "Bass")
    assert result.voices[0] == melody_from_piece(tune).piece
    assert result.voices[0].notes == tune.notes  # pitch, onset and length of every note
    grid = voices_to_grid(result.voices)
    for voice, (low, high) in zip(result.voices[1:], VOICE_RANGES[1:], strict=True):
        assert voice.notes, "every voice sings"
        assert (voice.tempo_bpm, voice.meter, voice.steps_per_quarter) == (
            tune.tempo_bpm,
            tune.meter,
            tune.steps_per_quarter,
        )
        assert all(low <= n.pitch <= high for n in voice.notes)
        assert max(n.end_step for n in voice.notes) <= tune.length_steps
    sounding = grid >= 0
    for upper in range(3):  # no voice above the one over it, at any step
        both = sounding[:, upper] & sounding[:, upper + 1]
        assert (grid[both, upper + 1] <= grid[both, upper]).all()


@pytest.mark.parametrize(
    ("notes", "meter"), [(HYMN, "4/4"), (WALTZ, "3/4"), (JIG, "6/8"), (HYMN, "")]
)
def test_a_tune_gets_three_voices_under_it(harmonizer, notes, meter) -> None:
    tune = _melody(notes, meter)
    _check(harmonizer.harmonize(melody_from_piece(tune), seed=0), tune)


def test_same_seed_same_result_another_seed_another(harmonizer) -> None:
    melody = melody_from_piece(_melody(HYMN, "4/4"))
    first = harmonizer.harmonize(melody, seed=5)
    assert harmonizer.harmonize(melody, seed=5).voices == first.voices
    others = {harmonizer.harmonize(melody, seed=s).voices[1:] for s in range(6, 10)}
    assert len(others | {first.voices[1:]}) > 1


def test_a_low_tune_keeps_its_voices_below_it(harmonizer) -> None:
    tune = Piece(
        "low",
        tuple(
            Note(n.onset_step, n.pitch - 12, n.duration_steps) for n in _melody(HYMN, "4/4").notes
        ),
        meter="4/4",
    )
    result = harmonizer.harmonize(melody_from_piece(tune), seed=0)
    assert result.voices[0].notes == tune.notes
    grid = voices_to_grid(result.voices)
    both = (grid[:, 0] >= 0) & (grid[:, 1] >= 0)
    assert (grid[both, 1] <= grid[both, 0]).all()


def test_the_voices_come_in_with_the_tune(harmonizer) -> None:
    tune = Piece("late", (Note(8, 64, 4), Note(12, 62, 4), Note(16, 60, 8)), meter="4/4")
    result = harmonizer.harmonize(melody_from_piece(tune), seed=0)
    assert all(n.onset_step >= 8 for voice in result.voices for n in voice.notes)


def test_the_loaded_model_is_shared(harmonizer) -> None:
    assert load_chorale_harmonizer(DEFAULT_HARMONIZER_DIR) is harmonizer


def test_a_missing_or_broken_model_folder_is_refused_with_a_sentence(tmp_path: Path) -> None:
    with pytest.raises(InvalidModelError, match=r"no model\.keras"):
        load_chorale_harmonizer(tmp_path / "nowhere")
    (tmp_path / "model.keras").write_bytes(b"not a model")
    (tmp_path / "config.json").write_text("{}")
    with pytest.raises(InvalidModelError, match="cannot be loaded"):
        load_chorale_harmonizer(tmp_path)


def test_frames_round_trip_a_voice_in_eighths() -> None:
    notes = [Note(0, 60, 4), Note(4, 62, 2), Note(6, 64, 2), Note(12, 65, 4)]
    bounds = frame_bounds(16, 4)
    choices = voice_to_choices(notes, bounds)
    assert choices_to_notes(choices, bounds) == notes


def test_melody_frames_mark_bar_lines_in_the_meter() -> None:
    frames = melody_frames(_melody(WALTZ, "3/4"))
    downbeats = frames.features[:, -2].nonzero()[0]
    assert list(downbeats[:3]) == [0, 6, 12]  # a 3/4 bar is six eighths
