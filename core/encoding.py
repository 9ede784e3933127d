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
The grammar above is exactly what `GrammarState` accepts, so samplers can enforce it.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field, replace
from enum import Enum
from pathlib import Path
from typing import Any

import numpy as np
import pretty_midi

from core.storage import atomic_write_json

PAD = "PAD"
UNK = "UNK"
BOS = "BOS"
EOS = "EOS"
SPECIAL_TOKENS: tuple[str, ...] = (PAD, UNK, BOS, EOS)

SIXTEENTH_STEPS_PER_QUARTER = 4
DEFAULT_STEPS_PER_QUARTER = SIXTEENTH_STEPS_PER_QUARTER
# Named grids for the UI: steps per quarter note. 12 holds both sixteenths and eighth triplets.
GRIDS: dict[str, int] = {
    "sixteenth": 4,
    "eighth triplet": 3,
    "sixteenth triplet": 6,
    "sixteenth + eighth triplet": 12,
}
DEFAULT_TEMPO_BPM = 120.0
DEFAULT_MAX_SHIFT_QUARTERS = 4  # one 4/4 bar; longer silences take several shift tokens
DEFAULT_MAX_DURATION_QUARTERS = 16  # longer notes are cut to four 4/4 bars
PIANO_MIN_PITCH = 21
PIANO_MAX_PITCH = 108
OUTPUT_VELOCITY = 80
OUTPUT_TICKS_PER_QUARTER = 480  # divisible by every grid in GRIDS, so decoding is exact


class TokenKind(Enum):
    SPECIAL = "special"
    SHIFT = "T"
    PITCH = "P"
    DURATION = "D"


@dataclass(frozen=True, order=True)
class Note:
    """One note on the grid. Sorted by onset, then pitch."""

    onset_step: int
    pitch: int
    duration_steps: int

    def __post_init__(self) -> None:
        if self.onset_step < 0 or self.duration_steps < 1 or not 0 <= self.pitch <= 127:
            raise ValueError(f"invalid note: {self}")

    @property
    def end_step(self) -> int:
        return self.onset_step + self.duration_steps


@dataclass(frozen=True)
class Piece:
    """A named piece of music: its notes on a grid of `steps_per_quarter`, with its tempo."""

    name: str
    notes: tuple[Note, ...]
    steps_per_quarter: int = DEFAULT_STEPS_PER_QUARTER
    tempo_bpm: float = DEFAULT_TEMPO_BPM
    key: str = ""  # e.g. "C major", estimated from the notes

    @property
    def length_steps(self) -> int:
        return max((n.end_step for n in self.notes), default=0)

    @property
    def duration_s(self) -> float:
        return self.length_steps / self.steps_per_quarter * 60.0 / self.tempo_bpm

    @property
    def pitch_range(self) -> tuple[int, int]:
        pitches = [n.pitch for n in self.notes]
        return (min(pitches), max(pitches)) if pitches else (0, 0)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "notes": [[n.onset_step, n.pitch, n.duration_steps] for n in self.notes],
            "steps_per_quarter": self.steps_per_quarter,
            "tempo_bpm": self.tempo_bpm,
            "key": self.key,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Piece:
        notes = tuple(Note(int(o), int(p), int(d)) for o, p, d in data["notes"])
        return cls(
            name=data["name"],
            notes=notes,
            steps_per_quarter=int(data["steps_per_quarter"]),
            tempo_bpm=float(data["tempo_bpm"]),
            key=data.get("key", ""),
        )


@dataclass(frozen=True)
class EncodingConfig:
    """Everything that decides how music becomes tokens. Saved beside every dataset and model."""

    steps_per_quarter: int = DEFAULT_STEPS_PER_QUARTER
    max_shift_quarters: int = DEFAULT_MAX_SHIFT_QUARTERS
    max_duration_quarters: int = DEFAULT_MAX_DURATION_QUARTERS
    min_pitch: int = PIANO_MIN_PITCH
    max_pitch: int = PIANO_MAX_PITCH
    normalize_key: bool = False  # transpose every piece to C major / A minor
    # Training augmentation: every piece is also seen transposed by -n..+n semitones. The
    # vocabulary is built over those transpositions so the model can name every pitch it sees.
    transpose_semitones: int = 0

    def __post_init__(self) -> None:
        if self.steps_per_quarter not in GRIDS.values():
            raise ValueError(f"steps_per_quarter must be one of {sorted(set(GRIDS.values()))}")
        if not 0 <= self.min_pitch <= self.max_pitch <= 127:
            raise ValueError("pitch range must lie within 0..127")
        if self.max_shift_quarters < 1 or self.max_duration_quarters < 1:
            raise ValueError("max shift and duration must be at least one quarter note")
        if not 0 <= self.transpose_semitones <= 12:
            raise ValueError("transpose_semitones must be within 0..12")

    @property
    def max_shift_steps(self) -> int:
        return self.max_shift_quarters * self.steps_per_quarter

    @property
    def max_duration_steps(self) -> int:
        return self.max_duration_quarters * self.steps_per_quarter

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> EncodingConfig:
        known = {f for f in cls.__dataclass_fields__}
        return cls(**{k: v for k, v in data.items() if k in known})

    def save(self, path: Path) -> None:
        atomic_write_json(path, self.to_dict())

    @classmethod
    def load(cls, path: Path) -> EncodingConfig:
        return cls.from_dict(json.loads(Path(path).read_text()))


