"""The quick MIDI writer writes the very bytes pretty_midi writes."""

from __future__ import annotations

import numpy as np
import pytest

from core.music.midi import midi_to_bytes, piece_to_midi
from core.music.midi_writer import piece_midi_bytes
from core.music.piece import Note, Piece


def _random_piece(rng: np.random.Generator, *, spq: int, meter: str, name: str) -> Piece:
    notes = []
    for _ in range(int(rng.integers(0, 60))):
        onset = int(rng.integers(0, 64))
        # few pitches, so notes of one pitch end where the next begins, or overlap
        notes.append(Note(onset, int(rng.choice([0, 60, 62, 127])), int(rng.integers(1, 9))))
    return Piece(name, tuple(sorted(notes)), steps_per_quarter=spq, meter=meter)


@pytest.mark.parametrize("spq", [4, 3, 6, 12, 7])  # 7 does not divide 480: pretty_midi's way
def test_the_bytes_are_pretty_midis(spq: int) -> None:
    rng = np.random.default_rng(spq)
    for index in range(40):
        piece = _random_piece(
            rng,
            spq=spq,
            meter=["", "6/8", "3/4", "9/8", "2/2"][index % 5],
            name=["", "folk-tunes seed 3", "Jig in D", "é" * 80][index % 4],
        )
        for tempo, program in ((None, 0), (97.3, 73), (240.0, 24)):
            expected = midi_to_bytes(piece_to_midi(piece, tempo_bpm=tempo, program=program))
            assert piece_midi_bytes(piece, tempo_bpm=tempo, program=program) == expected, (
                index,
                tempo,
            )


def test_a_generated_piece_writes_the_same_file_as_before() -> None:
    from core.generation.generator import DEFAULT_MODEL_DIR, Generator
    from core.generation.settings import SamplingSettings

    generator = Generator.from_folder(DEFAULT_MODEL_DIR)
    for seed, meter in ((1, ""), (2, "6/8")):
        result = generator.generate(SamplingSettings(length_tokens=400, meter=meter), seed=seed)
        expected = midi_to_bytes(piece_to_midi(result.piece, program=result.settings.program))
        assert result.midi_bytes == expected
