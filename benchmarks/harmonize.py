"""Harmonized like Bach? The chorale harmonizer on the sopranos of the held-out chorales.

The soprano of each held-out chorale (the app's split: never trained on; those with four
single-line parts, `core.harmonize.bach`) is harmonized by the shipped model
(`models/harmonizer`: the chord model chooses the chords, the voice model sings them) with
seeds 0 and 1, and compared with Bach's own three lower voices:

- the same chord as Bach: the share of melody notes where the pitch classes sounding in the
  four voices equal Bach's; beside it two baselines learned from the same training chorales
  (key-normalized by the melody as the model is): the chord a 4-gram over chords, given the
  melody's pitch class, finds likeliest after the chords before it (backing off to shorter
  contexts), and the commonest chord for the melody's pitch class alone (a 1-gram);
- the textbook rules (`core.harmonize.voice_leading`): parallel fifths and octaves per
  voice-pair motion, crossings per sonority and adjacent pair, upper voices more than an
  octave apart per sonority and pair, notes outside their voice's range per note;
- scale consistency (MusPy's: the share of notes in the best-fitting major or minor scale),
  of the four voices together, the mean over chorales;

each for ours and for Bach's own held-out chorales (the reference), with ours/Bach and the
issue's goals: the melody kept exactly in 100%; each rule's rate at most 2x Bach's; the same chord
at 50% of melody notes or more; scale consistency within 0.03 of Bach's; a 20-second tune
(the first 33 quarters of a held-out soprano at 100 BPM: 66 eighth frames) harmonized within
2 s warm (the median of several seeds). About a minute once the chorales are cached.
"""

from __future__ import annotations

import statistics
import time
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from core.evaluation.features import piece_to_muspy
from core.harmonize.bach import Chorale, chorale_files, read_chorales
from core.harmonize.chorale import load_chorale_harmonizer
from core.harmonize.melody import melody_from_piece
from core.harmonize.voice_leading import (
    VoiceLeadingCounts,
    chords_at_melody_notes,
    count_voice_leading,
    same_chord_share,
)
from core.music.keys import key_normalizing_shift
from core.music.piece import Piece

SEEDS = (0, 1)
DIGITS = 4
NGRAM_ORDER = 4  # the chord and the three before it
GOAL_RULE_RATIO = 2.0
GOAL_SAME_CHORD = 0.5
GOAL_SCALE_GAP = 0.03
GOAL_TIME_S = 2.0
TUNE_QUARTERS = 33  # 20 s at 100 BPM
TUNE_TEMPO_BPM = 100.0
TIMING_RUNS = 7

Chord = frozenset[int]


def _normalized_chords(chorale: Chorale) -> tuple[list[Chord], list[int]]:
    """Bach's chord and the melody's pitch class at each melody note, in C major / A minor."""
    shift = key_normalizing_shift(chorale.soprano)
    chords = [
        frozenset((p + shift) % 12 for p in c) for c in chords_at_melody_notes(chorale.voices)
    ]
    melody = [(n.pitch + shift) % 12 for n in sorted(chorale.soprano.notes)]
    return chords, melody


class ChordNgram:
    """Counts of the chord under a melody pitch class after the chords before it."""

    def __init__(self, chorales: Sequence[Chorale], *, order: int) -> None:
        self.order = order
        self.counts: dict[tuple[tuple[Chord, ...], int], Counter[Chord]] = defaultdict(Counter)
        for chorale in chorales:
            chords, melody = _normalized_chords(chorale)
            for i, (chord, pitch_class) in enumerate(zip(chords, melody, strict=True)):
                for context in range(order):
                    if i - context < 0:
                        break
                    key = (tuple(chords[i - context : i]), pitch_class)
                    self.counts[key][chord] += 1

    def harmonize(self, melody: Sequence[int]) -> list[Chord]:
        """The likeliest chord per melody note, the longest context seen first."""
        chords: list[Chord] = []
        for i, pitch_class in enumerate(melody):
            choice: Chord = frozenset({pitch_class})
            for context in range(min(self.order - 1, i), -1, -1):
                seen = self.counts.get((tuple(chords[i - context : i]), pitch_class))
                if seen:
                    choice = max(seen.items(), key=lambda item: (item[1], sorted(item[0])))[0]
                    break
            chords.append(choice)
        return chords


def _scale_consistency(voices: Sequence[Piece]) -> float:
    import muspy

    notes = tuple(sorted({n for v in voices for n in v.notes}))
    return float(muspy.scale_consistency(piece_to_muspy(replace(voices[0], notes=notes))))


def _rates(counts: VoiceLeadingCounts) -> dict[str, float]:
    return {
        "parallel_rate": counts.parallel_rate,
        "crossing_rate": counts.crossing_rate,
        "spacing_rate": counts.spacing_rate,
        "range_rate": counts.range_rate,
    }


