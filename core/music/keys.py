"""Keys: a piece's key by Krumhansl-Schmuckler, its name, and transposition to C major / A minor."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

import numpy as np

from core.music.piece import Note, Piece, transpose_piece
from core.music.scales import tonic_name

# Krumhansl-Kessler key profiles (major, minor), the ones music21's KrumhanslSchmuckler uses.
_MAJOR_PROFILE = np.array([6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88])

_MINOR_PROFILE = np.array([6.33, 2.68, 3.52, 5.38, 2.60, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17])


def estimate_key(notes: Iterable[Note]) -> tuple[int, str]:
    """(tonic pitch class, "major" | "minor") by Krumhansl-Schmuckler on duration-weighted notes.

    Written here rather than through music21 because it works on our note records directly,
    in microseconds, for MIDI files that never become music21 streams.
    """
    histogram = np.zeros(12)
    for note in notes:
        histogram[note.pitch % 12] += note.duration_steps
    if not histogram.any():
        return 0, "major"
    best = (-2.0, 0, "major")
    for mode, profile in (("major", _MAJOR_PROFILE), ("minor", _MINOR_PROFILE)):
        for tonic in range(12):
            r = float(np.corrcoef(histogram, np.roll(profile, tonic))[0, 1])
            if r > best[0]:
                best = (r, tonic, mode)
    return best[1], best[2]


def key_name(tonic: int, mode: str) -> str:
    """(3, "minor") → "Eb minor": the one spelling people read everywhere (`tonic_name`)."""
    return f"{tonic_name(tonic)} {mode}"


def key_normalizing_shift(piece: Piece) -> int:
    """Semitones (-6..+5) that move the piece's key to C major or A minor."""
    tonic, mode = estimate_key(piece.notes)
    target = 0 if mode == "major" else 9
    return (target - tonic + 6) % 12 - 6


def normalize_key(piece: Piece) -> Piece:
    """The piece transposed to C major / A minor, by the smallest interval."""
    shift = key_normalizing_shift(piece)
    tonic, mode = estimate_key(piece.notes)
    moved = transpose_piece(piece, shift)
    return replace(moved, key=key_name((tonic + shift) % 12, mode))
