"""How well a tune's notes fit a chord, span by span, on the tune's bars.

A tune is cut into chord spans: bars, or half bars (one per beat group: a 6/8 bar's two dotted
quarters, a 4/4 bar's two halves). Each span's notes are weighed by how long they sound in it
and how strong the beat is where they start (a note held into the span counts from the span's
first beat): the notes a player hears on the beat decide the chord, passing notes barely do.
A chord's fit is the log-likelihood of those weighted pitch classes when the melody dwells on
its chord tones (`CHORD_TONE_SHARE` of the weight) and strays evenly onto the other pitch
classes: a seventh chord spreads the same share over four notes, so it wins over the triad
only where its seventh is sung.

The chords of a key are those of C major / A minor (`KEY_CHORDS`), moved to the tune's key.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, replace
from enum import Enum

import numpy as np

from core.errors import InvalidSettingError
from core.harmonize.chord_names import Chord, ChordQuality, read_chord
from core.harmonize.melody import Melody
from core.music.meter import Meter, parse_meter
from core.music.piece import Note, steps_per_bar
from core.music.scales import NORMALIZED_MAJOR_TONIC, NORMALIZED_MINOR_TONIC, PITCH_CLASSES

# The chords a folk player reaches for in C major and A minor: the key's own triads (the
# diminished one left out), the dominant seventh, the secondary dominants of ii, V and vi, and
# the flat seventh of the many mixolydian tunes; in minor the natural minor's chords, the major
# V and V7 of the harmonic minor and the major IV of the dorian tunes. The first three are the
# primary chords (I IV V, i iv V): a person plays one of those where another fits no better.
KEY_CHORDS: dict[str, tuple[str, ...]] = {
    "major": ("C", "F", "G", "G7", "Dm", "Em", "Am", "D7", "E7", "A7", "Bb"),
    "minor": ("Am", "Dm", "E", "E7", "C", "F", "G", "Em", "D"),
}
PRIMARY_CHORDS = 3
NORMALIZED_TONICS = {"major": NORMALIZED_MAJOR_TONIC, "minor": NORMALIZED_MINOR_TONIC}

# The share of a span's weighted melody that lies on its chord's tones, the rest spread over
# the other pitch classes; and a seventh chord's seventh, as a share of its chord tones' weight.
CHORD_TONE_SHARE = 0.85
SEVENTH_SHARE = 0.16
# Beat strength of a note's onset: the bar's first beat, the start of a beat group (a 4/4 bar's
# third beat, a 6/8 bar's fourth eighth), the other beats, half beats, and anything shorter.
DOWNBEAT_WEIGHT = 1.0
GROUP_WEIGHT = 0.75
BEAT_WEIGHT = 0.55
HALF_BEAT_WEIGHT = 0.3
OFFBEAT_WEIGHT = 0.15


class ChordsPer(Enum):
    """How often a chart may change chord."""

    AUTO = "auto"  # half bars in 4/4, 2/2, 6/8, 9/8 (its three beats) and 12/8; else bars
    BAR = "bar"
    HALF_BAR = "half"  # a beat group: half a bar, a 9/8 bar's beats; a 3/4 bar stays whole


def parse_per(per: ChordsPer | str) -> ChordsPer:
    if isinstance(per, ChordsPer):
        return per
    for option in ChordsPer:
        if option.value == per:
            return option
    raise InvalidSettingError(
        f"chords can change per 'bar', per 'half' bar or 'auto' (what the meter suggests), "
        f"not {str(per)[:20]!r}"
    )


def melody_meter(melody: Melody) -> Meter:
    """The melody's meter; 4/4 when it states none or its bar is not whole grid steps."""
    meter = parse_meter(melody.piece.meter)
    try:
        meter.bar_steps(melody.piece.steps_per_quarter)
    except ValueError:
        return parse_meter(None)
    return meter


def units_per_bar(meter: Meter, per: ChordsPer) -> int:
    """Chord spans in one bar of `meter` (before checking they fit the grid)."""
    if per is ChordsPer.BAR:
        return 1
    if meter.is_compound:
        return 3 if meter.beats == 3 else 2 if meter.beats % 2 == 0 else 1
    if meter.numerator % 2:  # 3/4, 3/8, 5/4: no half bar
        return 1
    if per is ChordsPer.AUTO and meter.numerator == 2 and meter.denominator >= 4:
        return 1  # a 2/4 polka or reel bar is one beat group
    return 2


