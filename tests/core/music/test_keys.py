"""Keys (core.music.keys): estimation and normalization to C major / A minor."""

from core.music.keys import estimate_key, key_name, normalize_key
from core.music.piece import Note, Piece, transpose_piece


def test_key_estimate_and_normalization():
    g_major = [67, 69, 71, 72, 74, 76, 78, 79, 74, 71, 67]
    piece = Piece("g", tuple(Note(i * 4, p, 4) for i, p in enumerate(g_major)))
    assert key_name(*estimate_key(piece.notes)) == "G major"
    normalized = normalize_key(piece)
    assert normalized.key == "C major"
    assert normalized.notes[0].pitch == 72  # G up a fourth: 5 semitones, not 7
    assert estimate_key(transpose_piece(piece, 2).notes) == (9, "major")
