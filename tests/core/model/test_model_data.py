"""core/model/model_data: what a model folder keeps for its evaluation.

Grid: 4 steps per quarter note, a bar is 16 steps (4/4). A note is Note(onset, pitch, duration).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from core.errors import EvaluationError
from core.model.model_data import HELDOUT_FILE, read_heldout


def test_read_heldout_names_the_folder(tmp_path: Path) -> None:
    folder = tmp_path / "old model"
    folder.mkdir()
    with pytest.raises(EvaluationError, match="old model: no held-out pieces"):
        read_heldout(folder)
    (folder / HELDOUT_FILE).write_text('{"pieces": [{"name": "x"}]}')
    with pytest.raises(EvaluationError, match=f"old model: {HELDOUT_FILE} is corrupt"):
        read_heldout(folder)


def test_held_out_pieces_too_large_to_read_are_refused_before_reading(tmp_path: Path,
                                                                       monkeypatch) -> None:
    """Read, they take 18 times their size in memory; a zip may carry 200 MB of them."""
    from core.model import model_data

    monkeypatch.setattr(model_data, "MAX_HELDOUT_FILE_BYTES", 1000)
    folder = tmp_path / "big"
    folder.mkdir()
    (folder / HELDOUT_FILE).write_text(json.dumps({"pieces": [{"name": "x" * 2000}]}))
    monkeypatch.setattr(model_data, "_load_heldout", lambda path: pytest.fail("it was read"))
    with pytest.raises(EvaluationError, match=f"^big: its {HELDOUT_FILE} is larger than 0 MB"):
        read_heldout(folder)


# ---------------------------------------------------------------- the training music's record


def test_the_music_summary_of_a_single_line_and_of_chords() -> None:
    from core.data.datasets import summarize_music
    from core.music.piece import Note, Piece

    line = Piece("line", tuple(Note(i * 2, 60 + i % 8, 2) for i in range(100)), 4, 90.0)
    chords = Piece("chords", tuple(Note(i * 4, p, 4) for i in range(50) for p in (48, 55, 64)))
    assert summarize_music([]) is None
    music = summarize_music([line, line, chords])
    assert music is not None
    assert music.tempo_bpm == 90.0 and music.pieces == 3
    assert music.beats_per_bar == 4 and not music.meter_known  # these pieces state no meter
    assert music.meters is None
    assert music.max_notes_per_onset == 3 and not music.single_line
    assert music.chord_onset_share == round(50 / 250, 4)
    assert (music.pitch_low, music.pitch_high) == (48, 67)
    alone = summarize_music([line])
    assert alone is not None and alone.single_line and alone.chord_onset_share == 0.0
    assert (alone.pitch_low, alone.pitch_high) == (60, 67)


def test_the_music_summary_round_trips_through_the_folder(tmp_path: Path) -> None:
    from core.data.datasets import MusicSummary
    from core.model.model_data import MUSIC_FILE, read_music_summary, write_music_summary

    music = MusicSummary(tempo_bpm=96.5, chord_onset_share=0.0, max_notes_per_onset=1,
                         pitch_low=57, pitch_high=79, pieces=12)
    assert MusicSummary.from_dict(music.to_dict()) == music
    assert MusicSummary.from_dict({**music.to_dict(), "from_a_newer_version": 1}) == music
    write_music_summary(tmp_path, music)
    assert read_music_summary(tmp_path) == music
    (tmp_path / MUSIC_FILE).write_text('{"tempo_bpm": -5}')  # corrupt: generate without it
    assert read_music_summary(tmp_path) is None
    # A text where a number goes passed MusicSummary's own check ("120" <= 1000 is not asked
    # of a text) and broke generation later; it is refused field by field.
    (tmp_path / MUSIC_FILE).write_text(json.dumps({**music.to_dict(), "tempo_bpm": "120"}))
    assert read_music_summary(tmp_path) is None
    (tmp_path / MUSIC_FILE).write_text(json.dumps({**music.to_dict(), "pitch_low": 57.5}))
    assert read_music_summary(tmp_path) is None
    (tmp_path / MUSIC_FILE).unlink()
    assert read_music_summary(tmp_path) is None  # a folder written before the record


def test_the_bundled_models_have_no_record_and_stay_unwritten() -> None:
    from core.model.bundled import STYLES
    from core.model.model_data import MUSIC_FILE, read_music_summary

    for style in STYLES.values():
        assert not (style.path / MUSIC_FILE).exists()
        assert read_music_summary(style.path) is None


def test_an_old_music_file_without_meters_still_loads(tmp_path: Path) -> None:
    """music.json as folders wrote it before meters were kept."""
    from core.model.model_data import MUSIC_FILE, read_music_summary

    old = {"tempo_bpm": 100.0, "chord_onset_share": 0.7, "max_notes_per_onset": 4,
           "pitch_low": 43, "pitch_high": 74, "pieces": 368, "beats_per_bar": 4,
           "meter_known": False, "pitch_span": 31, "onsets_per_beat": 1.9}
    (tmp_path / MUSIC_FILE).write_text(json.dumps(old))
    music = read_music_summary(tmp_path)
    assert music is not None and music.pieces == 368
    assert music.meters is None and music.main_meter == "" and not music.meter_known
    assert music.notes_per_onset is None  # the opening's chord size is kept, as before


def test_the_folder_records_the_meters_of_its_training_music(tmp_path: Path) -> None:
    from core.data.datasets import build_dataset
    from core.model.model_data import read_heldout, read_music_summary, write_model_data
    from core.music.piece import Note, Piece
    from core.tokens.config import EncodingConfig

    notes = tuple(Note(i * 2, 60 + i % 7, 2) for i in range(24))
    pieces = [Piece(f"jig {i}", notes, 4, 110.0, meter="6/8") for i in range(3)]
    pieces += [Piece("waltz", notes, 4, 90.0, meter="3/4"), Piece("air", notes, 4, 70.0)]
    dataset = build_dataset(pieces, name="mixed", config=EncodingConfig(),
                            valid_names={"waltz"})
    write_model_data(tmp_path, dataset)
    music = read_music_summary(tmp_path)
    assert music is not None and music.meters == {"6/8": 0.75} and music.meter_known
    assert music.beats_per_bar == 2
    assert [(p.name, p.meter) for p in read_heldout(tmp_path)] == [("waltz", "3/4")]