@dataclass(frozen=True)
class ChordGrid:
    """Where the bars and the chord spans of a tune lie, in grid steps.

    Bars start at `pickup_steps` (the notes before it are an upbeat, left without a chord) and
    every `bar_steps` after; each bar has `units` spans of equal length.
    """

    bar_steps: int
    beat_steps: int
    group_steps: int
    units: int
    pickup_steps: int
    length_steps: int

    def spans(self) -> list[tuple[int, int]]:
        """(start, end) of each chord span, the last one cut where the tune ends."""
        out: list[tuple[int, int]] = []
        start = self.pickup_steps
        while start < self.length_steps:
            for unit in range(self.units):
                begin = start + unit * self.bar_steps // self.units
                end = start + (unit + 1) * self.bar_steps // self.units
                if begin < self.length_steps:
                    out.append((begin, min(end, self.length_steps)))
            start += self.bar_steps
        return out

    def bar_index(self, step: int) -> int:
        return (step - self.pickup_steps) // self.bar_steps

    def strength(self, step: int) -> float:
        """The beat strength at `step` (`DOWNBEAT_WEIGHT` ... `OFFBEAT_WEIGHT`)."""
        position = (step - self.pickup_steps) % self.bar_steps
        if position == 0:
            return DOWNBEAT_WEIGHT
        if position % self.group_steps == 0:
            return GROUP_WEIGHT
        if position % self.beat_steps == 0:
            return BEAT_WEIGHT
        if self.beat_steps % 2 == 0 and position % (self.beat_steps // 2) == 0:
            return HALF_BEAT_WEIGHT
        return OFFBEAT_WEIGHT


def chord_grid(
    melody: Melody, *, per: ChordsPer | str = ChordsPer.AUTO, pickup_steps: int = 0
) -> ChordGrid:
    """The grid of `melody`'s chords: its meter's bars (4/4 when it states none)."""
    meter = melody_meter(melody)
    spq = melody.piece.steps_per_quarter
    bar = steps_per_bar(spq, meter)
    beat = bar // meter.beats if bar % meter.beats == 0 else bar
    units = units_per_bar(meter, parse_per(per))
    if bar % units:
        units = 1
    group = bar // units if units > 1 else bar
    if group % beat:
        group = bar
    return ChordGrid(
        bar_steps=bar,
        beat_steps=beat,
        group_steps=group,
        units=units,
        pickup_steps=pickup_steps % bar,
        length_steps=melody.piece.length_steps,
    )


def span_weights(
    notes: tuple[Note, ...], spans: list[tuple[int, int]], grid: ChordGrid
) -> np.ndarray:
    """(spans, 12): each pitch class's weight in each span, in quarters x beat strength."""
    weights = np.zeros((len(spans), PITCH_CLASSES))
    if not spans:
        return weights
    starts = np.array([s for s, _ in spans])
    quarter = 1.0 / max(1, grid.beat_steps)
    for note in notes:
        index = max(0, int(np.searchsorted(starts, note.onset_step, side="right")) - 1)
        while index < len(spans) and spans[index][0] < note.end_step:
            start, end = spans[index]
            overlap = min(end, note.end_step) - max(start, note.onset_step)
            if overlap > 0:
                onset = max(start, note.onset_step)
                weights[index, note.pitch % PITCH_CLASSES] += (
                    overlap * quarter * grid.strength(onset)
                )
            index += 1
    return weights


def chord_log_probs(chords: list[Chord]) -> np.ndarray:
    """(12, chords): log P(pitch class | chord) of the fit described in the module's text."""
    table = np.zeros((PITCH_CLASSES, len(chords)))
    for column, chord in enumerate(chords):
        tones = chord.pitch_classes
        probs = np.full(PITCH_CLASSES, (1 - CHORD_TONE_SHARE) / (PITCH_CLASSES - len(tones)))
        if chord.quality is ChordQuality.DOMINANT_SEVENTH:
            probs[list(tones[:3])] = CHORD_TONE_SHARE * (1 - SEVENTH_SHARE) / 3
            probs[tones[3]] = CHORD_TONE_SHARE * SEVENTH_SHARE
        else:
            probs[list(tones)] = CHORD_TONE_SHARE / len(tones)
        table[:, column] = np.log(probs)
    return table


def key_chords(mode: str) -> list[Chord]:
    """The chords of C major or A minor (`KEY_CHORDS`) as chords."""
    return [read_chord(name) for name in KEY_CHORDS[mode]]


def key_shift(melody: Melody) -> tuple[int, str]:
    """(semitones from C major / A minor up to the melody's key, its mode)."""
    tonic, mode = melody.tonic_and_mode
    return (tonic - NORMALIZED_TONICS[mode]) % PITCH_CLASSES, mode


# A person changes chord within a bar only when the halves fit two chords clearly better than
# one (nats of fit per extra chord), and plays a primary chord unless another fits better by
# `SECONDARY_COST_NATS`: the "chord covering most of the strong-beat notes", made definite.
CHANGE_COST_NATS = 1.5
SECONDARY_COST_NATS = 0.7
# How much the long notes' beat strength counts beside the chord fit when finding the upbeat.
ACCENT_NATS = 3.0
# A tune that fits as well either way starts on the downbeat (a scale, a hummed phrase).
DOWNBEAT_START_NATS = 0.05


def estimate_states(fit: np.ndarray, grid: ChordGrid, spans: list[tuple[int, int]]) -> list[int]:
    """The chords a person would play, by local fit alone (no learned transitions).

    `fit` is (spans, chords) with the key's chords in `KEY_CHORDS` order. Per bar: one chord
    for the whole bar, or one per span where that fits better by `CHANGE_COST_NATS` each; a
    span with no notes keeps the chord before it (the tonic at the start).
    """
    prior = np.array(
        [0.0 if c < PRIMARY_CHORDS else -SECONDARY_COST_NATS for c in range(fit.shape[1])]
    )
    scored = fit + prior
    states: list[int] = []
    bars: dict[int, list[int]] = {}
    for index, (start, _) in enumerate(spans):
        bars.setdefault(grid.bar_index(start), []).append(index)
    for members in bars.values():
        rows = scored[members]
        whole = int(np.argmax(rows.sum(axis=0)))
        split = [int(np.argmax(row)) for row in rows]
        gain = sum(rows[i, c] for i, c in enumerate(split)) - rows[:, whole].sum()
        changes = sum(1 for a, b in itertools.pairwise(split) if a != b)
        chosen = split if changes and gain > CHANGE_COST_NATS * changes else [whole] * len(members)
        for member, state in zip(members, chosen, strict=True):
            empty = not fit[member].any()
            states.append(states[-1] if empty and states else 0 if empty else state)
    return states


def estimate_pickup_steps(melody: Melody) -> int:
    """Where the first full bar most likely starts: the upbeat's length in steps (0: none).

    A score states its upbeat (`read_melody` keeps it), but a recording or a MIDI file does
    not, and nearly every folk tune has one (92 of the first 100 of O'Neill's). Each phase on
    the eighth-note grid is tried: the one whose bars each fit one chord best, with the tune's
    long notes on strong beats (`ACCENT_NATS` per unit of the duration-weighted beat
    strength), wins. On 500 of O'Neill's tunes it finds the file's own upbeat for 68% (bars
    from step 0 would be right for 8%), and
    most misses are by half a bar: the chords still change on the beat groups.
    """
    base = chord_grid(melody, per=ChordsPer.BAR)
    spq = melody.piece.steps_per_quarter
    step = spq // 2 if spq % 2 == 0 else spq
    shift, mode = key_shift(melody)
    table = chord_log_probs([c.transposed(shift) for c in key_chords(mode)])
    total_steps = sum(n.duration_steps for n in melody.notes)
    best, best_score = 0, -math.inf
    for phase in range(0, base.bar_steps, step):
        grid = ChordGrid(
            base.bar_steps, base.beat_steps, base.group_steps, 1, phase, base.length_steps
        )
        weights = span_weights(melody.notes, grid.spans(), grid)
        fit = float((weights @ table).max(axis=1).sum()) / max(1e-9, float(weights.sum()))
        accent = sum(n.duration_steps * grid.strength(n.onset_step) for n in melody.notes)
        score = (
            fit
            + ACCENT_NATS * accent / max(1, total_steps)
            + (DOWNBEAT_START_NATS if phase == 0 else 0.0)
        )
        if score > best_score + 1e-9:
            best, best_score = phase, score
    return best


@dataclass(frozen=True)
class ChordAnalysis:
    """A melody cut into chord spans, with each key chord's fit to each span."""

    grid: ChordGrid
    spans: list[tuple[int, int]]
    fit: np.ndarray  # (spans, key chords) log-likelihood
    shift: int  # semitones from C major / A minor up to the melody's key
    mode: str


def analyse(
    melody: Melody, *, per: ChordsPer | str = ChordsPer.AUTO, pickup_steps: int | None = None
) -> ChordAnalysis:
    """The melody's chord spans and fits (`pickup_steps` None: the piece's own upbeat where it
    records one, e.g. an opening of the training music; else estimated from the notes)."""
    if pickup_steps is None:
        pickup_steps = melody.piece.pickup_steps or estimate_pickup_steps(melody)
    pickup = pickup_steps
    grid = chord_grid(melody, per=per, pickup_steps=pickup)
    spans = grid.spans()
    if not spans:  # a tune that is all upbeat: one span over all of it
        grid = replace(grid, pickup_steps=0)
        spans = grid.spans()
    shift, mode = key_shift(melody)
    chords = [c.transposed(shift) for c in key_chords(mode)]
    fit = span_weights(melody.notes, spans, grid) @ chord_log_probs(chords)
    return ChordAnalysis(grid, spans, fit, shift, mode)
