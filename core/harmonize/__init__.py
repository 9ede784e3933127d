"""Harmonize a tune: the user's melody kept note for note on top, with voices or chords below.

- `melody`: a single line of notes from a piece or a file, refused with the bar where it is not.
- `result`: a harmonization (its voices, its chord symbols) as one piece, MIDI and MusicXML.
- `chorale`: three lower voices in the style of Bach's chorales (a model that sees the melody);
  its frames (`frames`), network (`network`), rules (`voice_leading`) and data (`bach`).
- `chords`: chord symbols for the tune in the folk style, and an accompaniment that plays them.
"""

from core.harmonize.accompaniment import AccompanimentPattern, accompany
from core.harmonize.chorale import (
    DEFAULT_CANDIDATES,
    DEFAULT_HARMONIZER_DIR,
    ChoraleHarmonizer,
    load_chorale_harmonizer,
)
from core.harmonize.chord_fit import ChordsPer
from core.harmonize.chord_names import chord_name, parse_chord
from core.harmonize.chords import (
    chord_choices,
    harmonize_with_chords,
    suggest_chords,
    with_chord,
)
from core.harmonize.melody import (
    MAX_MELODY_BEATS,
    MAX_MELODY_NOTES,
    Melody,
    melody_from_piece,
    read_melody,
)
from core.harmonize.result import ChordSymbol, Harmonization, HarmonyStyle

__all__ = [
    "DEFAULT_CANDIDATES",
    "DEFAULT_HARMONIZER_DIR",
    "MAX_MELODY_BEATS",
    "MAX_MELODY_NOTES",
    "AccompanimentPattern",
    "ChoraleHarmonizer",
    "ChordSymbol",
    "ChordsPer",
    "Harmonization",
    "HarmonyStyle",
    "Melody",
    "accompany",
    "chord_choices",
    "chord_name",
    "harmonize_with_chords",
    "load_chorale_harmonizer",
    "melody_from_piece",
    "parse_chord",
    "read_melody",
    "suggest_chords",
    "with_chord",
]
