"""Audio → training music: how faithfully a rendered tune comes back on the beat grid.

30 tunes from music21's `essenFolksong/zuccal0.abc` (Zuccalmaglio's German folk songs, not in
the base's data): 8 in 2/4, 8 in 3/4, 6 in 4/4 and 8 in 6/8, the first of each meter whose
written onsets lie on sixteenths. Each is rendered with FluidSynth (piano, flute or guitar in
turn) at a tempo drawn with a fixed seed from 80-140 quarter notes per minute, written as MP3
(WAV where libsndfile has no MP3), transcribed with the bundled Basic Pitch model (the app's
default preset) and turned into training music the app's way: `transcription_to_dataset_midi`
with the estimated tempo, then `read_music` on the default grid (sixteenths), as "my dataset"
reads it.

Figures: Basic Pitch's own onset F1 in seconds (mir_eval, 50 ms); the training music's onset F1
in quarter notes against the written music after aligning tempo (the nearest simple multiple of
the true tempo, so a slightly wrong tempo still drifts) and phase (window 0.1 quarter: a note is
either on its written step or at least a sixteenth off), for simple and compound meters apart;
the tempo error; the meter found. Goals (issue 24): grid F1 >= 0.95 x raw F1 in both meter
families; tempo within 0.1 % (or an exact simple multiple) in 95 % of files. About 1-2 minutes.
"""

from __future__ import annotations

import io
import re
import time
from collections.abc import Sequence
from fractions import Fraction
from itertools import pairwise
from pathlib import Path
from typing import Any

import numpy as np

COLLECTION = "essenFolksong/zuccal0.abc"
TUNES_PER_METER = {"2/4": 8, "3/4": 8, "4/4": 6, "6/8": 8}
COMPOUND_METERS = frozenset({"6/8", "9/8", "12/8"})
SEED = 24
MIN_TEMPO_BPM, MAX_TEMPO_BPM = 80.0, 140.0
PROGRAMS = (0, 73, 24)  # piano, flute, nylon guitar, in turn
MAX_TUNE_S = 60.0
WRITTEN_STEPS_PER_QUARTER = 12  # holds sixteenths and triplets: the written music, exactly
TRAINING_STEPS_PER_QUARTER = 4  # the app's default grid
GRID_WINDOW_QUARTERS = 0.1
RAW_WINDOW_S = 0.05
SAME_ONSET_S = 0.03  # Basic Pitch's octave doubles: one onset
SIMPLE_RATIOS = tuple(sorted({Fraction(a, b) for a in (1, 2, 3, 4) for b in (1, 2, 3, 4)}))
TEMPO_TOLERANCE = 0.001
GOAL_GRID_TO_RAW = 0.95
GOAL_TEMPO_SHARE = 0.95
RENDER_RATE_HZ = 44100


def tunes(
    collection: str = COLLECTION, per_meter: dict[str, int] | None = None
) -> list[tuple[str, Any]]:
    """(meter, Piece) for the chosen tunes of a corpus tune book, written music on a 12-step
    grid: the first of each meter (`per_meter` of it) on sixteenths and one line."""
    import music21.corpus

    from core.music.files import read_music

    text = (Path(music21.corpus.__file__).parent / collection).read_text(
        encoding="utf-8", errors="replace"
    )
    wanted = dict(TUNES_PER_METER if per_meter is None else per_meter)
    chosen: list[tuple[str, Any]] = []
    for tune in re.split(r"(?m)^(?=X:)", text):
        meter = re.search(r"(?m)^M:\s*(\S+)", tune)
        if not tune.startswith("X:") or not meter or wanted.get(meter.group(1), 0) <= 0:
            continue
        try:
            [piece] = read_music(
                tune.encode(),
                name=f"tune{len(chosen)}.abc",
                steps_per_quarter=WRITTEN_STEPS_PER_QUARTER,
            )
        except Exception:  # a tune music21 cannot read is skipped
            continue
        onsets = {n.onset_step for n in piece.notes}
        if len(onsets) < 16 or any(s % 3 for s in onsets) or len(onsets) < len(piece.notes):
            continue  # not on sixteenths, or chords
        wanted[meter.group(1)] -= 1
        chosen.append((meter.group(1), piece))
        if not any(wanted.values()):
            break
    return chosen


