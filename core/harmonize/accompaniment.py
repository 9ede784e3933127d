"""An accompaniment that plays a chord chart under the tune: a bass line and a chord pattern.

The bar is cut into pulses and the pulses into groups: a 4/4 or 2/2 bar is four quarters in
two groups ("oom-pah oom-pah"), 2/4 one group of two, 3/4 one of three ("oom-pah-pah"), 6/8 two
dotted quarters of three eighths, 9/8 three. The bass plays on each group's first pulse (the
chord's root where the chord begins, then its fifth and root in turn); the chords play on the
other pulses (the piano pattern) or one chord tone on each eighth after the bass (the guitar
pattern, a picked arpeggio). Everything lies below the melody's lowest note: the chords in
close position around G3, moving to the nearest voicing, the bass an octave or so under them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from enum import Enum

from core.errors import InvalidSettingError
from core.harmonize.chord_fit import melody_meter
from core.harmonize.chord_names import Chord, ChordQuality, read_chord
from core.harmonize.melody import Melody
from core.harmonize.result import (
    MELODY_PROGRAM,
    ChordSymbol,
    Harmonization,
    HarmonyStyle,
)
from core.music.piece import Note, Piece

VOICE_NAMES = ("Melody", "Bass", "Chords")
# General MIDI programs (0-based) of the guitar pattern's bass and chords.
ACOUSTIC_BASS_PROGRAM = 32
NYLON_GUITAR_PROGRAM = 24
# Where the chords sit (MIDI pitches): around G3, never above G4, never below C1.
CHORD_CENTER_PITCH = 55
CHORD_CEILING_PITCH = 67
BASS_LOW_PITCH = 36  # C2: the bass root lies in C2..B2 unless the chords force it lower
LOWEST_PITCH = 24
# How much a voicing is pulled towards CHORD_CENTER_PITCH against moving little (per semitone).
CENTER_PULL = 0.3


class AccompanimentPattern(Enum):
    AUTO = "auto"  # the piano pattern
    PIANO = "piano"  # bass, then the chord on the other pulses of each group: oom-pah(-pah)
    GUITAR = "guitar"  # bass, then the chord's tones one by one on the eighths: an arpeggio


def parse_pattern(pattern: AccompanimentPattern | str) -> AccompanimentPattern:
    if isinstance(pattern, AccompanimentPattern):
        return pattern
    for option in AccompanimentPattern:
        if option.value == pattern:
            return option
    choices = ", ".join(repr(p.value) for p in AccompanimentPattern)
    raise InvalidSettingError(
        f"an accompaniment pattern is one of {choices}, not {str(pattern)[:20]!r}"
    )


def _group_sizes(pulses: int) -> list[int]:
    """Pulses per group in a simple bar: twos, threes in 3 and 6 (and an odd bar's last)."""
    if pulses <= 3:
        return [pulses]
    if (pulses % 3 == 0 and (pulses // 3) % 2 == 1) or pulses == 6:
        return [3] * (pulses // 3)
    if pulses % 2 == 0:
        return [2] * (pulses // 2)
    return [2] * ((pulses - 3) // 2) + [3]


def bar_groups(melody: Melody) -> tuple[int, list[list[int]]]:
    """(bar length in steps, each group's pulse onsets in steps from the bar's start, with
    where the next group starts last)."""
    meter = melody_meter(melody)
    bar = meter.bar_steps(melody.piece.steps_per_quarter)
    if meter.is_compound:
        sizes, pulses = [3] * (meter.numerator // 3), meter.numerator
    elif meter.denominator == 2:  # 2/2, 3/2: quarter pulses, a group per half note
        sizes, pulses = [2] * meter.numerator, 2 * meter.numerator
    else:
        sizes, pulses = _group_sizes(meter.numerator), meter.numerator
    onsets = [k * bar // pulses for k in range(pulses + 1)]
    groups: list[list[int]] = []
    first = 0
    for size in sizes:
        groups.append(onsets[first : first + size + 1])
        first += size
    return bar, groups


def _tones(chord: Chord) -> tuple[int, ...]:
    """The pitch classes voiced: a seventh chord leaves out its fifth (three notes a hand)."""
    tones = chord.pitch_classes
    if chord.quality is ChordQuality.DOMINANT_SEVENTH:
        return (tones[0], tones[1], tones[3])
    return tones


def _voicings(chord: Chord, ceiling: int) -> list[tuple[int, ...]]:
    """Every close-position voicing of the chord's tones with its top at most `ceiling`."""
    tones = _tones(chord)
    out = []
    for bottom in range(LOWEST_PITCH, ceiling + 1):
        if bottom % 12 not in tones:
            continue
        start = tones.index(bottom % 12)
        pitches = [bottom]
        for step in range(1, len(tones)):
            pc = tones[(start + step) % len(tones)]
            pitches.append(pitches[-1] + (pc - pitches[-1]) % 12)
        if pitches[-1] <= ceiling:
            out.append(tuple(pitches))
    return out


def _voice(chord: Chord, ceiling: int, previous: tuple[int, ...] | None) -> tuple[int, ...]:
    candidates = _voicings(chord, ceiling)
    if not candidates:  # the melody lies too low for anything under it: the lowest voicing
        candidates = _voicings(chord, LOWEST_PITCH + 12)

    def cost(voicing: tuple[int, ...]) -> float:
        center = abs(sum(voicing) / len(voicing) - CHORD_CENTER_PITCH)
        if previous is None:
            return center
        motion = sum(min(abs(p - q) for q in previous) for p in voicing)
        return motion + CENTER_PULL * center

    return min(candidates, key=cost)


def _bass_pitch(pitch_class: int, ceiling: int) -> int:
    pitch = BASS_LOW_PITCH + (pitch_class - BASS_LOW_PITCH) % 12
    while pitch > ceiling and pitch - 12 >= LOWEST_PITCH - 12:
        pitch -= 12
    return max(0, pitch)


def _checked(chords: Sequence[ChordSymbol]) -> list[tuple[ChordSymbol, Chord]]:
    out = []
    for chord in chords:
        if chord.onset_step < 0 or chord.duration_steps < 1:
            raise InvalidSettingError(
                f"the chord {chord.name!r} at step {chord.onset_step} has no length to play"
            )
        out.append((chord, read_chord(chord.name)))
    return out


def accompany(
    melody: Melody,
    chords: Sequence[ChordSymbol],
    *,
    seed: int = 0,
    pattern: AccompanimentPattern | str = AccompanimentPattern.AUTO,
) -> Harmonization:
    """The melody unchanged over a bass line and a chord pattern that play `chords`.

    The bars are counted from the first chord's onset (where `suggest_chords` put the first
    full bar). `seed` is kept with the harmonization (the chart's seed); the accompaniment of
    a chart is always the same.

    Raises:
        InvalidSettingError: a chord's name is not a chord, a chord has no length, or the
            pattern is not one of `AccompanimentPattern`'s.
    """
    style = parse_pattern(pattern)
    checked = _checked(chords)
    bar, groups = bar_groups(melody)
    phase = checked[0][0].onset_step % bar if checked else 0
    low = melody.piece.pitch_range[0]
    ceiling = min(CHORD_CEILING_PITCH, low - 1)
    bass: list[Note] = []
    upper: list[Note] = []
    previous: tuple[int, ...] | None = None
    for symbol, chord in checked:
        voicing = _voice(chord, ceiling, previous)
        previous = voicing
        bass_ceiling = min(voicing[0] - 1, low - 1)
        root = _bass_pitch(chord.root, bass_ceiling)
        fifth_pc = chord.pitch_classes[2]
        fifth = root + (fifth_pc - chord.root) % 12
        if fifth > bass_ceiling:
            fifth -= 12
        fifth = fifth if fifth >= 0 else root
        first_bar = (symbol.onset_step - phase) // bar
        last_bar = (symbol.end_step - 1 - phase) // bar
        bass_count = 0
        for bar_index in range(first_bar, last_bar + 1):
            bar_start = phase + bar_index * bar
            for group in groups:
                pulses = [bar_start + p for p in group]
                for index, onset in enumerate(pulses[:-1]):
                    end = min(pulses[index + 1], symbol.end_step)
                    if onset >= symbol.end_step or end <= symbol.onset_step:
                        continue
                    start = max(onset, symbol.onset_step)
                    if index == 0 or start > onset:  # the group's first pulse, or the chord's
                        pitch = root if bass_count % 2 == 0 else fifth
                        group_end = min(pulses[-1], symbol.end_step)
                        bass.append(Note(start, pitch, group_end - start))
                        bass_count += 1
                    elif style is AccompanimentPattern.GUITAR:
                        upper.extend(_arpeggio(start, end, voicing, index))
                    else:
                        upper.extend(Note(start, pitch, end - start) for pitch in voicing)
    programs: tuple[int, ...] = ()
    if style is AccompanimentPattern.GUITAR:
        programs = (MELODY_PROGRAM, ACOUSTIC_BASS_PROGRAM, NYLON_GUITAR_PROGRAM)
    voices = (
        melody.piece,
        _voice_piece(melody.piece, bass),
        _voice_piece(melody.piece, upper),
    )
    return Harmonization(
        melody=melody,
        style=HarmonyStyle.CHORDS,
        seed=seed,
        voices=voices,
        voice_names=VOICE_NAMES,
        chords=tuple(symbol for symbol, _ in checked),
        programs=programs,
    )


def _arpeggio(start: int, end: int, voicing: tuple[int, ...], pulse: int) -> list[Note]:
    """The guitar's picked notes in one pulse: eighths where the pulse is two of them."""
    # Above the bass's root: third, fifth, root, fifth (a triad); a 6/8 group picks 3 and 5.
    cycle = [*voicing[1:], voicing[0], voicing[-1]]
    length = end - start
    halves = [start, start + length // 2] if length >= 2 and length % 2 == 0 else [start]
    notes = []
    for k, onset in enumerate(halves):
        stop = halves[k + 1] if k + 1 < len(halves) else end
        pitch = cycle[(2 * (pulse - 1) + k) % len(cycle)]
        notes.append(Note(onset, pitch, stop - onset))
    return notes


def _voice_piece(melody: Piece, notes: list[Note]) -> Piece:
    return replace(melody, notes=tuple(sorted(set(notes))))
