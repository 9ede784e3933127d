"""A melody to harmonize: one line kept as it is, chords refused with their bar, limits."""

from __future__ import annotations

import pytest

from core.errors import InvalidMusicError, MusicLimitError
from core.harmonize.melody import MAX_MELODY_NOTES, melody_from_piece, read_melody
from core.music.midi import midi_to_bytes, piece_to_midi
from core.music.piece import Note, Piece


def _tune(*notes: tuple[int, int, int], meter: str = "") -> Piece:
    return Piece("tune", tuple(Note(*n) for n in notes), meter=meter)


def test_a_single_line_is_kept_note_for_note_with_its_key():
    tune = _tune((0, 67, 4), (4, 71, 4), (8, 74, 8), (20, 72, 2), (22, 71, 2))
    melody = melody_from_piece(tune)
    assert melody.notes == tune.notes
    assert melody.piece.key == "G major"


def test_a_note_held_a_little_into_the_next_is_cut_where_the_next_starts():
    melody = melody_from_piece(_tune((0, 60, 5), (4, 62, 4)))
    assert melody.notes == (Note(0, 60, 4), Note(4, 62, 4))


def test_notes_that_start_together_are_refused_with_their_bar_in_the_pieces_meter():
    tune = _tune((0, 60, 4), (12, 62, 4), (24, 64, 4), (24, 67, 4), meter="3/4")
    with pytest.raises(
        InvalidMusicError, match=r"^tune: in bar 3 two or more notes sound together"
    ):
        melody_from_piece(tune)


def test_a_note_sounding_over_another_is_a_chord_too():
    with pytest.raises(InvalidMusicError, match="in bar 1 "):
        melody_from_piece(_tune((0, 60, 16), (4, 64, 4)))


def test_the_top_line_of_several_voices_is_the_highest_note_at_each_moment():
    chorale = _tune((0, 48, 8), (0, 64, 4), (0, 55, 8), (4, 65, 4), (8, 67, 8), (8, 52, 8))
    melody = melody_from_piece(chorale, top_line=True)
    assert melody.notes == (Note(0, 64, 4), Note(4, 65, 4), Note(8, 67, 8))


def test_no_notes_and_too_many_notes_are_refused_before_any_work():
    with pytest.raises(InvalidMusicError, match="no notes to harmonize"):
        melody_from_piece(Piece("empty", ()))
    many = _tune(*((i, 60, 1) for i in range(MAX_MELODY_NOTES + 1)))
    with pytest.raises(MusicLimitError, match="note limit"):
        melody_from_piece(many)


def test_a_file_is_read_and_its_name_starts_the_refusal(tmp_path):
    good = tmp_path / "hymn.mid"
    good.write_bytes(midi_to_bytes(piece_to_midi(_tune((0, 64, 4), (4, 62, 4), (8, 60, 8)))))
    assert [n.pitch for n in read_melody(good).notes] == [64, 62, 60]
    chords = tmp_path / "chords.mid"
    chords.write_bytes(midi_to_bytes(piece_to_midi(_tune((0, 60, 4), (0, 64, 4)))))
    with pytest.raises(InvalidMusicError, match=r"^chords.mid: in bar 1"):
        read_melody(chords)
    with pytest.raises(InvalidMusicError, match=r"^upload"):
        read_melody(b"not music at all")


def test_a_score_s_upbeat_is_kept_and_its_chords_start_at_the_bar_line():
    from core.harmonize.chords import estimated_chords

    jig = b"X:1\nT:Upbeat Jig\nM:6/8\nL:1/8\nK:D\nA|dfa afd|e2f gfe|dfa afd|e3 d2||\n"
    melody = read_melody(jig, name="jig.abc")
    assert melody.piece.meter == "6/8"
    assert melody.piece.pickup_steps == 2  # the eighth-note A before the first bar line
    chords = estimated_chords(melody)
    assert chords[0].onset_step == 2
    assert all((c.onset_step - 2) % 6 == 0 for c in chords)  # on the dotted quarters