def _tune(chorale: Chorale) -> Piece:
    soprano = chorale.soprano
    end = TUNE_QUARTERS * soprano.steps_per_quarter
    notes = tuple(n for n in soprano.notes if n.end_step <= end)
    return replace(soprano, notes=notes, tempo_bpm=TUNE_TEMPO_BPM)


def run() -> dict[str, Any]:
    started = time.monotonic()
    train = read_chorales(chorale_files(heldout=False))
    heldout = read_chorales(chorale_files(heldout=True))
    harmonizer = load_chorale_harmonizer()
    ours = bach = VoiceLeadingCounts()
    kept = harmonized = 0
    same: list[float] = []
    ngram_same: list[float] = []
    unigram_same: list[float] = []
    scale_ours: list[float] = []
    scale_bach: list[float] = []
    ngram = ChordNgram(train, order=NGRAM_ORDER)
    unigram = ChordNgram(train, order=1)
    for chorale in heldout:
        bach_chords = chords_at_melody_notes(chorale.voices)
        bach += count_voice_leading(chorale.voices)
        scale_bach.append(_scale_consistency(chorale.voices))
        normalized, melody_classes = _normalized_chords(chorale)
        ngram_same.append(same_chord_share(ngram.harmonize(melody_classes), normalized))
        unigram_same.append(same_chord_share(unigram.harmonize(melody_classes), normalized))
        melody = melody_from_piece(chorale.soprano)
        for seed in SEEDS:
            result = harmonizer.harmonize(melody, seed=seed)
            harmonized += 1
            kept += result.voices[0].notes == chorale.soprano.notes
            ours += count_voice_leading(result.voices)
            same.append(same_chord_share(chords_at_melody_notes(result.voices), bach_chords))
            scale_ours.append(_scale_consistency(result.voices))
    tune = melody_from_piece(_tune(heldout[0]))
    harmonizer.harmonize(tune, seed=0)  # warm
    times = []
    for seed in range(TIMING_RUNS):
        start = time.perf_counter()
        harmonizer.harmonize(tune, seed=seed)
        times.append(time.perf_counter() - start)

    figures: dict[str, Any] = {
        "heldout_chorales": len(heldout),
        "harmonizations": harmonized,
        "melody_kept_share": round(kept / harmonized, DIGITS),
        "same_chord_as_bach": round(statistics.mean(same), DIGITS),
        "same_chord_4gram_baseline": round(statistics.mean(ngram_same), DIGITS),
        "same_chord_1gram_baseline": round(statistics.mean(unigram_same), DIGITS),
    }
    ours_rates, bach_rates = _rates(ours), _rates(bach)
    rules_ok = True
    for name in ours_rates:
        ratio = ours_rates[name] / bach_rates[name] if bach_rates[name] else None
        figures[f"{name}_ours"] = round(ours_rates[name], DIGITS)
        figures[f"{name}_bach"] = round(bach_rates[name], DIGITS)
        figures[f"{name}_ratio"] = round(ratio, 3) if ratio is not None else None
        rules_ok &= ours_rates[name] <= GOAL_RULE_RATIO * bach_rates[name] + 1e-12
    figures["parallels_ours_bach"] = f"{ours.parallels} / {bach.parallels}"
    scale_gap = statistics.mean(scale_ours) - statistics.mean(scale_bach)
    figures["scale_consistency_ours"] = round(statistics.mean(scale_ours), DIGITS)
    figures["scale_consistency_bach"] = round(statistics.mean(scale_bach), DIGITS)
    figures["scale_consistency_gap"] = round(scale_gap, DIGITS)
    median_s = statistics.median(times)
    figures["tune_20s_notes"] = len(tune.notes)
    figures["tune_20s_s"] = round(tune.piece.duration_s, 1)
    figures["tune_20s_harmonize_s_median"] = round(median_s, 3)
    goals = {
        "melody kept exactly in 100%": kept == harmonized,
        f"parallels, crossings, spacing, range <= {GOAL_RULE_RATIO:g}x Bach's": rules_ok,
        f"same chord as Bach >= {GOAL_SAME_CHORD:.0%}": statistics.mean(same) >= GOAL_SAME_CHORD,
        f"scale consistency within {GOAL_SCALE_GAP} of Bach's": abs(scale_gap) <= GOAL_SCALE_GAP,
        f"20-second tune within {GOAL_TIME_S:g} s warm": median_s <= GOAL_TIME_S,
    }
    figures["goals_met"] = [goal for goal, met in goals.items() if met]
    figures["goals_missed"] = [goal for goal, met in goals.items() if not met]
    figures["bench_s"] = round(time.monotonic() - started, 1)
    return figures
