"""Chords for a tune: do the suggested charts fit the melody as a player's would, and change
as often?

On the 306 held-out folk tunes (`collection_heldout_names("folk-tunes")`, never seen by the
tables of `scripts/write_folk_chords.py`), for each chart:
- `strong_beat_fit`: the share of melody notes starting on a felt beat (a quarter in 4/4 and
  3/4, a half in 2/2, a dotted quarter in 6/8) whose pitch class belongs to the chord under it
  (a seventh counts); notes of the upbeat, with no chord under them, are left out of every chart;
- `changes_per_bar`: chord changes (a new name) per bar.
Charts: ours at seed 0 (Viterbi) and seeds 1-2 (sampled); the reference, the tunes' own chords
as a person would play them estimated by local fit without learned transitions
(`estimated_chords`, which also gave the tables their training labels: its fit is the ceiling
a fit-only chart reaches, not a player's); and the floor, the tonic chord throughout. music21's
own analysis was not used as the reference: its chord tools (`chordify`, roman numerals) name
the notes sounding together, and a single line has one note at a time.

Then the estimator against real players' chord symbols: music21's Nottingham reels
("nottingham-dataset/reelsa-c.abc", 2 tunes) and lead sheets ("leadSheet/*.mxl", 2), at each
melody note the same chord (name) and the same triad (root and major/minor: D7 = D) as the human
chart, for the local-fit estimate inside the human chord spans (the fit alone), for
`estimated_chords` and for `suggest_chords` (their own spans); and the human charts'
strong-beat fit beside ours on those tunes. Also the time per tune (chart and accompaniment).
About a minute on 2 cores.
"""

from __future__ import annotations

import itertools
import statistics
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from core.harmonize.chord_fit import (
    ChordGrid,
    ChordsPer,
    chord_grid,
    chord_log_probs,
    estimate_pickup_steps,
    key_chords,
    key_shift,
    span_weights,
)
from core.harmonize.chord_names import Chord, ChordQuality, read_chord
from core.harmonize.chords import estimated_chords, harmonize_with_chords, suggest_chords
from core.harmonize.melody import Melody, melody_from_piece
from core.harmonize.result import ChordSymbol

COLLECTION = "folk-tunes"
SEEDS = (0, 1, 2)
HUMAN_FILES = (
    "nottingham-dataset/reelsa-c.abc",
    "leadSheet/fosterBrownHair.mxl",
    "leadSheet/berlinAlexandersRagtime.mxl",
)
# The goal for time: a 20-second tune within 0.2 s (chart and accompaniment).
GOAL_SECONDS_PER_TUNE = 0.2
DIGITS = 3


def chord_at(chords: Sequence[ChordSymbol], step: int) -> ChordSymbol | None:
    for chord in chords:
        if chord.onset_step <= step < chord.end_step:
            return chord
    return None


def strong_beat_fit(
    melody: Melody, chords: Sequence[ChordSymbol], grid: ChordGrid
) -> tuple[int, int]:
    """(notes on a felt beat that belong to the chord under them, such notes under a chord)."""
    fitting = total = 0
    for note in melody.notes:
        if (note.onset_step - grid.pickup_steps) % grid.beat_steps:
            continue
        chord = chord_at(chords, note.onset_step)
        if chord is None:
            continue
        total += 1
        fitting += note.pitch % 12 in read_chord(chord.name).pitch_classes
    return fitting, total


def changes_and_bars(chords: Sequence[ChordSymbol], grid: ChordGrid) -> tuple[int, int]:
    changes = sum(1 for a, b in itertools.pairwise(chords) if a.name != b.name)
    bars = {grid.bar_index(c.onset_step) for c in chords} | {
        grid.bar_index(c.end_step - 1) for c in chords
    }
    return changes, max(1, len(bars))


def tonic_chart(melody: Melody, grid: ChordGrid) -> tuple[ChordSymbol, ...]:
    tonic, mode = melody.tonic_and_mode
    name = (
        read_chord("Am" if mode == "minor" else "C")
        .transposed(tonic - (9 if mode == "minor" else 0))
        .name
    )
    start = grid.pickup_steps
    return (ChordSymbol(start, max(1, grid.length_steps - start), name),)


