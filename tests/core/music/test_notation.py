"""Sheet music: piece/MIDI → MusicXML → SVG."""

from pathlib import Path

import pytest

from core.errors import InvalidMusicError
from core.music.files import read_music
from core.music.midi import midi_to_bytes, piece_to_midi
from core.music.notation import midi_to_musicxml, musicxml_to_svg, piece_to_musicxml, read_title
from core.music.piece import Note, Piece

MELODY = Piece(
    "little tune",
    tuple(Note(i * 4, p, 4) for i, p in enumerate([60, 62, 64, 65, 67, 65, 64, 62])),
    4,
    100.0,
)


def test_piece_to_musicxml_round_trips_the_notes(tmp_path: Path) -> None:
    musicxml = piece_to_musicxml(MELODY)
    assert b"<score-partwise" in musicxml
    assert read_title(musicxml) == "little tune"
    path = tmp_path / "tune.musicxml"
    path.write_bytes(musicxml)
    (piece,) = read_music(path)
    assert [n.pitch for n in piece.notes] == [n.pitch for n in MELODY.notes]
    assert [n.onset_step for n in piece.notes] == [n.onset_step for n in MELODY.notes]


def test_musicxml_to_svg_gives_pages_of_svg() -> None:
    musicxml = piece_to_musicxml(MELODY)
    (page,) = musicxml_to_svg(musicxml, pages=1)
    assert page.lstrip().startswith(("<svg", "<?xml")) and "</svg>" in page
    assert len(musicxml_to_svg(musicxml, pages=None)) >= 1


def test_chords_become_notation() -> None:
    chord = Piece("chords", (Note(0, 60, 8), Note(0, 64, 8), Note(0, 67, 8), Note(8, 62, 4)))
    musicxml = piece_to_musicxml(chord)
    assert musicxml.count(b"<chord") >= 2


def test_bad_midi_is_refused_with_its_name(tmp_path: Path) -> None:
    path = tmp_path / "broken.mid"
    path.write_bytes(b"MThd garbage")
    with pytest.raises(InvalidMusicError, match="broken"):
        midi_to_musicxml(path)


def test_midi_bytes_convert() -> None:
    musicxml = midi_to_musicxml(midi_to_bytes(piece_to_midi(MELODY)), title="from bytes")
    assert read_title(musicxml) == "from bytes"


def test_low_and_high_notes_go_on_a_grand_staff(tmp_path: Path) -> None:
    piece = Piece("both hands", (Note(0, 48, 8), Note(0, 72, 4), Note(4, 74, 4)), 4, 100.0)
    musicxml = piece_to_musicxml(piece)
    assert musicxml.count(b"<score-part ") == 2
    path = tmp_path / "both.musicxml"
    path.write_bytes(musicxml)
    (back,) = read_music(path)
    assert sorted(n.pitch for n in back.notes) == [48, 72, 74]


def test_a_generated_tune_downloads_as_musicxml_with_the_same_notes(tmp_path: Path) -> None:
    from core.generation.generator import Generator
    from core.generation.settings import SamplingSettings

    result = Generator.from_folder("folk-tunes").generate(
        SamplingSettings(length_tokens=None, length_s=10.0, tempo_bpm=100.0, key=2), seed=7
    )
    path = tmp_path / "folk-tunes-d-major-seed7.musicxml"
    path.write_bytes(piece_to_musicxml(result.piece))
    (piece,) = read_music(path)
    expected = [(n.onset_step, n.pitch, n.duration_steps) for n in result.piece.notes]
    assert [(n.onset_step, n.pitch, n.duration_steps) for n in piece.notes] == expected


@pytest.mark.parametrize("meter", ["6/8", "3/4", "9/8"])
def test_the_sheet_music_is_in_the_piece_s_meter(meter: str) -> None:
    jig = Piece("jig", tuple(Note(i * 2, 62 + i % 5, 2) for i in range(36)), 4, 110.0, meter=meter)
    musicxml = piece_to_musicxml(jig)
    numerator, denominator = meter.split("/")
    assert f"<beats>{numerator}</beats>".encode() in musicxml
    assert f"<beat-type>{denominator}</beat-type>".encode() in musicxml
    assert b"<beats>4</beats>" not in musicxml
    (again,) = read_music(musicxml, name="jig.musicxml")
    assert again.meter == meter
    assert [n.onset_step for n in again.notes] == [n.onset_step for n in jig.notes]


def test_a_grand_staff_keeps_the_meter_in_both_hands() -> None:
    waltz = Piece("waltz", (Note(0, 48, 12), Note(0, 72, 4), Note(4, 74, 4), Note(8, 76, 4)),
                  4, 100.0, meter="3/4")
    musicxml = piece_to_musicxml(waltz)
    assert musicxml.count(b"<beats>3</beats>") == 2 and b"<beats>4</beats>" not in musicxml


def test_a_piece_that_starts_on_an_upbeat_keeps_its_bar_lines_in_the_sheet_music() -> None:
    import music21

    # 6/8 with an eighth's upbeat: the first bar line falls 2 steps in, then every 12 steps
    notes = (Note(0, 60, 2), *(Note(2 + 2 * i, 62 + i % 5, 2) for i in range(12)))
    jig = Piece("jig", notes, 4, 110.0, meter="6/8", pickup_steps=2)
    score = music21.converter.parseData(piece_to_musicxml(jig), format="musicxml")
    measures = list(score.parts[0].getElementsByClass("Measure"))
    assert measures[0].timeSignature.ratioString == "6/8"
    first = [(float(e.offset), e.isRest) for e in measures[0].notesAndRests]
    assert first[-1] == (2.5, False)  # the upbeat is the first bar's last eighth, rests before it
    assert all(is_rest for _, is_rest in first[:-1])
    later = [e for m in measures[1:] for e in m.notes]
    assert len(later) == 12 and not any(e.tie for e in later)  # no note tied over a bar line
