"""Constructed pieces shared by the evaluation tests (tests/core/evaluation/): a note is
Note(onset, pitch, duration) on a grid of 4 steps per quarter note, a bar 16 steps (4/4).
"""

from __future__ import annotations

import numpy as np

from core.music.piece import Note, Piece

C_MAJOR = (0, 2, 4, 5, 7, 9, 11)


def piece(name: str, notes: list[tuple[int, int, int]], steps_per_quarter: int = 4) -> Piece:
    return Piece(name, tuple(Note(*n) for n in notes), steps_per_quarter)


def diatonic_piece(name: str, rng: np.random.Generator, bars: int = 8) -> Piece:
    """A melody in C major (white keys only) with varied note lengths."""
    notes, t = [], 0
    while t < bars * 16:
        d = int(rng.choice([1, 2, 2, 4, 4, 6, 8]))
        pitch = 60 + int(rng.choice(C_MAJOR)) + 12 * int(rng.integers(-1, 2))
        notes.append(Note(t, pitch, d))
        t += d
    return Piece(name, tuple(notes))


def random_pitch_piece(name: str, rng: np.random.Generator, bars: int = 8) -> Piece:
    """A melody on uniformly random pitches: all 12 pitch classes, no key."""
    notes, t = [], 0
    while t < bars * 16:
        d = int(rng.choice([1, 2, 2, 4]))
        notes.append(Note(t, int(rng.integers(48, 84)), d))
        t += d
    return Piece(name, tuple(notes))


def real_pieces_in_c_major() -> list[Piece]:
    """Twelve 8-bar melodies in C major: the "real music" of the evaluation tests."""
    rng = np.random.default_rng(0)
    return [diatonic_piece(f"real {i:02d}", rng) for i in range(12)]


def random_pitch_pieces() -> list[Piece]:
    """Eight 8-bar melodies on random pitches: music in no key."""
    rng = np.random.default_rng(0)
    return [random_pitch_piece(f"random {i}", rng) for i in range(8)]
