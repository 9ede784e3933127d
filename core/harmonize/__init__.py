"""Harmonize a tune: the user's melody kept note for note on top, with voices or chords below.

- `melody`: a single line of notes from a piece or a file, refused with the bar where it is not.
- `result`: a harmonization (its voices, its chord symbols) as one piece, MIDI and MusicXML.
- `chorale`: three lower voices in the style of Bach's chorales (a model that sees the melody).
- `chords`: chord symbols for the tune in the folk style, and an accompaniment that plays them.
"""

from core.harmonize.melody import (
    MAX_MELODY_BEATS,
    MAX_MELODY_NOTES,
    Melody,
    melody_from_piece,
    read_melody,
)
from core.harmonize.result import ChordSymbol, Harmonization, HarmonyStyle

__all__ = [
    "MAX_MELODY_BEATS",
    "MAX_MELODY_NOTES",
    "ChordSymbol",
    "Harmonization",
    "HarmonyStyle",
    "Melody",
    "melody_from_piece",
    "read_melody",
]
