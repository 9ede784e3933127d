"""A harmonization's sheet music and MIDI: a part per voice, chord names, key and meter."""

from __future__ import annotations

import io

import pretty_midi
import pytest

from core.harmonize import ChordSymbol, Harmonization, HarmonyStyle, melody_from_piece
from core.harmonize.notation import harmonization_musicxml
from core.music.notation import musicxml_to_svg
from core.music.piece import Note, Piece


@pytest.fixture(scope="module")
def waltz() -> Harmonization:
    tune = Piece(
        "waltz",
        tuple(Note(i * 4, p, 4) for i, p in enumerate([67, 69, 71, 72, 74, 72, 71, 69, 67])),
        tempo_bpm=90.0,
        meter="3/4",
    )
    melody = melody_from_piece(tune)
    bass = Piece("bass", tuple(Note(i * 12, 43, 12) for i in range(3)), meter="3/4")
    chords = (ChordSymbol(0, 12, "G"), ChordSymbol(12, 12, "Bb"), ChordSymbol(24, 12, "D7"))
    return Harmonization(
        melody, HarmonyStyle.CHORDS, 0, (melody.piece, bass), ("Melody", "Bass"), chords
    )


def test_the_first_voice_must_be_the_melody_unchanged(waltz):
    with pytest.raises(ValueError, match="its melody, unchanged"):
        Harmonization(waltz.melody, HarmonyStyle.CHORDS, 0, waltz.voices[1:], ("Bass",))


def test_the_midi_has_a_track_per_voice_at_the_tunes_tempo_and_meter(waltz):
    midi = pretty_midi.PrettyMIDI(io.BytesIO(waltz.midi_bytes))
    assert [i.name for i in midi.instruments] == ["Melody", "Bass"]
    assert [len(i.notes) for i in midi.instruments] == [9, 3]
    assert round(midi.get_tempo_changes()[1][0]) == 90
    assert (
        midi.time_signature_changes[0].numerator,
        midi.time_signature_changes[0].denominator,
    ) == (3, 4)
    assert waltz.chord_line() == "G  Bb  D7"
    assert len(waltz.piece.notes) == 12


def test_the_sheet_music_names_each_voice_and_shows_the_chords(waltz):
    xml = harmonization_musicxml(waltz).decode()
    assert xml.count("<part-name>") == 2 and "<part-name>Melody</part-name>" in xml
    assert "<part-abbreviation>M</part-abbreviation>" in xml  # not the instrument's "Fl"
    assert xml.count("<harmony") == 3
    assert "<beats>3</beats>" in xml
    assert "<fifths>1</fifths>" in xml  # G major
    assert "<per-minute>90</per-minute>" in xml
    svg = musicxml_to_svg(xml)[0]
    assert svg.startswith("<svg") or "<svg" in svg[:500]
