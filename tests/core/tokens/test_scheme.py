"""Music as tokens and back (core.tokens.scheme): MIDI → tokens → MIDI keeps every note, and
tokens → MIDI → tokens is the identity."""

import pytest

from core.music.files import read_music
from core.music.midi import midi_to_bytes, piece_to_midi
from core.music.piece import Note, Piece
from core.tokens.config import EncodingConfig
from core.tokens.scheme import (
    BOS,
    EOS,
    piece_to_tokens,
    tokens_to_midi,
    tokens_to_piece,
    transpose_tokens,
)

CONFIG = EncodingConfig()


def _notes(piece: Piece) -> list[tuple[int, int, int]]:
    return [(n.onset_step, n.duration_steps, n.pitch) for n in piece.notes]


def test_midi_tokens_midi_keeps_every_note_and_the_tempo(music_fixture):
    piece = read_music(music_fixture("scale.mid"))[0]
    tokens = piece_to_tokens(piece, CONFIG)
    midi = tokens_to_midi(tokens, CONFIG, tempo_bpm=piece.tempo_bpm)
    again = read_music(midi_to_bytes(midi), name="again.mid")[0]
    assert _notes(again) == _notes(piece)
    assert again.tempo_bpm == pytest.approx(100.0)
    # onset, duration and pitch in seconds too, as a MIDI player sees them
    original = read_music(music_fixture("scale.mid"))[0]
    assert len(midi.instruments[0].notes) == len(original.notes) == 10


def test_tokens_midi_tokens_is_identity(music_fixture):
    piece = read_music(music_fixture("scale.mid"))[0]
    tokens = piece_to_tokens(piece, CONFIG)
    midi_bytes = midi_to_bytes(tokens_to_midi(tokens, CONFIG, tempo_bpm=100))
    assert piece_to_tokens(read_music(midi_bytes, name="x.mid")[0], CONFIG) == tokens


def test_rests_chords_octaves_and_long_notes_survive(music_fixture):
    tokens = piece_to_tokens(read_music(music_fixture("scale.mid"))[0], CONFIG)
    assert tokens[0] == BOS and tokens[-1] == EOS
    # the rest: after the D4 note ending at step 8, the next onset is step 12 → shift of 8
    assert "T8" in tokens
    # the chord at step 16: three pitches in ascending order, no shift between them
    i = tokens.index("P48")
    assert tokens[i : i + 6] == ["P48", "D8", "P55", "D8", "P64", "D8"]
    # a two-octave leap keeps its octave; the 36-step note keeps its length
    assert "P84" in tokens and "D36" in tokens


def test_triplet_grid_round_trips_exactly(music_fixture):
    config = EncodingConfig(steps_per_quarter=3)
    piece = read_music(music_fixture("triplets.mid"), steps_per_quarter=3)[0]
    assert _notes(piece)[:3] == [(0, 3, 48), (0, 1, 67), (1, 1, 69)]
    tokens = piece_to_tokens(piece, config)
    decoded = tokens_to_piece(tokens, config, tempo_bpm=piece.tempo_bpm)
    assert _notes(decoded) == _notes(piece)
    again = read_music(midi_to_bytes(piece_to_midi(decoded)), name="t.mid", steps_per_quarter=3)
    assert piece_to_tokens(again[0], config) == tokens


def test_long_silence_becomes_several_shifts_and_long_notes_are_cut():
    piece = Piece("gap", (Note(0, 60, 1), Note(40, 62, 200)))
    tokens = piece_to_tokens(piece, CONFIG)
    assert tokens == [
        BOS,
        "P60",
        "D1",
        "T16",
        "T16",
        "T8",
        "P62",
        f"D{CONFIG.max_duration_steps}",
        EOS,
    ]


def test_unison_voices_become_one_note_the_longer():
    piece = Piece("unison", (Note(0, 60, 2), Note(0, 60, 4), Note(0, 64, 4)))
    assert piece_to_tokens(piece, CONFIG) == [BOS, "P60", "D4", "P64", "D4", EOS]


def test_decoding_skips_tokens_that_break_the_grammar():
    tokens = [BOS, "P60", "P62", "D4", "D2", "T4", "UNK", "P64", "D4", EOS, "P70", "D1"]
    piece = tokens_to_piece(tokens, CONFIG)
    assert _notes(piece) == [(0, 4, 62), (4, 4, 64)]


def test_transpose_tokens_moves_pitches_and_refuses_leaving_the_range():
    tokens = [BOS, "P60", "D4", "T4", "P107", "D2", EOS]
    assert transpose_tokens(tokens, -2, CONFIG) == [BOS, "P58", "D4", "T4", "P105", "D2", EOS]
    assert transpose_tokens(tokens, 2, CONFIG) is None
