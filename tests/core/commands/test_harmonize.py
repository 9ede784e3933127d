"""`python -m core harmonize` in a subprocess, as a user runs it, with the shipped harmonizers."""

from __future__ import annotations

import io

import pretty_midi
import pytest

from core.music.midi import midi_to_bytes, piece_to_midi
from core.music.piece import Note, Piece
from tests.core.commands.test_evaluate import strict_json
from tests.core.test_cli import cli

# A hymn tune in G: eight bars of quarter notes, a half note at each phrase's end.
HYMN = (67, 67, 66, 64, 62, 67, 69, 71, 71, 71, 69, 67, 72, 71, 69, 67, 69, 71, 69, 67, 66, 64)


@pytest.fixture(scope="module")
def hymn(tmp_path_factory: pytest.TempPathFactory):
    notes, onset = [], 0
    for i, pitch in enumerate(HYMN):
        length = 8 if i in (4, 11, 16) else 4  # a half note ends each phrase
        notes.append(Note(onset, pitch, length))
        onset += length
    path = tmp_path_factory.mktemp("hymn") / "hymn.mid"
    path.write_bytes(midi_to_bytes(piece_to_midi(Piece("hymn", tuple(notes), tempo_bpm=90.0))))
    return path, notes


@pytest.mark.parametrize(
    "style, voices",
    [("chorale", ["Soprano", "Alto", "Tenor", "Bass"]), ("chords", ["Melody", "Bass", "Chords"])],
)
def test_a_melody_is_harmonized_with_the_tune_on_top_exactly(hymn, tmp_path, style, voices):
    path, notes = hymn
    out = tmp_path / "out.mid"
    run = cli("harmonize", str(path), "--out", str(out), "--style", style, "--seed", "2", "--json")
    assert run.returncode == 0, run.stderr
    report = strict_json(run.stdout)
    assert report["style"] == style and report["seed"] == 2 and report["key"] == "G major"
    assert list(report["voices"]) == voices and report["melody_notes"] == len(notes)
    midi = pretty_midi.PrettyMIDI(io.BytesIO(out.read_bytes()))
    assert [i.name for i in midi.instruments] == voices
    tune = midi.instruments[0].notes
    assert [n.pitch for n in tune] == list(HYMN)
    step = 60 / 90 / 4
    assert [round(n.start / step) for n in tune] == [n.onset_step for n in notes]
    assert (bool(report["chords"])) == (style == "chords")


def test_the_sheet_music_is_written_for_a_musicxml_name(hymn, tmp_path):
    out = tmp_path / "hymn.musicxml"
    run = cli("harmonize", str(hymn[0]), "--out", str(out))
    assert run.returncode == 0, run.stderr
    assert out.read_text().count("<part-name>") == 4


def test_a_file_with_chords_is_refused_with_its_bar_and_nothing_is_written(tmp_path):
    chords = tmp_path / "chords.mid"
    piece = Piece("chords", (Note(0, 60, 4), Note(16, 64, 4), Note(16, 67, 4)))
    chords.write_bytes(midi_to_bytes(piece_to_midi(piece)))
    out = tmp_path / "out.mid"
    run = cli("harmonize", str(chords), "--out", str(out))
    assert run.returncode == 1 and not out.exists()
    assert run.stderr.strip().splitlines() == [
        "error: chords.mid: in bar 2 two or more notes sound together (a chord); harmonizing "
        "needs a single line of notes, the tune alone"
    ]
    bad = cli("harmonize", str(chords), "--out", str(tmp_path / "out.wav"))
    assert bad.returncode == 2 and "unsupported output type" in bad.stderr