def _unique_onsets(times: np.ndarray, *, within: float) -> np.ndarray:
    times = np.sort(np.asarray(times, np.float64))
    if times.size == 0:
        return times
    keep = np.concatenate([[True], np.diff(times) > within])
    return times[keep]


def _aligned_f1(reference: np.ndarray, estimate: np.ndarray, *, window: float) -> float:
    """Onset F1 after the best constant shift (one of the first notes' offsets)."""
    return _best_shift(reference, estimate, window=window)[1]


def _best_shift(
    reference: np.ndarray, estimate: np.ndarray, *, window: float
) -> tuple[float, float]:
    """(shift, onset F1): the constant shift of `estimate` (one of the first notes' offsets
    against one of the reference's) that gives the best onset F1."""
    import mir_eval

    best = (0.0, 0.0)
    for j in range(min(4, len(estimate))):
        for i in range(min(4, len(reference))):
            shift = reference[i] - estimate[j]
            f1, _, _ = mir_eval.onset.f_measure(reference, estimate + shift, window=window)
            if f1 > best[1]:
                best = (float(shift), float(f1))
    return best


def missed_notes(
    reference: Sequence[tuple[float, float, int]],
    estimate: Sequence[tuple[float, float, int]],
    *,
    window: float,
    shift: float | None = None,
) -> tuple[int, int]:
    """(written notes with no note of their pitch at their onset, how many of those repeat
    the pitch of the note before), `estimate` moved by `shift` (None: the best onset shift);
    notes as (onset, end, pitch).
    A repeated note that the playing does not attack again is heard as one long note."""
    import mir_eval

    reference = sorted(reference)
    if not reference:
        return 0, 0
    if not estimate:
        return len(reference), sum(1 for a, b in pairwise(reference) if a[2] == b[2])
    ref = np.array(reference, dtype=float)
    est = np.array(estimate, dtype=float)
    if shift is None:
        shift, _ = _best_shift(np.unique(ref[:, 0]), np.unique(est[:, 0]), window=window)
    matched = mir_eval.transcription.match_notes(
        ref[:, :2],
        mir_eval.util.midi_to_hz(ref[:, 2]),
        est[:, :2] + shift,
        mir_eval.util.midi_to_hz(est[:, 2]),
        onset_tolerance=window,
        offset_ratio=None,
    )
    found = {i for i, _ in matched}
    missed = [i for i in range(len(ref)) if i not in found]
    repeats = sum(1 for i in missed if i > 0 and ref[i - 1, 2] == ref[i, 2])
    return len(missed), repeats


def _simple_ratio(ratio: float) -> Fraction:
    return min(SIMPLE_RATIOS, key=lambda r: abs(np.log(ratio / float(r))))


def render_and_transcribe(piece: Any, *, tempo_bpm: float, program: int, model: Any) -> Any:
    """The piece played at `tempo_bpm` with FluidSynth, written as MP3 (WAV where libsndfile
    has no MP3) and transcribed with Basic Pitch's default preset, as the audio tab does."""
    import soundfile as sf

    from core.audio.rendering import midi_to_audio
    from core.music.midi import piece_to_midi
    from core.music.piece import Piece
    from core.transcription import transcribe
    from core.transcription.params import DEFAULT_TRANSCRIPTION_PRESET, preset_params

    played = Piece(piece.name, piece.notes, piece.steps_per_quarter, tempo_bpm, piece.key)
    audio = midi_to_audio(piece_to_midi(played, program=program), sample_rate_hz=RENDER_RATE_HZ)
    fmt = "MP3" if "MP3" in sf.available_formats() else "WAV"
    buffer = io.BytesIO()
    sf.write(buffer, audio, RENDER_RATE_HZ, format=fmt)
    return transcribe(
        buffer.getvalue(),
        name=f"{piece.name}.{fmt.lower()}",
        model=model,
        params=preset_params(DEFAULT_TRANSCRIPTION_PRESET),
    )