def _held_out_melodies() -> list[Melody]:
    from core.data.datasets import collection_heldout_names, load_sources

    held = collection_heldout_names(COLLECTION, steps_per_quarter=4)
    pieces = [p for p in load_sources([COLLECTION], steps_per_quarter=4).pieces if p.name in held]
    return [melody_from_piece(p, top_line=True) for p in pieces]


def _judge(
    melodies: Sequence[Melody], charts: Callable[[Melody], Sequence[ChordSymbol]]
) -> dict[str, float]:
    fit = notes = changes = bars = 0
    for melody in melodies:
        chords = charts(melody)
        grid = chord_grid(melody, pickup_steps=chords[0].onset_step if chords else 0)
        f, n = strong_beat_fit(melody, chords, grid)
        c, b = changes_and_bars(chords, grid)
        fit, notes, changes, bars = fit + f, notes + n, changes + c, bars + b
    return {
        "strong_beat_fit": round(fit / max(1, notes), DIGITS),
        "changes_per_bar": round(changes / max(1, bars), DIGITS),
    }


# ---------------------------------------------------------------- human chord symbols


def _human_chord(symbol: Any) -> Chord:
    kind = str(symbol.chordKind)
    if "diminished" in kind:
        quality = ChordQuality.DIMINISHED
    elif "minor" in kind:
        quality = ChordQuality.MINOR
    elif kind == "dominant-seventh" or kind.startswith("dominant"):
        quality = ChordQuality.DOMINANT_SEVENTH
    else:
        quality = ChordQuality.MAJOR
    return Chord(symbol.root().pitchClass, quality)


def human_tunes() -> list[tuple[str, Melody, tuple[ChordSymbol, ...]]]:
    """(name, melody, the human chart) of each tune of `HUMAN_FILES`, on a sixteenth grid."""
    import music21

    from core.music.files import read_music

    out = []
    for relative in HUMAN_FILES:
        path = Path(str(music21.corpus.getWork(relative)))
        parsed = music21.converter.parse(path)
        scores = list(parsed.scores) if isinstance(parsed, music21.stream.Opus) else [parsed]
        pieces = read_music(path, steps_per_quarter=4)
        for score, piece in zip(scores, pieces, strict=True):
            melody = melody_from_piece(piece, top_line=True)
            symbols = sorted(
                (round(float(s.getOffsetInHierarchy(score)) * 4), _human_chord(s))
                for s in score.recurse().getElementsByClass(music21.harmony.ChordSymbol)
            )
            chart = []
            for k, (onset, chord) in enumerate(symbols):
                end = symbols[k + 1][0] if k + 1 < len(symbols) else piece.length_steps
                if end > onset:
                    chart.append(ChordSymbol(onset, end - onset, chord.name))
            out.append((piece.name, melody, tuple(chart)))
    return out


def _triad(name: str) -> tuple[int, bool]:
    chord = read_chord(name)
    return chord.root, chord.quality in (ChordQuality.MINOR, ChordQuality.DIMINISHED)


def agreement(
    melody: Melody, ours: Sequence[ChordSymbol], human: Sequence[ChordSymbol]
) -> tuple[int, int, int]:
    """(notes with the same name, with the same triad, notes under a human chord)."""
    same = triad = total = 0
    for note in melody.notes:
        theirs = chord_at(human, note.onset_step)
        if theirs is None:
            continue
        total += 1
        mine = chord_at(ours, note.onset_step)
        if mine is not None:
            same += mine.name == theirs.name
            triad += _triad(mine.name) == _triad(theirs.name)
    return same, triad, total


def fit_in_human_spans(melody: Melody, human: Sequence[ChordSymbol]) -> tuple[ChordSymbol, ...]:
    """The local fit's chord of the key inside each human chord span (the emission alone)."""
    shift, mode = key_shift(melody)
    chords = [c.transposed(shift) for c in key_chords(mode)]
    table = chord_log_probs(chords)
    out = []
    for symbol in human:
        grid = chord_grid(melody, per=ChordsPer.BAR, pickup_steps=symbol.onset_step)
        weights = span_weights(melody.notes, [(symbol.onset_step, symbol.end_step)], grid)
        best = int(np.argmax(weights @ table)) if weights.any() else 0
        out.append(ChordSymbol(symbol.onset_step, symbol.duration_steps, chords[best].name))
    return tuple(out)


