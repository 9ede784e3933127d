"""Stand-ins for the harmonizers, for the Harmonize page's tests: quick, seeded, and honest about
the melody (kept as the top voice), so the tests are about the page, not the music.

`install(monkeypatch)` puts them where the page calls them: `core.harmonize.service.harmonize`
and the chord functions of `core.harmonize.chords`. Melody files for uploads are made here
with `core.music`.
"""

from __future__ import annotations

import importlib
from dataclasses import replace

import pytest

from core.errors import InvalidSettingError
from core.harmonize import ChordSymbol, Harmonization, HarmonyStyle, Melody
from core.music import midi_to_bytes, piece_to_midi
from core.music.piece import DEFAULT_STEPS_PER_QUARTER, Note, Piece

SPQ = DEFAULT_STEPS_PER_QUARTER
ROOTS = {"C": 0, "F": 5, "G": 7, "Am": 9, "Dm": 2, "Em": 4}
CYCLE = ("C", "G", "Am", "F")


def melody_midi(*, chord_in_bar: int | None = None, bars: int = 3) -> bytes:
    """A tune of quarter notes in C, four to a bar; `chord_in_bar`: a bar where two notes
    start together (a chord), which the page must refuse."""
    pitches = [60, 62, 64, 65, 67, 65, 64, 62, 60, 64, 67, 72][: bars * 4]
    notes = [Note(i * SPQ, p, SPQ) for i, p in enumerate(pitches)]
    if chord_in_bar is not None:
        onset = (chord_in_bar - 1) * 4 * SPQ
        notes.append(Note(onset, 52, SPQ))
    piece = Piece("tune", tuple(sorted(notes)), tempo_bpm=120.0, meter="4/4")
    return midi_to_bytes(piece_to_midi(piece))


def _voice(melody: Melody, shift: int, name: str) -> Piece:
    notes = tuple(replace(n, pitch=n.pitch + shift) for n in melody.notes)
    return replace(melody.piece, name=name, notes=notes)


def suggest_chords(melody: Melody, *, seed: int = 0) -> tuple[ChordSymbol, ...]:
    bar = 4 * melody.piece.steps_per_quarter
    bars = -(-melody.piece.length_steps // bar)
    return tuple(ChordSymbol(i * bar, bar, CYCLE[(i + seed) % len(CYCLE)]) for i in range(bars))


def accompany(
    melody: Melody, chords: tuple[ChordSymbol, ...], *, seed: int = 0
) -> Harmonization:
    bass = [Note(c.onset_step, 36 + ROOTS[c.name], c.duration_steps) for c in chords]
    triads = [
        Note(c.onset_step, 48 + ROOTS[c.name] + offset, c.duration_steps)
        for c in chords
        for offset in ((0, 3, 7) if c.name.endswith("m") else (0, 4, 7))
    ]
    voices = (
        melody.piece,
        replace(melody.piece, name="Bass", notes=tuple(bass)),
        replace(melody.piece, name="Chords", notes=tuple(sorted(triads))),
    )
    return Harmonization(melody=melody, style=HarmonyStyle.CHORDS, seed=seed, voices=voices,
                         voice_names=("Melody", "Bass", "Chords"), chords=chords)  # fmt: skip


def chord_choices(melody: Melody, chords: tuple[ChordSymbol, ...], index: int) -> list[str]:
    return list(ROOTS)


def with_chord(chords: tuple[ChordSymbol, ...], index: int, name: str) -> tuple[ChordSymbol, ...]:
    if name not in ROOTS or not 0 <= index < len(chords):
        raise InvalidSettingError(f"{name} is not a chord this tune can take there")
    return tuple(replace(c, name=name) if i == index else c for i, c in enumerate(chords))


def harmonize(melody: Melody, *, style: HarmonyStyle | str, seed: int = 0) -> Harmonization:
    style = HarmonyStyle(style)
    if style is HarmonyStyle.CHORDS:
        return accompany(melody, suggest_chords(melody, seed=seed), seed=seed)
    lower = (-3 - seed % 2, -8 - seed % 3, -15 - seed % 5)  # each seed its own voices
    voices = (melody.piece, *(_voice(melody, s, n) for s, n in zip(lower, ("Alto", "Tenor", "Bass"),
                                                                    strict=True)))  # fmt: skip
    return Harmonization(melody=melody, style=style, seed=seed, voices=voices,
                         voice_names=("Soprano", "Alto", "Tenor", "Bass"))  # fmt: skip


def install(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, int]]:
    """Put the stand-ins in place; returns the (style, seed) of every harmonization asked."""
    asked: list[tuple[str, int]] = []

    def recorded(melody: Melody, *, style: HarmonyStyle | str, seed: int = 0) -> Harmonization:
        asked.append((HarmonyStyle(style).value, seed))
        return harmonize(melody, style=style, seed=seed)

    service = importlib.import_module("core.harmonize.service")
    monkeypatch.setattr(service, "harmonize", recorded)
    chords = importlib.import_module("core.harmonize.chords")
    stand_ins = {"accompany": accompany, "chord_choices": chord_choices,
                 "with_chord": with_chord, "suggest_chords": suggest_chords}  # fmt: skip
    for name, stand_in in stand_ins.items():
        monkeypatch.setattr(chords, name, stand_in)
    return asked
