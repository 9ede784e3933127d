"""Chord names: "G", "Em", "D7", "Bdim" ↔ a root and a quality ↔ pitch classes.

Roots are spelled as `core.music.scales.TONIC_NAMES` spells tonics ("Eb", "F#", "Bb"), so a
chart reads like the key it is in. Reading is lenient ("Ebm", "E♭m", "Eb-m" is not: "-" is a
flat only right after the letter, as music21 writes it), writing is one spelling.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum

from core.errors import InvalidSettingError
from core.music.scales import PITCH_CLASSES, TONIC_NAMES, tonic_name

_LETTERS = {"C": 0, "D": 2, "E": 4, "F": 5, "G": 7, "A": 9, "B": 11}
_ACCIDENTALS = {"": 0, "#": 1, "♯": 1, "b": -1, "♭": -1, "-": -1}
_CHORD_PATTERN = re.compile(r"^\s*([A-Ga-g])(#|♯|b|♭|-)?(.*?)\s*$")


class ChordQuality(Enum):
    """The chords a chart uses; the value is the suffix after the root."""

    MAJOR = ""
    MINOR = "m"
    DOMINANT_SEVENTH = "7"
    DIMINISHED = "dim"

    @property
    def intervals(self) -> tuple[int, ...]:
        """Semitones above the root, root first: the order a voicing stacks them."""
        return _INTERVALS[self]


_INTERVALS = {
    ChordQuality.MAJOR: (0, 4, 7),
    ChordQuality.MINOR: (0, 3, 7),
    ChordQuality.DOMINANT_SEVENTH: (0, 4, 7, 10),
    ChordQuality.DIMINISHED: (0, 3, 6),
}
# Other ways people write the same qualities ("Gmaj", "Emin", "Bo").
_SUFFIXES: dict[str, ChordQuality] = {
    "": ChordQuality.MAJOR,
    "maj": ChordQuality.MAJOR,
    "M": ChordQuality.MAJOR,
    "m": ChordQuality.MINOR,
    "min": ChordQuality.MINOR,
    "7": ChordQuality.DOMINANT_SEVENTH,
    "dom7": ChordQuality.DOMINANT_SEVENTH,
    "dim": ChordQuality.DIMINISHED,
    "o": ChordQuality.DIMINISHED,
    "°": ChordQuality.DIMINISHED,
}


@dataclass(frozen=True, order=True)
class Chord:
    """A root (pitch class, 0 = C) and a quality: Chord(7, DOMINANT_SEVENTH) is "G7"."""

    root: int
    quality: ChordQuality

    @property
    def name(self) -> str:
        return chord_name(self.root, self.quality)

    @property
    def pitch_classes(self) -> tuple[int, ...]:
        """Root first, then third, fifth and (a seventh chord) seventh."""
        return tuple((self.root + i) % PITCH_CLASSES for i in self.quality.intervals)

    def transposed(self, semitones: int) -> Chord:
        return Chord((self.root + semitones) % PITCH_CLASSES, self.quality)


def chord_name(root: int, quality: ChordQuality | str = ChordQuality.MAJOR) -> str:
    """(7, "7") → "G7", (10, MAJOR) → "Bb", (6, MINOR) → "F#m"."""
    if not isinstance(quality, ChordQuality):
        quality = _quality(str(quality), str(quality))
    return f"{tonic_name(root)}{quality.value}"


def _quality(suffix: str, name: str) -> ChordQuality:
    if suffix in _SUFFIXES:
        return _SUFFIXES[suffix]
    if suffix.lower() in _SUFFIXES and suffix.lower() != "m":  # "MAJ", "DIM"; not "M" for m
        return _SUFFIXES[suffix.lower()]
    raise InvalidSettingError(
        f"{name[:20]!r} is not a chord this app plays: write a root and, if it is not major, "
        "'m' (minor), '7' (dominant seventh) or 'dim', such as 'G', 'Em', 'D7' or 'Bdim'"
    )


def read_chord(name: str) -> Chord:
    """ "D7" → Chord(2, DOMINANT_SEVENTH).

    Raises:
        InvalidSettingError: not a root letter with an optional sharp or flat and a quality.
    """
    if not isinstance(name, str) or not name.strip():
        raise InvalidSettingError(
            "a chord needs a name, such as 'G', 'Em', 'D7' or 'Bdim', not an empty one"
        )
    match = _CHORD_PATTERN.match(name)
    if match is None:
        raise InvalidSettingError(
            f"{name[:20]!r} is not a chord name: it must start with a root letter A-G, "
            "such as 'G', 'Em', 'D7' or 'Bdim'"
        )
    letter, accidental, suffix = match.groups()
    root = (_LETTERS[letter.upper()] + _ACCIDENTALS[accidental or ""]) % PITCH_CLASSES
    return Chord(root, _quality(suffix, name))


def parse_chord(name: str) -> tuple[int, ...]:
    """A chord's pitch classes, root first: "D7" → (2, 6, 9, 0).

    Raises:
        InvalidSettingError: not a chord name (see `read_chord`).
    """
    return read_chord(name).pitch_classes


def spell_chord(name: str) -> str:
    """A chord name in this app's spelling: "ebm" → "Ebm", "D#" → "Eb", "Gmaj" → "G"."""
    return read_chord(name).name


# Every chord a user may pick: each quality on each root, in TONIC_NAMES order.
ALL_CHORDS: tuple[Chord, ...] = tuple(
    Chord(root, quality) for quality in ChordQuality for root in range(len(TONIC_NAMES))
)