# ---------------------------------------------------------------- tokens


def shift_token(steps: int) -> str:
    return f"T{steps}"


def pitch_token(pitch: int) -> str:
    return f"P{pitch}"


def duration_token(steps: int) -> str:
    return f"D{steps}"


def token_kind(token: str) -> TokenKind:
    if token in SPECIAL_TOKENS:
        return TokenKind.SPECIAL
    return TokenKind(token[0])


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


@dataclass
class GrammarState:
    """Which token kinds may come next; the sampler masks everything else.

    After BOS or a shift: a shift or a pitch. After a pitch: its duration. After a duration: a
    shift, a higher pitch in the same chord, or EOS. EOS is only allowed after a whole note.
    """

    last_kind: TokenKind | None = None  # None: just after BOS
    last_pitch_in_chord: int = -1
    finished: bool = False

    def allowed_kinds(self) -> frozenset[TokenKind]:
        if self.finished:
            return frozenset()
        if self.last_kind is TokenKind.PITCH:
            return frozenset({TokenKind.DURATION})
        if self.last_kind is TokenKind.DURATION:
            return frozenset({TokenKind.SHIFT, TokenKind.PITCH, TokenKind.SPECIAL})
        return frozenset({TokenKind.SHIFT, TokenKind.PITCH})

    def allows(self, token: str) -> bool:
        if token in (PAD, UNK, BOS):
            return False
        kind = token_kind(token)
        if kind not in self.allowed_kinds():
            return False
        return not (kind is TokenKind.PITCH and token_value(token) <= self.last_pitch_in_chord)

    def advance(self, token: str) -> None:
        if not self.allows(token):
            raise ValueError(f"token {token!r} breaks the grammar here")
        kind = token_kind(token)
        if kind is TokenKind.SPECIAL:  # EOS
            self.finished = True
        elif kind is TokenKind.SHIFT:
            self.last_pitch_in_chord = -1
        elif kind is TokenKind.PITCH:
            self.last_pitch_in_chord = token_value(token)
        self.last_kind = kind

    @classmethod
    def after(cls, tokens: Sequence[str]) -> GrammarState:
        """The state after a valid prefix (which may start with BOS)."""
        state = cls()
        for token in tokens:
            if token != BOS:
                state.advance(token)
        return state


# ---------------------------------------------------------------- vocabulary