def human_figures() -> dict[str, Any]:
    tunes = human_tunes()
    charts: dict[str, Callable[[Melody, tuple[ChordSymbol, ...]], Sequence[ChordSymbol]]] = {
        "fit_in_human_spans": fit_in_human_spans,
        "estimated_chords": lambda m, h: estimated_chords(m),
        "suggest_seed0": lambda m, h: suggest_chords(m),
    }
    result: dict[str, Any] = {"tunes": [name for name, _, _ in tunes]}
    for label, make in charts.items():
        same = triad = total = 0
        for _, melody, human in tunes:
            s, t, n = agreement(melody, make(melody, human), human)
            same, triad, total = same + s, triad + t, total + n
        result[label] = {
            "same_chord": round(same / max(1, total), DIGITS),
            "same_triad": round(triad / max(1, total), DIGITS),
        }
    fit: dict[str, list[int]] = {"human": [0, 0], "suggest_seed0": [0, 0]}
    for _, melody, human in tunes:
        grid = chord_grid(melody, pickup_steps=human[0].onset_step if human else 0)
        for label, chart in (("human", human), ("suggest_seed0", suggest_chords(melody))):
            f, n = strong_beat_fit(melody, chart, grid)
            fit[label][0] += f
            fit[label][1] += n
    result["strong_beat_fit"] = {k: round(f / max(1, n), DIGITS) for k, (f, n) in fit.items()}
    result["pickups"] = {
        name: {
            "human_first_chord_step": human[0].onset_step if human else None,
            "estimated_pickup_steps": estimate_pickup_steps(melody),
        }
        for name, melody, human in tunes
    }
    return result


def run() -> dict[str, Any]:
    began = time.perf_counter()
    melodies = _held_out_melodies()
    result: dict[str, Any] = {"tunes": len(melodies)}
    for seed in SEEDS:
        result[f"suggest_seed{seed}"] = _judge(
            melodies, lambda m, s=seed: suggest_chords(m, seed=s)
        )
    result["reference_estimated"] = _judge(melodies, estimated_chords)

    def tonic(melody: Melody) -> tuple[ChordSymbol, ...]:
        return tonic_chart(melody, chord_grid(melody, pickup_steps=estimate_pickup_steps(melody)))

    result["floor_tonic_only"] = _judge(melodies, tonic)
    differ = sum(suggest_chords(m, seed=1) != suggest_chords(m, seed=0) for m in melodies)
    result["seed1_differs_from_seed0"] = round(differ / max(1, len(melodies)), DIGITS)
    times = []
    for melody in melodies:
        start = time.perf_counter()
        harmonize_with_chords(melody)
        times.append((time.perf_counter() - start) / max(1e-9, melody.piece.duration_s / 20.0))
    result["seconds_per_20s_of_tune"] = {
        "median": round(statistics.median(times), 4),
        "max": round(max(times), 4),
        "goal": GOAL_SECONDS_PER_TUNE,
    }
    result["human_chords"] = human_figures()
    ours, ref = result["suggest_seed0"], result["reference_estimated"]
    human = result["human_chords"]
    result["summary"] = [
        f"strong-beat notes in the chord: ours {ours['strong_beat_fit']:.1%} (seeds 1-2 "
        f"{result['suggest_seed1']['strong_beat_fit']:.1%}, "
        f"{result['suggest_seed2']['strong_beat_fit']:.1%}), "
        f"local-fit reference {ref['strong_beat_fit']:.1%}, tonic only "
        f"{result['floor_tonic_only']['strong_beat_fit']:.1%}; on the human-charted tunes "
        f"the players' {human['strong_beat_fit']['human']:.1%}, ours "
        f"{human['strong_beat_fit']['suggest_seed0']:.1%}",
        f"chord changes per bar: ours {ours['changes_per_bar']:.2f}, reference "
        f"{ref['changes_per_bar']:.2f}",
        f"agreement with players' chords (same triad): the fit in their spans "
        f"{human['fit_in_human_spans']['same_triad']:.1%}, the estimator "
        f"{human['estimated_chords']['same_triad']:.1%}, our chart "
        f"{human['suggest_seed0']['same_triad']:.1%}",
        f"time: {result['seconds_per_20s_of_tune']['median']:.4f} s per 20 s of tune (median), "
        f"goal {GOAL_SECONDS_PER_TUNE} s",
    ]
    result["run_s"] = round(time.perf_counter() - began, 1)
    return result
