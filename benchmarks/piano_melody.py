"""Polyphonic piano: is the top line (the melody) heard, and how many octave ghosts are added?

20 four-voice string-quartet movements from music21's corpus (Haydn op. 1 no. 1 and op. 74
no. 1, Mozart K. 80, 155, 156 and 458; the base model learned the Bach chorales and the folk
tunes, none of these), the first `EXCERPT_S` seconds of each at `TEMPO_BPM`, every part on one
piano (FluidSynth, GM program 0), transcribed with the bundled Basic Pitch model and the app's
piano preset, scored with mir_eval (onsets within 50 ms, offsets ignored).

Figures: note onset+pitch F1 overall; the recall of the top voice (at each written onset, the
highest note starting there when no held note sounds above it) and of the bass (the lowest, the
same way); the share of missed top notes that sit 12, 19 or 24 semitones above a transcribed
note sounding at their onset; the same figures for the preset without its polyphonic clean-up
(`TranscriptionParams.top_line` off), measured in the same run. About 45 s on 2 cores.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

PIECES = (
    "haydn/opus1no1/movement1.mxl",
    "haydn/opus1no1/movement2.mxl",
    "haydn/opus1no1/movement3.mxl",
    "haydn/opus1no1/movement4.mxl",
    "haydn/opus1no1/movement5.mxl",
    "haydn/opus74no1/movement1.mxl",
    "haydn/opus74no1/movement2.mxl",
    "haydn/opus74no1/movement3.mxl",
    "haydn/opus74no1/movement4.mxl",
    "mozart/k80/movement1.mxl",
    "mozart/k80/movement2.mxl",
    "mozart/k80/movement3.mxl",
    "mozart/k80/movement4.mxl",
    "mozart/k155/movement1.mxl",
    "mozart/k155/movement2.mxl",
    "mozart/k155/movement3.mxl",
    "mozart/k156/movement1.mxl",
    "mozart/k156/movement2.mxl",
    "mozart/k458/movement1.mxl",
    "mozart/k458/movement2.mxl",
)
TEMPO_BPM = 90.0
EXCERPT_S = 30.0
VELOCITY = 90
PIANO_PROGRAM = 0
RENDER_RATE_HZ = 22050  # Basic Pitch's own rate: no resampling
ONSET_WINDOW_S = 0.05
GHOST_INTERVALS = (12, 19, 24)  # octave, twelfth, double octave


@dataclass(frozen=True)
class WrittenNote:
    start_s: float
    end_s: float
    pitch: int


def written_notes(path: str) -> list[WrittenNote]:
    """Every part's notes in the first EXCERPT_S seconds (ties joined, chords split)."""
    import music21.corpus

    score = music21.corpus.parse(path).stripTies()
    seconds_per_quarter = 60.0 / TEMPO_BPM
    notes = []
    for element in score.flatten().notes:
        start = float(element.offset) * seconds_per_quarter
        if start >= EXCERPT_S:
            continue
        end = min(start + float(element.duration.quarterLength) * seconds_per_quarter, EXCERPT_S)
        if end <= start:
            continue  # grace notes
        for pitch in element.pitches:
            notes.append(WrittenNote(start, end, int(pitch.midi)))
    return sorted(set(notes), key=lambda n: (n.start_s, n.pitch))


def voice_notes(notes: list[WrittenNote], *, top: bool) -> list[WrittenNote]:
    """The top (or bass) voice: at each onset the highest (lowest) note starting there, unless
    a held note sounds above (below) it."""
    chosen = []
    for start in sorted({n.start_s for n in notes}):
        starting = [n for n in notes if abs(n.start_s - start) < 1e-6]
        held = [n.pitch for n in notes if n.start_s < start - 1e-6 and n.end_s > start + 1e-6]
        edge = max(starting, key=lambda n: n.pitch) if top else min(starting, key=lambda n: n.pitch)
        if not held or (edge.pitch > max(held) if top else edge.pitch < min(held)):
            chosen.append(edge)
    return chosen


def render(notes: list[WrittenNote]) -> bytes:
    import io

    import pretty_midi
    import soundfile as sf

    from core.audio.rendering import midi_to_audio

    midi = pretty_midi.PrettyMIDI(initial_tempo=TEMPO_BPM)
    piano = pretty_midi.Instrument(program=PIANO_PROGRAM)
    piano.notes = [pretty_midi.Note(VELOCITY, n.pitch, n.start_s, n.end_s) for n in notes]
    midi.instruments.append(piano)
    audio = midi_to_audio(midi, sample_rate_hz=RENDER_RATE_HZ)
    buffer = io.BytesIO()
    sf.write(buffer, audio, RENDER_RATE_HZ, format="WAV")
    return buffer.getvalue()


