"""Primers: how a generated piece starts. A snippet of the training music (shipped beside a
model as `primers.json`), or the user's own tune, on the model's grid and in its key.

A primer also says the meter the piece is in and where its bar lines fall (the models know no
meter: a piece takes the one it starts from). `primers.json` keeps each training opening's
meter and pickup beside its tokens ("meters", "pickups"; files without them: "" and 0).
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
from core.music.meter import BarGrid, parse_meter
from core.music.piece import Piece, meter_bar_grid, transpose_piece
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
    # The meter of the music it comes from ("" when it states none: 4/4), and the steps from
    # its start to its first bar line (0: it starts on one). A generated piece keeps both.
    meter: str = ""
    pickup_steps: int = 0
    # A snippet of the model's own training music: the piece goes on in the style's form
    # (`core.generation.form`), restating the snippet's bars too. A tune of the user's is
    # continued in its own way (free form), so it is False for those.
    from_training: bool = False

    def __post_init__(self) -> None:
        if self.meter:
            object.__setattr__(self, "meter", str(parse_meter(self.meter)))  # ValueError: not one
        if isinstance(self.pickup_steps, bool) or not isinstance(self.pickup_steps, int):
            raise ValueError(f"a pickup is a whole number of steps, not {self.pickup_steps!r}")
        if self.pickup_steps < 0:
            raise ValueError(f"a pickup lasts 0 steps or more, not {self.pickup_steps}")


@dataclass(frozen=True)
class TrainingOpening:
    """The opening of one training piece as `primers.json` keeps it: its tokens (from BOS), its
    meter ("" when its file states none) and the steps from its start to its first bar line."""

    tokens: tuple[str, ...]
    meter: str = ""
    pickup_steps: int = 0


def excerpt_primer(
    sequences: Sequence[Sequence[str] | TrainingOpening],
    rng: np.random.Generator,
    *,
    length_tokens: int = DEFAULT_PRIMER_EXCERPT_TOKENS,
    steps_per_quarter: int | None = None,
) -> Primer:
    """A random excerpt of one of `sequences` that starts at a time shift and ends on a note.

    So it is a valid prefix on its own: it never starts inside a chord or on a duration. It
    carries its piece's meter, and its pickup: where the piece's bar lines fall after the
    excerpt's start (`steps_per_quarter`, the grid of the tokens, is needed for that; None:
    the excerpt carries no meter). Plain token sequences are openings without a meter.
    """
    openings = [
        s if isinstance(s, TrainingOpening) else TrainingOpening(tuple(s)) for s in sequences
    ]
    usable = [o for o in openings if any(t[:1] == "D" for t in o.tokens)]
    if not usable:
        raise ValueError("no sequence holds a whole note")
    opening = usable[int(rng.integers(len(usable)))]
    body = [t for t in opening.tokens if t not in SPECIAL_TOKENS]
    starts = [0] + [i for i, t in enumerate(body) if t[0] == "T"]
    start = starts[int(rng.integers(len(starts)))]
    excerpt = body[start : start + length_tokens]
    while excerpt and excerpt[-1][0] != "D":
        excerpt.pop()
    if not excerpt:  # the chosen start had no note after it: take the piece's opening
        start = 0
        excerpt = body[:length_tokens]
        while excerpt and excerpt[-1][0] != "D":
            excerpt.pop()
    grid = _opening_grid(opening, steps_per_quarter)
    if grid is None:
        return Primer(tuple(excerpt), name="excerpt", from_training=True)
    skipped = sum(token_value(t) for t in body[:start] if token_kind(t) is TokenKind.SHIFT)
    pickup = (grid.pickup_steps - skipped) % grid.bar_steps
    return Primer(
        tuple(excerpt),
        name="excerpt",
        meter=opening.meter,
        pickup_steps=pickup,
        from_training=True,
    )


def _opening_grid(opening: TrainingOpening, steps_per_quarter: int | None) -> BarGrid | None:
    """The opening's bars, when it states a meter (None otherwise)."""
    if not opening.meter or steps_per_quarter is None:
        return None
    return meter_bar_grid(steps_per_quarter, opening.meter, pickup_steps=opening.pickup_steps)


