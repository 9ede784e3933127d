"""A harmonization: the melody on top, the voices or the accompaniment below, and its chords.

Its voices are kept apart (soprano, alto, tenor, bass; or melody and accompaniment) so the MIDI
has one track per voice and the sheet music one part per voice; `piece` is all of them as one
piece, which is what the library keeps, plays and shares like any other piece.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import Enum
from functools import cached_property

import pretty_midi

from core.harmonize.melody import Melody
from core.music.midi import midi_to_bytes, piece_to_midi
from core.music.piece import Note, Piece


class HarmonyStyle(Enum):
    CHORALE = "chorale"  # three voices below the tune, as in Bach's chorales
    CHORDS = "chords"  # chord symbols and an accompaniment that plays them, folk style


@dataclass(frozen=True)
class ChordSymbol:
    """A chord under the tune from `onset_step` for `duration_steps`: "G", "D7", "Em"."""

    onset_step: int
    duration_steps: int
    name: str

    @property
    def end_step(self) -> int:
        return self.onset_step + self.duration_steps


# General MIDI programs (0-based) each voice plays with in the MIDI file.
CHOIR_PROGRAM = 52  # "Choir Aahs": the chorale's four voices
PIANO_PROGRAM = 0
MELODY_PROGRAM = 73  # flute: the tune over a piano accompaniment, clear above it


@dataclass(frozen=True)
class Harmonization:
    """`voices[0]` is the melody exactly as given; the others are below it, top to bottom."""

    melody: Melody
    style: HarmonyStyle
    seed: int
    voices: tuple[Piece, ...]
    voice_names: tuple[str, ...]
    chords: tuple[ChordSymbol, ...] = ()
    programs: tuple[int, ...] = ()  # one per voice; () = choir for chorales, else piano

    def __post_init__(self) -> None:
        if len(self.voices) != len(self.voice_names) or not self.voices:
            raise ValueError("a harmonization needs one name per voice, and at least one voice")
        if self.voices[0].notes != self.melody.notes:
            raise ValueError("a harmonization's first voice must be its melody, unchanged")

    @cached_property
    def piece(self) -> Piece:
        """Every voice as one piece, the melody's name, tempo, key and meter."""
        notes: set[Note] = set()
        for voice in self.voices:
            notes.update(voice.notes)
        return replace(self.melody.piece, notes=tuple(sorted(notes)))

    def voice_programs(self) -> tuple[int, ...]:
        if self.programs:
            return self.programs
        if self.style is HarmonyStyle.CHORALE:
            return (CHOIR_PROGRAM,) * len(self.voices)
        return (MELODY_PROGRAM,) + (PIANO_PROGRAM,) * (len(self.voices) - 1)

    def to_midi(self) -> pretty_midi.PrettyMIDI:
        """One track per voice, named after it, at the melody's tempo and meter."""
        tempo = self.melody.piece.tempo_bpm
        midi = piece_to_midi(self.voices[0], program=self.voice_programs()[0])
        midi.instruments[0].name = self.voice_names[0]
        for voice, name, program in zip(
            self.voices[1:], self.voice_names[1:], self.voice_programs()[1:], strict=True
        ):
            track = piece_to_midi(voice, tempo_bpm=tempo, program=program).instruments[0]
            track.name = name
            midi.instruments.append(track)
        return midi

    @cached_property
    def midi_bytes(self) -> bytes:
        return midi_to_bytes(self.to_midi())

    def chord_line(self) -> str:
        """The chord names in order, a change each: "G  D7  G  C"."""
        names: list[str] = []
        for chord in self.chords:
            if not names or names[-1] != chord.name:
                names.append(chord.name)
        return "  ".join(names)
