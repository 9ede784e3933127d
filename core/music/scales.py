"""Keys and scales: the names people choose ("D", "F#", "blues"), their pitch classes, and the
plan that puts a generated piece in a chosen key and holds its new notes to a scale.

Pitch classes count semitones above C (0 = C ... 11 = B). A model trained key-normalized writes
in C major or A minor ("model space"); `plan_key` works out how far its output moves to reach the
key asked for, and which pitch classes the scale lock lets through.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum

from core.errors import InvalidSettingError

PITCH_CLASSES = 12
TONIC_NAMES = ("C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B")
NORMALIZED_MAJOR_TONIC = 0  # key-normalized models write major music in C major ...
NORMALIZED_MINOR_TONIC = 9  # ... and minor music in A minor
_LETTER_PITCH_CLASSES = {"C": 0, "D": 2, "E": 4, "F": 5, "G": 7, "A": 9, "B": 11}
_ACCIDENTALS = {"": 0, "#": 1, "♯": 1, "b": -1, "-": -1, "♭": -1}
_TONIC_PATTERN = re.compile(r"([a-g])\s*(#|♯|b|-|♭)?", re.IGNORECASE)


class Scale(Enum):
    """The scales a piece can be generated in or locked to."""

    MAJOR = "major"
    NATURAL_MINOR = "natural minor"
    HARMONIC_MINOR = "harmonic minor"
    MAJOR_PENTATONIC = "major pentatonic"
    MINOR_PENTATONIC = "minor pentatonic"
    BLUES = "blues"

    @property
    def is_minor(self) -> bool:
        """Whether the scale has a minor third (a key-normalized model writes it in A minor)."""
        return self in _MINOR_SCALES

    @property
    def intervals(self) -> tuple[int, ...]:
        """Semitones above the tonic, ascending."""
        return _INTERVALS[self]

    @property
    def tonic_triad(self) -> tuple[int, int, int]:
        """The tonic chord's semitones above the tonic: a minor or a major triad."""
        return (0, 3, 7) if self.is_minor else (0, 4, 7)


_INTERVALS: dict[Scale, tuple[int, ...]] = {
    Scale.MAJOR: (0, 2, 4, 5, 7, 9, 11),
    Scale.NATURAL_MINOR: (0, 2, 3, 5, 7, 8, 10),
    Scale.HARMONIC_MINOR: (0, 2, 3, 5, 7, 8, 11),
    Scale.MAJOR_PENTATONIC: (0, 2, 4, 7, 9),
    Scale.MINOR_PENTATONIC: (0, 3, 5, 7, 10),
    Scale.BLUES: (0, 3, 5, 6, 7, 10),  # minor pentatonic with the flat fifth
}
_MINOR_SCALES = frozenset(
    {Scale.NATURAL_MINOR, Scale.HARMONIC_MINOR, Scale.MINOR_PENTATONIC, Scale.BLUES}
)
SCALE_CHOICES = ", ".join(s.value for s in Scale)


def scale_pitch_classes(tonic: int, scale: Scale | str) -> frozenset[int]:
    """The pitch classes of `scale` on `tonic` (0 = C): D major → {2, 4, 6, 7, 9, 11, 1}."""
    return frozenset((tonic + step) % PITCH_CLASSES for step in parse_scale(scale).intervals)


def tonic_name(pitch_class: int) -> str:
    """0 → "C", 3 → "Eb", 6 → "F#" (the spellings of TONIC_NAMES)."""
    return TONIC_NAMES[pitch_class % PITCH_CLASSES]


def spell_key(key: str) -> str:
    """ "E- major" (music21's spelling) → "Eb major", in the spelling of TONIC_NAMES; "" stays."""
    tonic, _, mode = key.partition(" ")
    return f"{tonic_name(parse_tonic(tonic))} {mode}" if tonic and mode else key


def check_tonic(value: object, *, name: str = "tonic") -> int:
    """`value` as a pitch class 0..11.

    Raises:
        ValueError: not a whole number within 0..11 (the message names it `name`).
    """
    if isinstance(value, int | float) and not isinstance(value, bool):
        whole = int(value)
        if whole == value and 0 <= whole < PITCH_CLASSES:
            return whole
    raise InvalidSettingError(
        f"{name} must be a pitch class 0..11 (0 = C, 2 = D, ... 11 = B), not {value!r}"
    )


