"""Chords for a tune in the folk style: a chart per bar or half bar, and ways to change it.

The method: the tune is moved to C major / A minor, cut into chord spans (`chord_fit`), and a
hidden Markov model over the key's chords (`KEY_CHORDS`) chooses one per span: each chord's fit
to the span's notes is its emission, and the start, change and end probabilities are learned
from the built-in folk tunes (`folk_chords.json`, written by `scripts/write_folk_chords.py`).
Seed 0 takes the likeliest chart (Viterbi); another seed samples one by forward filtering and
backward sampling at `SAMPLING_TEMPERATURE`, so "another" gives a different, still plausible
chart. The chart is moved back to the tune's key and spelled as TONIC_NAMES spell roots.

The folk tunes carry no chord symbols, so their chords are estimated by the same local fit
(`chord_fit.estimate_states`: what a person would play, the chord covering most of the
strong-beat notes, one per bar unless the halves clearly need two). That is circular: the model
learns which chords follow which in that estimator's charts, not in players' ones. The
estimator is checked against real human chord symbols (music21's Nottingham reels and lead
sheets) in `benchmarks/harmonize_chords.py`.

Bars start at the piece's own upbeat where it records one (a MusicXML/ABC file read by
`read_melody`, an opening of the training music), else where `estimate_pickup_steps` finds the
first full bar (a recording, a MIDI file); pass `pickup_steps=0` to count bars from the first
step.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Sequence
from dataclasses import replace

import numpy as np

from core.errors import InvalidSettingError
from core.harmonize.accompaniment import accompany
from core.harmonize.chord_fit import (
    KEY_CHORDS,
    ChordAnalysis,
    ChordsPer,
    analyse,
    chord_grid,
    chord_log_probs,
    estimate_states,
    key_chords,
    key_shift,
    span_weights,
)
from core.harmonize.chord_names import ALL_CHORDS, Chord, read_chord
from core.harmonize.chord_tables import folk_tables
from core.harmonize.melody import Melody
from core.harmonize.result import ChordSymbol, Harmonization

log = logging.getLogger(__name__)

# Sampling sharpens the posterior (probabilities to the power 1/T): another chart, not a wild one.
SAMPLING_TEMPERATURE = 0.6
# The fit's weight beside the learned log-probabilities: 1 trusts the tables so much that a
# chart holds one chord over bars that need another; chosen on 300 training tunes (1, 1.5, 2,
# 3, 4 tried) as the weight whose charts come nearest the local-fit charts in
# strong-beat fit (0.817 vs 0.823) and chord changes per bar (0.54 vs 0.59).
EMISSION_WEIGHT = 3.0
# The start and end probabilities' weight: as strong as the fit's, so a tune opens and closes on
# its key's chord (as 73% of the estimated folk charts do) unless its notes clearly say
# otherwise. At weight 1 the fit alone decided, and a hymn in G that ends E F# G(half) ended
# on C: its E on the downbeat fits C, its final G fits both.
BOUNDARY_WEIGHT = EMISSION_WEIGHT


def _symbols(analysis: ChordAnalysis, states: Sequence[int]) -> tuple[ChordSymbol, ...]:
    """One symbol per span, spans of one bar with the same chord merged, in the real key."""
    names = KEY_CHORDS[analysis.mode]
    out: list[ChordSymbol] = []
    for (start, end), state in zip(analysis.spans, states, strict=True):
        name = read_chord(names[state]).transposed(analysis.shift).name
        previous = out[-1] if out else None
        if (
            previous is not None
            and previous.name == name
            and analysis.grid.bar_index(previous.onset_step) == analysis.grid.bar_index(start)
        ):
            out[-1] = replace(previous, duration_steps=end - previous.onset_step)
        else:
            out.append(ChordSymbol(start, end - start, name))
    return tuple(out)


def estimated_chords(
    melody: Melody, *, per: ChordsPer | str = ChordsPer.AUTO, pickup_steps: int | None = None
) -> tuple[ChordSymbol, ...]:
    """The chords a person would play by local fit alone (the folk tables' training labels)."""
    analysis = analyse(melody, per=per, pickup_steps=pickup_steps)
    return _symbols(analysis, estimate_states(analysis.fit, analysis.grid, analysis.spans))


def _log_terms(analysis: ChordAnalysis) -> tuple[np.ndarray, list[np.ndarray], np.ndarray]:
    """(start, per-step transition matrices, end) in logs, for the melody's spans."""
    table = folk_tables()[analysis.mode]
    into_bar, within_bar = np.log(table.into_bar), np.log(table.within_bar)
    bars = [analysis.grid.bar_index(start) for start, _ in analysis.spans]
    moves = [into_bar if b != a else within_bar for a, b in itertools.pairwise(bars)]
    return np.log(table.start), moves, np.log(table.end)


def _viterbi(
    fit: np.ndarray, start: np.ndarray, moves: list[np.ndarray], end: np.ndarray
) -> list[int]:
    score = start + fit[0]
    back: list[np.ndarray] = []
    for t, move in enumerate(moves, start=1):
        total = score[:, None] + move
        back.append(np.argmax(total, axis=0))
        score = total.max(axis=0) + fit[t]
    state = int(np.argmax(score + end))
    path = [state]
    for pointers in reversed(back):
        state = int(pointers[state])
        path.append(state)
    return path[::-1]


def _sample(
    fit: np.ndarray,
    start: np.ndarray,
    moves: list[np.ndarray],
    end: np.ndarray,
    rng: np.random.Generator,
    temperature: float,
) -> list[int]:
    """Forward filtering, backward sampling, every log term divided by `temperature`."""
    scale = 1.0 / temperature
    alphas = [scale * (start + fit[0])]
    for t, move in enumerate(moves, start=1):
        total = alphas[-1][:, None] + scale * move
        alphas.append(np.logaddexp.reduce(total, axis=0) + scale * fit[t])

    def draw(logits: np.ndarray) -> int:
        probs = np.exp(logits - logits.max())
        return int(rng.choice(len(probs), p=probs / probs.sum()))

    state = draw(alphas[-1] + scale * end)
    path = [state]
    for t in range(len(moves) - 1, -1, -1):
        state = draw(alphas[t] + scale * moves[t][:, state])
        path.append(state)
    return path[::-1]


def suggest_chords(
    melody: Melody,
    *,
    seed: int = 0,
    per: ChordsPer | str = ChordsPer.AUTO,
    pickup_steps: int | None = None,
) -> tuple[ChordSymbol, ...]:
    """A chord chart for `melody`: one chord per bar or half bar, in the folk style.

    `per`: "auto" (half bars where the meter has them: 4/4, 2/2, 6/8, 12/8; a 9/8 bar's beats;
    else bars), "bar" or "half". `seed` 0 gives the likeliest chart; others a sampled one, the
    same for the same seed. `pickup_steps`: the upbeat before the first full bar (left without
    a chord); None estimates it from the notes.

    Raises:
        InvalidSettingError: `per` is not one of its choices, or `seed` is negative.
    """
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise InvalidSettingError(f"a seed is a whole number from 0, not {seed!r}")
    analysis = analyse(melody, per=per, pickup_steps=pickup_steps)
    start, moves, end = _log_terms(analysis)
    start, end = BOUNDARY_WEIGHT * start, BOUNDARY_WEIGHT * end
    if seed == 0:
        states = _viterbi(EMISSION_WEIGHT * analysis.fit, start, moves, end)
    else:
        rng = np.random.default_rng(seed)
        states = _sample(
            EMISSION_WEIGHT * analysis.fit, start, moves, end, rng, SAMPLING_TEMPERATURE
        )
    return _symbols(analysis, states)


def _span_fit(melody: Melody, chord: ChordSymbol, candidates: Sequence[Chord]) -> np.ndarray:
    """Each candidate's fit to the melody's notes under `chord` (its span alone)."""
    grid = chord_grid(melody, per=ChordsPer.BAR, pickup_steps=chord.onset_step)
    weights = span_weights(melody.notes, [(chord.onset_step, chord.end_step)], grid)
    return (weights @ chord_log_probs(list(candidates)))[0]


def _check_index(chords: Sequence[ChordSymbol], index: object) -> int:
    if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < len(chords):
        raise InvalidSettingError(
            f"there is no chord number {index!r} in this chart: it has {len(chords)} chords, "
            f"numbered 0 to {len(chords) - 1}"
        )
    return index


def chord_choices(melody: Melody, chords: Sequence[ChordSymbol], index: int) -> list[str]:
    """The chords a user may pick at position `index`: the key's chords first, best fitting
    first, then every other chord (`ALL_CHORDS`), best fitting first.

    Raises:
        InvalidSettingError: `index` is not a position of `chords`.
    """
    chord = chords[_check_index(chords, index)]
    shift, mode = key_shift(melody)
    own = [c.transposed(shift) for c in key_chords(mode)]
    others = [c for c in ALL_CHORDS if c not in own]
    names: list[str] = []
    for group in (own, others):
        fit = _span_fit(melody, chord, group)
        order = sorted(range(len(group)), key=lambda i: (-fit[i], i))  # ties keep the order
        names += [group[i].name for i in order]
    return names


def with_chord(chords: Sequence[ChordSymbol], index: int, name: str) -> tuple[ChordSymbol, ...]:
    """The chart with chord `index` replaced by `name` (spelled this app's way), the rest kept.

    Raises:
        InvalidSettingError: `index` is not a position of `chords`, or `name` not a chord.
    """
    position = _check_index(chords, index)
    spelled = read_chord(name).name
    return tuple(
        replace(chord, name=spelled) if i == position else chord for i, chord in enumerate(chords)
    )


def harmonize_with_chords(melody: Melody, *, seed: int = 0) -> Harmonization:
    """The melody with a suggested chart (`suggest_chords`) and an accompaniment that plays it."""
    return accompany(melody, suggest_chords(melody, seed=seed), seed=seed)