@dataclass(frozen=True)
class Vocabulary:
    """Token strings and their ids; special tokens first (PAD=0, UNK=1, BOS=2, EOS=3)."""

    tokens: tuple[str, ...]
    _index: dict[str, int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.tokens[: len(SPECIAL_TOKENS)] != SPECIAL_TOKENS:
            raise ValueError("a vocabulary starts with the special tokens")
        if len(set(self.tokens)) != len(self.tokens):
            raise ValueError("a vocabulary has no repeated tokens")
        object.__setattr__(self, "_index", {t: i for i, t in enumerate(self.tokens)})

    def __len__(self) -> int:
        return len(self.tokens)

    def __contains__(self, token: object) -> bool:
        return token in self._index

    @property
    def pad_id(self) -> int:
        return self._index[PAD]

    @property
    def unk_id(self) -> int:
        return self._index[UNK]

    @property
    def bos_id(self) -> int:
        return self._index[BOS]

    @property
    def eos_id(self) -> int:
        return self._index[EOS]

    def id_of(self, token: str) -> int:
        return self._index.get(token, self.unk_id)

    def encode(self, tokens: Iterable[str]) -> list[int]:
        unk = self.unk_id
        return [self._index.get(t, unk) for t in tokens]

    def decode(self, ids: Iterable[int]) -> list[str]:
        return [self.tokens[int(i)] for i in ids]

    def coverage(self, tokens: Iterable[str]) -> float:
        """Fraction of `tokens` that the vocabulary knows (1.0 for an empty input)."""
        seen = known = 0
        for token in tokens:
            seen += 1
            known += token in self._index
        return known / seen if seen else 1.0

    @classmethod
    def build(cls, sequences: Iterable[Iterable[str]], *, min_count: int = 1) -> Vocabulary:
        """Every token seen at least `min_count` times, sorted by kind and value."""
        counts: Counter[str] = Counter()
        for sequence in sequences:
            counts.update(sequence)
        kept = [t for t, c in counts.items() if c >= min_count and t not in SPECIAL_TOKENS]
        kept.sort(key=lambda t: ("TPD".index(t[0]), token_value(t)))
        return cls(SPECIAL_TOKENS + tuple(kept))

    @classmethod
    def for_grid(cls, config: EncodingConfig) -> Vocabulary:
        """Every token the config can write: all shifts, pitches and durations of its grid.

        Music on this grid can never hold a token outside it, so a model with this vocabulary
        (the pretrained base) can be fine-tuned on anyone's music without changing its shape.
        """
        shifts = [shift_token(n) for n in range(1, config.max_shift_steps + 1)]
        pitches = [pitch_token(p) for p in range(config.min_pitch, config.max_pitch + 1)]
        durations = [duration_token(n) for n in range(1, config.max_duration_steps + 1)]
        return cls(SPECIAL_TOKENS + tuple(shifts + pitches + durations))

    def to_dict(self) -> dict[str, int]:
        """Token string → id: the format of `vocab.json` everywhere."""
        return dict(self._index)

    @classmethod
    def from_dict(cls, data: dict[str, int]) -> Vocabulary:
        ordered = sorted(data.items(), key=lambda item: item[1])
        if [i for _, i in ordered] != list(range(len(ordered))):
            raise ValueError("vocabulary ids must be 0..n-1")
        return cls(tuple(t for t, _ in ordered))

    def save(self, path: Path) -> None:
        atomic_write_json(path, self.to_dict())

    @classmethod
    def load(cls, path: Path) -> Vocabulary:
        return cls.from_dict(json.loads(Path(path).read_text()))


# ---------------------------------------------------------------- transposition and keys

# Krumhansl-Kessler key profiles (major, minor), the ones music21's KrumhanslSchmuckler uses.
_MAJOR_PROFILE = np.array([6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88])
_MINOR_PROFILE = np.array([6.33, 2.68, 3.52, 5.38, 2.60, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17])
PITCH_CLASS_NAMES = ("C", "C#", "D", "E-", "E", "F", "F#", "G", "A-", "A", "B-", "B")


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
    return f"{PITCH_CLASS_NAMES[tonic]} {mode}"


def transpose_piece(piece: Piece, semitones: int) -> Piece:
    notes = tuple(
        Note(n.onset_step, n.pitch + semitones, n.duration_steps)
        for n in piece.notes
        if 0 <= n.pitch + semitones <= 127
    )
    return replace(piece, notes=notes)


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


# ---------------------------------------------------------------- MIDI


def quantize(
    events: Iterable[tuple[float, float, int]], *, steps_per_quarter: int
) -> tuple[Note, ...]:
    """(onset in quarters, duration in quarters, pitch) → notes on the grid.

    Onset and end snap to the nearest step; a note never shrinks below one step; when the same
    pitch starts twice at one step, the longer note is kept.
    """
    best: dict[tuple[int, int], int] = {}
    for onset_q, duration_q, pitch in events:
        onset = round(onset_q * steps_per_quarter)
        end = round((onset_q + duration_q) * steps_per_quarter)
        onset = max(onset, 0)
        duration = max(end - onset, 1)
        key = (onset, int(pitch))
        if duration > best.get(key, 0):
            best[key] = duration
    return tuple(sorted(Note(o, p, d) for (o, p), d in best.items()))


def pretty_midi_to_notes(
    midi: pretty_midi.PrettyMIDI, *, steps_per_quarter: int
) -> tuple[Note, ...]:
    """Every pitched note of every non-drum instrument, on the grid (onsets in ticks/resolution)."""
    events = []
    resolution = midi.resolution
    for instrument in midi.instruments:
        if instrument.is_drum:
            continue
        for note in instrument.notes:
            start = midi.time_to_tick(note.start) / resolution
            end = midi.time_to_tick(note.end) / resolution
            events.append((start, end - start, note.pitch))
    return quantize(events, steps_per_quarter=steps_per_quarter)


def piece_to_midi(
    piece: Piece,
    *,
    tempo_bpm: float | None = None,
    program: int = 0,
    velocity: int = OUTPUT_VELOCITY,
) -> pretty_midi.PrettyMIDI:
    """One instrument (General MIDI `program`) at a fixed tempo, exact on the grid."""
    tempo = tempo_bpm or piece.tempo_bpm
    midi = pretty_midi.PrettyMIDI(resolution=OUTPUT_TICKS_PER_QUARTER, initial_tempo=tempo)
    instrument = pretty_midi.Instrument(program=program, name=piece.name[:60])
    seconds_per_step = 60.0 / tempo / piece.steps_per_quarter
    for note in piece.notes:
        instrument.notes.append(
            pretty_midi.Note(
                velocity=velocity,
                pitch=note.pitch,
                start=note.onset_step * seconds_per_step,
                end=note.end_step * seconds_per_step,
            )
        )
    midi.instruments.append(instrument)
    return midi


def midi_to_bytes(midi: pretty_midi.PrettyMIDI) -> bytes:
    import io

    buffer = io.BytesIO()
    midi.write(buffer)
    return buffer.getvalue()


def tokens_to_midi(
    tokens: Iterable[str],
    config: EncodingConfig,
    *,
    tempo_bpm: float = DEFAULT_TEMPO_BPM,
    program: int = 0,
) -> pretty_midi.PrettyMIDI:
    return piece_to_midi(tokens_to_piece(tokens, config, tempo_bpm=tempo_bpm), program=program)


def seconds_to_steps(duration_s: float, *, tempo_bpm: float, steps_per_quarter: int) -> int:
    return math.ceil(duration_s * tempo_bpm / 60.0 * steps_per_quarter)
