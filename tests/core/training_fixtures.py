"""Tiny patterned pieces for training tests: a model can learn them to near-zero loss."""

from __future__ import annotations

from pathlib import Path

from core.data.datasets import Dataset, build_dataset
from core.model.network import ModelConfig
from core.music.midi import midi_to_bytes, piece_to_midi
from core.music.piece import Note, Piece
from core.tokens.config import EncodingConfig
from core.training.config import TrainingConfig

PATTERN = (60, 62, 64, 65, 67, 65, 64, 62)  # a scale up and down, one note per eighth
STEP = 2


def patterned_piece(name: str, *, repeats: int = 5, transpose: int = 0) -> Piece:
    notes = []
    for i in range(repeats * len(PATTERN)):
        notes.append(Note(i * STEP, PATTERN[i % len(PATTERN)] + transpose, STEP))
    return Piece(name=name, notes=tuple(notes))


def patterned_pieces(count: int = 6) -> list[Piece]:
    return [patterned_piece(f"tune {i}", repeats=10 + i % 3) for i in range(count)]


def patterned_dataset(count: int = 6, *, encoding: EncodingConfig | None = None) -> Dataset:
    return build_dataset(patterned_pieces(count), name="patterns",
                         config=encoding or EncodingConfig())


def write_patterned_midi(folder: Path, count: int = 6) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for piece in patterned_pieces(count):
        (folder / f"{piece.name.replace(' ', '_')}.mid").write_bytes(
            midi_to_bytes(piece_to_midi(piece))
        )
    return folder


TINY_MODEL = ModelConfig(embedding_dim=8, units=32, layers=1, dropout=0.0)
TINY_TRAINING = TrainingConfig(sequence_length=16, batch_size=4, learning_rate=2e-2, epochs=10,
                               patience=10, augmentation=False, ngram_order=3)