def primer_bar_grid(primer: Primer | None, *, steps_per_quarter: int) -> BarGrid:
    """Where the bars of a piece that starts from `primer` fall: its meter's, from its pickup
    (4/4 from the start without a primer; `core.music.piece.meter_bar_grid`)."""
    if primer is None:
        return meter_bar_grid(steps_per_quarter, "")
    return meter_bar_grid(steps_per_quarter, primer.meter, pickup_steps=primer.pickup_steps)


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
        bars = meter_bar_grid(
            encoding.steps_per_quarter, piece.meter, pickup_steps=round(piece.pickup_steps * factor)
        )
        piece = replace(
            piece,
            notes=notes,
            steps_per_quarter=encoding.steps_per_quarter,
            pickup_steps=bars.pickup_steps,
        )
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
        meter=piece.meter,
        pickup_steps=piece.pickup_steps,
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
    meters: Sequence[str] | None = None,
    pickups: Sequence[int] | None = None,
    pieces: int = DEFAULT_PRIMER_PIECES,
    tokens_per_piece: int = DEFAULT_PRIMER_TOKENS_PER_PIECE,
) -> Path:
    """Ship the openings of some training pieces beside a model (`primers.json`), so people can
    start from "a snippet of the music the model learned from" without the dataset.

    `sequences` are token sequences of the training side (`Dataset.train[i].tokens`); `meters`
    their pieces' meters (`Dataset.train_meters()`; "" where a file states none) and `pickups`
    the steps from each piece's start to its first bar line (None: 0, on a bar line).
    """

    from core.storage.files import atomic_write_text

    chosen = list(sequences)[:pieces]
    kept = [list(seq[:tokens_per_piece]) for seq in chosen]
    data: dict[str, object] = {"source": source, "sequences": kept}
    if meters is not None:
        if len(meters) < len(sequences):
            raise ValueError(f"{len(meters)} meters for {len(sequences)} sequences")
        data["meters"] = [str(parse_meter(m)) if m else "" for m in list(meters)[: len(kept)]]
        data["pickups"] = [int(p) for p in (pickups or [0] * len(kept))][: len(kept)]
    path = Path(model_dir) / PRIMERS_FILE
    atomic_write_text(path, json.dumps(data) + "\n")
    return path


def read_primers(folder: Path) -> tuple[TrainingOpening, ...]:
    """The openings a model folder ships (none when it has no `primers.json`, or a corrupt one).

    Files written before meters hold none: their openings read as "" (4/4) from a bar line; a
    meter that cannot be read is dropped the same way, the opening kept.
    """
    path = Path(folder) / PRIMERS_FILE
    if not path.is_file():
        return ()
    try:
        data = json.loads(path.read_text())
        sequences = [tuple(str(t) for t in seq) for seq in data["sequences"]]
        meters = data.get("meters") or []
        pickups = data.get("pickups") or []
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as error:
        log.warning("%s: ignoring a corrupt %s (%s)", folder.name, PRIMERS_FILE, error)
        return ()
    if len(meters) != len(sequences) or len(pickups) != len(meters):
        if meters or pickups:
            log.warning("%s: %s names no meter for every opening", folder.name, PRIMERS_FILE)
        return tuple(TrainingOpening(seq) for seq in sequences)
    return tuple(
        _opening(seq, meter, pickup, folder=folder)
        for seq, meter, pickup in zip(sequences, meters, pickups, strict=True)
    )


def _opening(
    tokens: tuple[str, ...], meter: object, pickup: object, *, folder: Path
) -> TrainingOpening:
    try:
        text = str(parse_meter(meter)) if meter else ""  # type: ignore[arg-type]
        steps = int(pickup) if not isinstance(pickup, bool) else 0  # type: ignore[call-overload]
        if steps < 0:
            raise ValueError(f"a pickup of {steps} steps")
    except (ValueError, TypeError) as error:
        log.warning("%s: an opening's meter is dropped (%s)", folder.name, error)
        return TrainingOpening(tokens)
    return TrainingOpening(tokens, text, steps)


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
    bar = primer_bar_grid(primer, steps_per_quarter=steps_per_quarter).bar_steps
    one_bar_s = bar * seconds_per_step
    new_s = max(settings.length_s - primer_steps(primer) * seconds_per_step, one_bar_s)
    return replace(settings, length_s=round(new_s, 3))