def score_tune(meter: str, piece: Any, tempo_bpm: float, program: int, model: Any) -> dict:
    from core.music.files import read_music
    from core.music.piece import Piece
    from core.transcription import transcription_to_dataset_midi

    spq = piece.steps_per_quarter
    max_step = MAX_TUNE_S * tempo_bpm / 60.0 * spq
    notes = tuple(n for n in piece.notes if n.end_step <= max_step)
    piece = Piece(piece.name, notes, spq, tempo_bpm, piece.key)
    result = render_and_transcribe(piece, tempo_bpm=tempo_bpm, program=program, model=model)
    grid = result.beat_grid()
    estimated_bpm = grid.tempo_bpm

    reference_q = np.array(sorted({n.onset_step / spq for n in notes}))
    reference_s = reference_q * 60.0 / tempo_bpm
    raw_s = _unique_onsets(np.array([n.start_s for n in result.notes]), within=SAME_ONSET_S)
    [training] = read_music(
        transcription_to_dataset_midi(result),
        name=f"{piece.name}.mid",
        steps_per_quarter=TRAINING_STEPS_PER_QUARTER,
    )
    ratio = estimated_bpm / tempo_bpm
    simple = _simple_ratio(ratio)
    training_q = np.unique([n.onset_step / training.steps_per_quarter for n in training.notes])
    training_q = training_q / float(simple)
    row: dict[str, Any] = {
        "tune": piece.name,
        "meter": meter,
        "program": program,
        "true_bpm": round(tempo_bpm, 2),
        "estimated_bpm": round(float(estimated_bpm), 3),
        "multiple": str(simple),
        "tempo_error_pct": round(100.0 * (ratio / float(simple) - 1.0), 4),
        "raw_f1": round(_aligned_f1(reference_s, raw_s, window=RAW_WINDOW_S), 4),
        "grid_f1": round(_aligned_f1(reference_q, training_q, window=GRID_WINDOW_QUARTERS), 4),
    }
    row["beats_per_bar"] = grid.beats_per_bar
    row["beat_division"] = grid.beat_division
    row["warning"] = grid.warning
    return row


def run() -> dict[str, Any]:
    from core.transcription import load_model

    began = time.perf_counter()
    model = load_model()
    rng = np.random.default_rng(SEED)
    chosen = tunes()
    tempi = rng.uniform(MIN_TEMPO_BPM, MAX_TEMPO_BPM, size=len(chosen))
    rows = [
        score_tune(meter, piece, float(bpm), PROGRAMS[i % len(PROGRAMS)], model)
        for i, ((meter, piece), bpm) in enumerate(zip(chosen, tempi, strict=True))
    ]
    figures: dict[str, Any] = {"tunes": len(rows)}
    for family, in_family in (
        ("simple", lambda m: m not in COMPOUND_METERS),
        ("compound", lambda m: m in COMPOUND_METERS),
    ):
        group = [r for r in rows if in_family(r["meter"])]
        raw = float(np.mean([r["raw_f1"] for r in group]))
        grid_f1 = float(np.mean([r["grid_f1"] for r in group]))
        figures[f"{family}_tunes"] = len(group)
        figures[f"{family}_raw_onset_f1"] = round(raw, 4)
        figures[f"{family}_grid_onset_f1"] = round(grid_f1, 4)
        figures[f"{family}_grid_to_raw"] = round(grid_f1 / raw, 4)
        figures[f"meets_{family}_grid_goal"] = grid_f1 >= GOAL_GRID_TO_RAW * raw
        if "beat_division" in group[0]:
            expected = 3 if family == "compound" else 2
            figures[f"{family}_beat_division_right"] = sum(
                r["beat_division"] == expected for r in group
            )
    within = [abs(r["tempo_error_pct"]) < 100 * TEMPO_TOLERANCE for r in rows]
    figures["tempo_within_0.1pct_share"] = round(float(np.mean(within)), 3)
    figures["tempo_exact_quarter_share"] = round(
        float(np.mean([w and r["multiple"] == "1" for w, r in zip(within, rows, strict=True)])), 3
    )
    figures["tempo_error_pct_median_abs"] = round(
        float(np.median([abs(r["tempo_error_pct"]) for r in rows])), 4
    )
    figures["meets_tempo_goal"] = float(np.mean(within)) >= GOAL_TEMPO_SHARE
    figures["goal_grid_to_raw"] = GOAL_GRID_TO_RAW
    figures["goal_tempo_share"] = GOAL_TEMPO_SHARE
    figures["run_s"] = round(time.perf_counter() - began, 1)
    figures["per_tune"] = rows
    return figures