def _intervals(notes: Any) -> tuple[np.ndarray, np.ndarray]:
    intervals = np.array([[n.start_s, max(n.end_s, n.start_s + 0.01)] for n in notes]).reshape(
        -1, 2
    )
    hz = 440.0 * 2.0 ** ((np.array([n.pitch for n in notes], np.float64) - 69.0) / 12.0)
    return intervals, hz


def _matched(reference: list[WrittenNote], estimate: Any) -> set[int]:
    """Indices of reference notes matched by an estimated note (pitch, onset within 50 ms)."""
    import mir_eval

    if not reference or not estimate:
        return set()
    ref_i, ref_hz = _intervals(reference)
    est_i, est_hz = _intervals(estimate)
    pairs = mir_eval.transcription.match_notes(
        ref_i, ref_hz, est_i, est_hz, onset_tolerance=ONSET_WINDOW_S, offset_ratio=None
    )
    return {r for r, _ in pairs}


def score(written: list[WrittenNote], estimate: Any) -> dict[str, Any]:
    """The figures of one piece: counts, so that they can be pooled."""
    top = voice_notes(written, top=True)
    bass = voice_notes(written, top=False)
    hit_all = len(_matched(written, estimate))
    hit_top = _matched(top, estimate)
    missed = [n for i, n in enumerate(top) if i not in hit_top]
    ghosts = 0
    for note in missed:
        sounding = {
            e.pitch
            for e in estimate
            if e.start_s <= note.start_s + ONSET_WINDOW_S and e.end_s > note.start_s
        }
        ghosts += any(note.pitch - interval in sounding for interval in GHOST_INTERVALS)
    return {
        "written": len(written),
        "estimated": len(estimate),
        "matched": hit_all,
        "top": len(top),
        "top_matched": len(hit_top),
        "bass": len(bass),
        "bass_matched": len(_matched(bass, estimate)),
        "top_missed_above_a_note": ghosts,
    }


def pooled(rows: list[dict[str, Any]]) -> dict[str, float]:
    total = {k: sum(r[k] for r in rows) for k in rows[0]}
    precision = total["matched"] / max(total["estimated"], 1)
    recall = total["matched"] / max(total["written"], 1)
    missed = total["top"] - total["top_matched"]
    return {
        "onset_f1": round(2 * precision * recall / max(precision + recall, 1e-9), 4),
        "onset_precision": round(precision, 4),
        "onset_recall": round(recall, 4),
        "top_recall": round(total["top_matched"] / max(total["top"], 1), 4),
        "bass_recall": round(total["bass_matched"] / max(total["bass"], 1), 4),
        "top_missed_at_12_19_24_share": round(total["top_missed_above_a_note"] / max(missed, 1), 4),
        "notes_transcribed": total["estimated"],
    }


def run() -> dict[str, Any]:
    from core.transcription import load_model
    from core.transcription.inference import activations_to_notes, audio_to_activations
    from core.transcription.params import TranscriptionPreset, preset_params

    began = time.perf_counter()
    model = load_model()
    preset = preset_params(TranscriptionPreset.PIANO)
    variants = {"preset": preset}
    if hasattr(preset, "top_line"):
        variants["without_top_line"] = replace(preset, top_line=False)
    rows: dict[str, list[dict[str, Any]]] = {name: [] for name in variants}
    per_piece = []
    for path in PIECES:
        written = written_notes(path)
        activations = audio_to_activations(render(written), model=model, name=path)
        row: dict[str, Any] = {"piece": path, "written": len(written)}
        for name, params in variants.items():
            figures = score(written, activations_to_notes(activations, params))
            rows[name].append(figures)
            row[f"{name}_top_recall"] = round(figures["top_matched"] / max(figures["top"], 1), 3)
        per_piece.append(row)
    result: dict[str, Any] = {"pieces": len(PIECES), "tempo_bpm": TEMPO_BPM, "excerpt_s": EXCERPT_S}
    for name, group in rows.items():
        result[name] = pooled(group)
    result["run_s"] = round(time.perf_counter() - began, 1)
    result["per_piece"] = per_piece
    return result