def parse_tonic(text: str) -> int:
    """A key name → its pitch class: "C", "c#", "Db", "D-", "Bb", "B-" (case-insensitive).

    Raises:
        ValueError: not a letter A-G with an optional sharp (#) or flat (b, -).
    """
    match = _TONIC_PATTERN.fullmatch(str(text).strip())
    if match is None:
        raise InvalidSettingError(f"{text!r} is not a key name; use C, C#, Db, ... B")
    letter, accidental = match.group(1).upper(), (match.group(2) or "").lower()
    return (_LETTER_PITCH_CLASSES[letter] + _ACCIDENTALS[accidental]) % PITCH_CLASSES


def parse_scale(text: Scale | str) -> Scale:
    """A scale's name → the Scale: its value ("natural minor"), "minor" (natural minor), with
    dashes or underscores for spaces ("natural-minor", "MAJOR_PENTATONIC").

    Raises:
        ValueError: not one of the scales; the message lists them.
    """
    if isinstance(text, Scale):
        return text
    words = " ".join(str(text).replace("-", " ").replace("_", " ").lower().split())
    if words == "minor":
        return Scale.NATURAL_MINOR
    try:
        return Scale(words)
    except ValueError:
        raise InvalidSettingError(
            f"{text!r} is not a scale; choose one of: {SCALE_CHOICES}"
        ) from None


def key_label(tonic: int, scale: Scale | str) -> str:
    """ "D major", "F# blues"."""
    return f"{tonic_name(tonic)} {parse_scale(scale).value}"


def mode_to_scale(mode: str) -> Scale:
    """`core.encoding.estimate_key`'s mode ("major" | "minor") as a Scale."""
    return Scale.NATURAL_MINOR if mode == "minor" else Scale.MAJOR


def nearest_shift(from_tonic: int, to_tonic: int) -> int:
    """The smallest move (-6..+5 semitones) from one pitch class to another."""
    return (to_tonic - from_tonic + 6) % PITCH_CLASSES - 6


def normalized_tonic(scale: Scale) -> int:
    """Where a key-normalized model writes music in `scale`: C (major-like) or A (minor-like)."""
    return NORMALIZED_MINOR_TONIC if scale.is_minor else NORMALIZED_MAJOR_TONIC


@dataclass(frozen=True)
class KeyPlan:
    """Where a generation's output goes: output pitch = token pitch + `transpose_semitones`;
    the key it is in (None: nothing was asked and the tune's key is unknown); the lock."""

    transpose_semitones: int = 0
    tonic: int | None = None
    scale: Scale | None = None
    lock: bool = False

    def allowed_pitch_classes(self) -> frozenset[int] | None:
        """The output pitch classes new notes may take; None when the scale is not locked."""
        if not self.lock or self.tonic is None or self.scale is None:
            return None
        return scale_pitch_classes(self.tonic, self.scale)


def plan_key(
    *,
    key: int | None,
    scale: Scale | str | None,
    lock_scale: bool,
    normalized_model: bool,
    tune_transpose_semitones: int = 0,
    tune_tonic: int | None = None,
    tune_scale: Scale | str | None = None,
) -> KeyPlan:
    """The output transposition and key of one generation.

    The tune (a primer) is in model space and moves back by -`tune_transpose_semitones`; its
    key as heard is `tune_tonic` / `tune_scale`. Without a tune's key, a key-normalized model's
    key is C major or A minor (by whether the scale asked for is minor); a model that is not
    key-normalized has no known key, so nothing moves and a lock without a key uses C / A.
    With `key` set, the output moves on by the smallest interval from that reference to `key`.
    Nothing asked (no key, no scale, no lock): only the tune's own move, as before keys existed.
    """
    base = -tune_transpose_semitones
    tune = parse_scale(tune_scale) if tune_tonic is not None and tune_scale is not None else None
    asked = parse_scale(scale) if scale is not None else None
    if key is None and asked is None and not lock_scale:
        return KeyPlan(base, tune_tonic, tune)
    chosen = asked or tune or Scale.MAJOR
    if tune_tonic is not None:
        reference: int | None = tune_tonic
    elif normalized_model:
        reference = (normalized_tonic(chosen) + base) % PITCH_CLASSES
    else:
        reference = None
    if key is not None:
        move = nearest_shift(reference, key) if reference is not None else 0
        return KeyPlan(base + move, key, chosen, lock_scale)
    tonic = reference if reference is not None else normalized_tonic(chosen)
    return KeyPlan(base, tonic, chosen, lock_scale)
