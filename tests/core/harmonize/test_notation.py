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


def test_a_tune_with_an_upbeat_has_its_bar_lines_where_its_bars_are():
    import music21

    # a jig's eighth-note upbeat (A), then two bars of 6/8 (4 steps a quarter: 2 an eighth)
    pitches = [69, 74, 78, 81, 81, 78, 74, 76, 76, 78, 79, 78, 76]
    tune = Piece(
        "jig", tuple(Note(i * 2, p, 2) for i, p in enumerate(pitches)), meter="6/8",
        pickup_steps=2,
    )  # fmt: skip
    melody = melody_from_piece(tune)
    chords = (ChordSymbol(2, 12, "D"), ChordSymbol(14, 12, "A"))
    harmonization = Harmonization(
        melody, HarmonyStyle.CHORDS, 0, (melody.piece,), ("Melody",), chords
    )
    score = music21.converter.parseData(harmonization_musicxml(harmonization), format="musicxml")
    measures = list(score.parts[0].getElementsByClass(music21.stream.Measure))
    first_bar_notes = [n.pitch.midi for n in measures[0].notes if hasattr(n, "pitch")]
    assert first_bar_notes == [69]  # the upbeat alone, after a rest
    assert [n.pitch.midi for n in measures[1].notes if hasattr(n, "pitch")][:3] == [74, 78, 81]
    names = [h.figure for h in measures[1].getElementsByClass(music21.harmony.ChordSymbol)]
    assert names == ["D"]  # the bar's chord at its first beat


def test_the_bass_has_a_bass_clef_and_the_tenor_a_tenor_clef():
    import music21

    tune = Piece("hymn", tuple(Note(4 * i, p, 4) for i, p in enumerate([67, 69, 71, 67])))
    melody = melody_from_piece(tune)
    lower = [Piece(n, tuple(Note(4 * i, p, 4) for i in range(4)), meter="4/4")
             for n, p in (("alto", 62), ("tenor", 55), ("bass", 43))]  # fmt: skip
    harmonization = Harmonization(
        melody, HarmonyStyle.CHORALE, 0, (melody.piece, *lower),
        ("Soprano", "Alto", "Tenor", "Bass"),
    )  # fmt: skip
    score = music21.converter.parseData(harmonization_musicxml(harmonization), format="musicxml")
    clefs = [type(p.recurse().getElementsByClass(music21.clef.Clef).first()).__name__
             for p in score.parts]  # fmt: skip
    assert clefs == ["TrebleClef", "TrebleClef", "Treble8vbClef", "BassClef"]
