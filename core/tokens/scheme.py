"""Music as tokens and back.

A piece is a set of notes on a quantization grid (`Note(onset_step, duration_steps, pitch)`). It
becomes a token sequence in a factorized time-shift / pitch / duration scheme (like MidiTok's TSD):

    BOS  [T<n>]*  P<pitch> D<steps>  P<pitch> D<steps> ...  T<n> ...  EOS

- `T<n>` moves the time forward by n grid steps (silences longer than `max_shift_steps` are
  written as several shifts), so rests and gaps survive;
- `P<midi pitch>` starts a note at the current time, with its octave; several P/D pairs without a
  shift between them form a chord, written with strictly ascending pitches;
- `D<n>` is the duration of the note just named, in grid steps.

Because pitch, duration and time are separate tokens, the vocabulary is small and covers music
it has not seen; one token per chord-with-duration (the tutorial's scheme) does not.
The grammar above is exactly what `core.tokens.grammar.GrammarState` accepts, so samplers
can enforce it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from enum import Enum

import pretty_midi

from core.music.keys import normalize_key
from core.music.midi import piece_to_midi
from core.music.piece import DEFAULT_TEMPO_BPM, Note, Piece
from core.tokens.config import EncodingConfig

PAD = "PAD"

UNK = "UNK"

BOS = "BOS"

EOS = "EOS"

SPECIAL_TOKENS: tuple[str, ...] = (PAD, UNK, BOS, EOS)


class TokenKind(Enum):
    SPECIAL = "special"
    SHIFT = "T"
    PITCH = "P"
    DURATION = "D"


def shift_token(steps: int) -> str:
    return f"T{steps}"


def pitch_token(pitch: int) -> str:
    return f"P{pitch}"


def duration_token(steps: int) -> str:
    return f"D{steps}"


# A dict, not `TokenKind(token[0])`: the sampler asks for every token several times, and an
# Enum's lookup by value cost 12 ms of a 1000-token piece
_KIND_OF_LETTER = {kind.value: kind for kind in TokenKind if kind is not TokenKind.SPECIAL}


def token_kind(token: str) -> TokenKind:
    if token in SPECIAL_TOKENS:
        return TokenKind.SPECIAL
    kind = _KIND_OF_LETTER.get(token[0])
    if kind is None:
        raise ValueError(f"{token[0]!r} is not a valid TokenKind")
    return kind


def token_value(token: str) -> int:
    """The number in a T/P/D token."""
    return int(token[1:])


def is_valid_token(token: str, config: EncodingConfig) -> bool:
    if token in SPECIAL_TOKENS:
        return True
    if len(token) < 2 or token[0] not in "TPD" or not token[1:].isdigit():
        return False
    value = token_value(token)
    if token[0] == "T":
        return 1 <= value <= config.max_shift_steps
    if token[0] == "P":
        return config.min_pitch <= value <= config.max_pitch
    return 1 <= value <= config.max_duration_steps


def piece_to_tokens(piece: Piece, config: EncodingConfig) -> list[str]:
    """Encode a piece (already on `config`'s grid) as tokens, BOS ... EOS.

    Pitches outside the config's range are dropped; durations above the maximum are cut to it.
    """
    if piece.steps_per_quarter != config.steps_per_quarter:
        raise ValueError(
            f"{piece.name}: grid of {piece.steps_per_quarter} steps per quarter, "
            f"config wants {config.steps_per_quarter}"
        )
    longest: dict[tuple[int, int], int] = {}  # two voices in unison: one note, the longer
    for note in piece.notes:
        if config.min_pitch <= note.pitch <= config.max_pitch:
            key = (note.onset_step, note.pitch)
            longest[key] = max(longest.get(key, 0), note.duration_steps)
    tokens = [BOS]
    time = 0
    for (onset, pitch), duration in sorted(longest.items()):
        gap = onset - time
        if gap > 0:
            full, rest = divmod(gap, config.max_shift_steps)
            tokens.extend([shift_token(config.max_shift_steps)] * full)
            if rest:
                tokens.append(shift_token(rest))
            time = onset
        tokens.append(pitch_token(pitch))
        tokens.append(duration_token(min(duration, config.max_duration_steps)))
    tokens.append(EOS)
    return tokens


def tokens_to_piece(
    tokens: Iterable[str],
    config: EncodingConfig,
    *,
    name: str = "generated",
    tempo_bpm: float = DEFAULT_TEMPO_BPM,
) -> Piece:
    """Decode tokens into a piece. Tokens that break the grammar are skipped, never guessed."""
    notes: list[Note] = []
    time = 0
    pending_pitch: int | None = None
    for token in tokens:
        if token == EOS:
            break
        if token in SPECIAL_TOKENS or not is_valid_token(token, config):
            pending_pitch = None
            continue
        kind, value = token_kind(token), token_value(token)
        if kind is TokenKind.SHIFT:
            time += value
            pending_pitch = None
        elif kind is TokenKind.PITCH:
            pending_pitch = value
        elif pending_pitch is not None:
            notes.append(Note(time, pending_pitch, value))
            pending_pitch = None
    return Piece(
        name=name,
        notes=tuple(sorted(set(notes))),
        steps_per_quarter=config.steps_per_quarter,
        tempo_bpm=tempo_bpm,
    )


def transpose_tokens(
    tokens: Sequence[str], semitones: int, config: EncodingConfig
) -> list[str] | None:
    """Tokens with every pitch moved; None when a pitch would leave the config's range."""
    out = []
    for token in tokens:
        if token[0] == "P" and token not in SPECIAL_TOKENS:
            pitch = token_value(token) + semitones
            if not config.min_pitch <= pitch <= config.max_pitch:
                return None
            out.append(pitch_token(pitch))
        else:
            out.append(token)
    return out


def prepare_piece(piece: Piece, config: EncodingConfig) -> Piece:
    """Apply the config's piece-level options (key normalization) before encoding."""
    return normalize_key(piece) if config.normalize_key else piece


def tokens_to_midi(
    tokens: Iterable[str],
    config: EncodingConfig,
    *,
    tempo_bpm: float = DEFAULT_TEMPO_BPM,
    program: int = 0,
) -> pretty_midi.PrettyMIDI:
    return piece_to_midi(tokens_to_piece(tokens, config, tempo_bpm=tempo_bpm), program=program)
