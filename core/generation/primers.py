"""Primers: how a generated piece starts. A snippet of the training music (shipped beside a
model as `primers.json`), or the user's own tune, on the model's grid and in its key.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from core.generation.settings import SamplingSettings
from core.music.keys import estimate_key, key_normalizing_shift
from core.music.piece import BEATS_PER_BAR, Piece, transpose_piece
from core.music.scales import mode_to_scale
from core.tokens.config import EncodingConfig
from core.tokens.scheme import (
    BOS,
    EOS,
    SPECIAL_TOKENS,
    TokenKind,
    piece_to_tokens,
    token_kind,
    token_value,
)

log = logging.getLogger(__name__)

PRIMERS_FILE = "primers.json"  # optional: excerpts of the training music, shipped with a model
MAX_PRIMER_TOKENS = 2_000
DEFAULT_PRIMER_EXCERPT_TOKENS = 48
DEFAULT_PRIMER_PIECES = 40  # training pieces whose openings ship as primers.json
DEFAULT_PRIMER_TOKENS_PER_PIECE = 160


@dataclass(frozen=True)
class Primer:
    """Tokens to continue (without BOS/EOS), and the transposition applied to fit the model."""

    tokens: tuple[str, ...]
    transpose_semitones: int = 0  # the output is moved back by this much
    tempo_bpm: float | None = None
    name: str = ""
    # The tune's key as the listener hears it (before key normalization): a tonic pitch class
    # (0 = C) and a core.music.scales.Scale value; None when unknown (an excerpt of training music).
    tonic: int | None = None
    scale: str | None = None


def excerpt_primer(
    sequences: Sequence[Sequence[str]],
    rng: np.random.Generator,
    *,
    length_tokens: int = DEFAULT_PRIMER_EXCERPT_TOKENS,
) -> Primer:
    """A random excerpt of one of `sequences` that starts at a time shift and ends on a note.

    So it is a valid prefix on its own: it never starts inside a chord or on a duration.
    """
    usable = [list(s) for s in sequences if any(t[:1] == "D" for t in s)]
    if not usable:
        raise ValueError("no sequence holds a whole note")
    tokens = usable[int(rng.integers(len(usable)))]
    body = [t for t in tokens if t not in SPECIAL_TOKENS]
    starts = [0] + [i for i, t in enumerate(body) if t[0] == "T"]
    start = starts[int(rng.integers(len(starts)))]
    excerpt = body[start : start + length_tokens]
    while excerpt and excerpt[-1][0] != "D":
        excerpt.pop()
    if not excerpt:  # the chosen start had no note after it: take the piece's opening
        excerpt = body[:length_tokens]
        while excerpt and excerpt[-1][0] != "D":
            excerpt.pop()
    return Primer(tuple(excerpt), name="excerpt")


def piece_to_primer(
    piece: Piece, encoding: EncodingConfig, *, max_tokens: int = MAX_PRIMER_TOKENS
) -> Primer:
    """A piece ("continue my tune") as a primer on the model's grid and, if the model was
    trained key-normalized, transposed to C major / A minor (the output is moved back).

    The primer keeps the tune's own key (`tonic`, `scale`), estimated before normalization.
    """
    from core.music.midi import quantize

    if piece.steps_per_quarter != encoding.steps_per_quarter:
        factor = encoding.steps_per_quarter / piece.steps_per_quarter
        events = [
            (
                n.onset_step / piece.steps_per_quarter,
                n.duration_steps / piece.steps_per_quarter,
                n.pitch,
            )
            for n in piece.notes
        ]
        notes = quantize(events, steps_per_quarter=encoding.steps_per_quarter)
        piece = replace(piece, notes=notes, steps_per_quarter=encoding.steps_per_quarter)
        log.debug("primer regridded by %.2f", factor)
    tonic, mode = estimate_key(piece.notes)
    shift = key_normalizing_shift(piece) if encoding.normalize_key else 0
    if shift:
        piece = transpose_piece(piece, shift)
    tokens = [t for t in piece_to_tokens(piece, encoding) if t not in (BOS, EOS)]
    if len(tokens) > max_tokens:
        tokens = tokens[:max_tokens]
        while tokens and tokens[-1][0] != "D":
            tokens.pop()
    return Primer(
        tuple(tokens),
        transpose_semitones=shift,
        tempo_bpm=piece.tempo_bpm,
        name=piece.name,
        tonic=tonic,
        scale=mode_to_scale(mode).value,
    )


def music_to_primer(
    source: bytes | Path | str,
    encoding: EncodingConfig,
    *,
    name: str | None = None,
    max_tokens: int = MAX_PRIMER_TOKENS,
) -> Primer:
    """An uploaded MIDI/MusicXML/ABC file or a transcription → a primer (its first piece).

    Raises:
        InvalidMusicError: the file cannot be read or holds no notes the model can use.
    """
    from core.errors import InvalidMusicError
    from core.music.files import read_music

    pieces = read_music(source, name=name, steps_per_quarter=encoding.steps_per_quarter)
    primer = piece_to_primer(pieces[0], encoding, max_tokens=max_tokens)
    if not primer.tokens:
        label = name or (Path(source).name if not isinstance(source, bytes) else "upload")
        raise InvalidMusicError(
            f"{label}: no notes within the model's pitch range "
            f"({encoding.min_pitch}..{encoding.max_pitch})"
        )
    return primer


def write_training_primers(
    model_dir: Path,
    sequences: Sequence[Sequence[str]],
    *,
    source: str = "",
    pieces: int = DEFAULT_PRIMER_PIECES,
    tokens_per_piece: int = DEFAULT_PRIMER_TOKENS_PER_PIECE,
) -> Path:
    """Ship the openings of some training pieces beside a model (`primers.json`), so people can
    start from "a snippet of the music the model learned from" without the dataset.

    `sequences` are token sequences of the training side (`Dataset.train[i].tokens`).
    """

    from core.storage.files import atomic_write_text

    kept = [list(seq[:tokens_per_piece]) for seq in list(sequences)[:pieces]]
    path = Path(model_dir) / PRIMERS_FILE
    atomic_write_text(path, json.dumps({"source": source, "sequences": kept}) + "\n")
    return path


def read_primers(folder: Path) -> tuple[tuple[str, ...], ...]:

    path = Path(folder) / PRIMERS_FILE
    if not path.is_file():
        return ()
    try:
        data = json.loads(path.read_text())
        return tuple(tuple(str(t) for t in seq) for seq in data["sequences"])
    except (OSError, ValueError, KeyError, TypeError) as error:
        log.warning("%s: ignoring a corrupt %s (%s)", folder.name, PRIMERS_FILE, error)
        return ()


def primer_steps(primer: Primer) -> int:
    """The time steps the primer's moves of time take: where new music starts after it."""
    return sum(token_value(t) for t in primer.tokens if token_kind(t) is TokenKind.SHIFT)


def whole_piece_length(
    settings: SamplingSettings, primer: Primer | None, *, steps_per_quarter: int
) -> SamplingSettings:
    """The settings with their length in seconds counting the primer too, so a piece that
    starts from a snippet is as long as asked, not the snippet and that much more (a 20 s
    folk piece from a snippet ran 21 to 38 s). At least one bar of new music follows it.
    Lengths in tokens, and pieces without a primer, are left as they are."""
    if primer is None or settings.length_s is None:
        return settings
    seconds_per_step = 60.0 / settings.tempo_bpm / steps_per_quarter
    one_bar_s = BEATS_PER_BAR * steps_per_quarter * seconds_per_step
    new_s = max(settings.length_s - primer_steps(primer) * seconds_per_step, one_bar_s)
    return replace(settings, length_s=round(new_s, 3))
