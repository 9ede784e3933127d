"""Frames: a melody and its lower voices on a grid of eighth notes, as the chorale model sees them.

The lower voices of Bach's chorales move in eighths almost always (`scripts/train_harmonizer.py`
measures it: 98% of their notes start on an eighth), so each voice is one choice per eighth:
a pitch (a new note), "hold" (the note sounding goes on) or "rest". The melody is read at the
same frames (its pitch at the frame's start, whether a note starts inside it, and where the
frame lies in the bar); the melody itself is never rebuilt from frames, it is kept as given.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from core.music.meter import parse_meter
from core.music.piece import Note, Piece

FRAME_QUARTERS = 0.5  # an eighth note
# Model pitches, after the key is moved to C major / A minor (and the training's transpositions):
# E1..E6 holds every voice of every chorale so moved.
MODEL_PITCH_LOW = 28
MODEL_PITCH_HIGH = 88
N_PITCHES = MODEL_PITCH_HIGH - MODEL_PITCH_LOW + 1
# A voice's choice per frame (the model's output classes): a pitch index, HOLD or REST.
HOLD = N_PITCHES
REST = N_PITCHES + 1
N_CLASSES = N_PITCHES + 2
# What sounds in a voice at a frame (the model's inputs): a pitch index, SILENT (a rest) or
# START (before the first frame).
SILENT = N_PITCHES
START = N_PITCHES + 1
N_SOUNDING = N_PITCHES + 2
# The frame's place in its bar, in eighths from the bar line (a bar of more than 8 quarters
# wraps round), beside "on the bar line" and "on a beat".
POSITIONS = 16
N_MELODY_FEATURES = 1 + POSITIONS + 2  # onset, position one-hot, downbeat, beat
LOWER_VOICES = 3  # alto, tenor, bass


def frame_bounds(length_steps: int, steps_per_quarter: int) -> np.ndarray:
    """Grid steps where each frame starts, and the end: `frames + 1` increasing numbers."""
    if length_steps < 1:
        raise ValueError("a piece to frame needs at least one step")
    per_frame = steps_per_quarter * FRAME_QUARTERS
    count = max(1, int(np.ceil(length_steps / per_frame - 1e-9)))
    starts = sorted({min(int(np.floor(t * per_frame + 1e-9)), length_steps) for t in range(count)})
    return np.array([s for s in starts if s < length_steps] + [length_steps], dtype=np.int64)


# The weight of a note's length on the half bar of 4/4 (beat 3), against 1 on the bar line.
HALF_BAR_WEIGHT = 0.5


def estimate_bar_shift_quarters(piece: Piece, bar_quarters: float) -> float:
    """Quarters missing from the first bar (an upbeat), in eighths: the shift that puts the
    most note length on bar lines (and half as much on the middle of a 4/4 bar).

    A piece does not say where its bars begin when it starts on an upbeat (`Piece` keeps no
    pickup); long notes fall on strong beats, so this finds the upbeat of 70% of the chorales
    (their scores say it: `scripts/train_harmonizer.py` measures it), and training uses the
    same guess so the model learns what it will be given.
    """
    best_score, best = -1.0, 0.0
    spq = piece.steps_per_quarter
    for shift in np.arange(0.0, bar_quarters - 1e-9, FRAME_QUARTERS):
        score = 0.0
        for note in piece.notes:
            in_bar = (note.onset_step / spq + shift) % bar_quarters
            if in_bar < 1e-6 or bar_quarters - in_bar < 1e-6:
                score += note.duration_steps
            elif bar_quarters == 4.0 and abs(in_bar - 2.0) < 1e-6:
                score += HALF_BAR_WEIGHT * note.duration_steps
        if score > best_score + 1e-9:
            best_score, best = score, float(shift)
    return best


@dataclass(frozen=True)
class MelodyFrames:
    """A melody read at frames: `sounding` (T,) ints, `features` (T, N_MELODY_FEATURES)
    floats, and per frame the lowest melody pitch sounding in it (`ceiling`, MIDI; the
    previous one where the melody rests)."""

    bounds: np.ndarray
    sounding: np.ndarray
    features: np.ndarray
    ceiling: np.ndarray

    @property
    def frames(self) -> int:
        return len(self.sounding)


def pitch_index(pitch: int) -> int:
    """A MIDI pitch as a model pitch index, the range's nearest end when outside it."""
    return int(min(max(pitch, MODEL_PITCH_LOW), MODEL_PITCH_HIGH)) - MODEL_PITCH_LOW


def _sounding_notes(notes: Sequence[Note], bounds: np.ndarray) -> list[Note | None]:
    """The note sounding at each frame's first step (notes in time order, no overlaps)."""
    out: list[Note | None] = []
    index = 0
    ordered = sorted(notes)
    for start in bounds[:-1]:
        while index < len(ordered) and ordered[index].end_step <= start:
            index += 1
        note = ordered[index] if index < len(ordered) else None
        out.append(note if note is not None and note.onset_step <= start else None)
    return out


def melody_frames(piece: Piece, *, shift: int = 0, length_steps: int | None = None) -> MelodyFrames:
    """The piece's single line (moved by `shift` semitones) at eighth frames."""
    length = length_steps or piece.length_steps
    bounds = frame_bounds(length, piece.steps_per_quarter)
    frames = len(bounds) - 1
    try:
        meter = parse_meter(piece.meter)
        meter.bar_steps(piece.steps_per_quarter)
    except ValueError:  # a meter whose bar is not whole steps: count in 4/4
        meter = parse_meter("")
    bar_q = meter.quarters_per_bar
    beat_q = bar_q / meter.beats
    pickup = estimate_bar_shift_quarters(piece, bar_q)
    notes = sorted(piece.notes)
    sounding = np.full(frames, SILENT, dtype=np.int64)
    features = np.zeros((frames, N_MELODY_FEATURES), dtype=np.float32)
    ceiling = np.full(frames, 127, dtype=np.int64)
    for t, note in enumerate(_sounding_notes(notes, bounds)):
        if note is not None:
            sounding[t] = pitch_index(note.pitch + shift)
        quarters = bounds[t] / piece.steps_per_quarter + pickup
        in_bar = quarters % bar_q
        features[t, 1 + round(in_bar / FRAME_QUARTERS) % POSITIONS] = 1.0
        features[t, 1 + POSITIONS] = float(in_bar < 1e-6 or bar_q - in_bar < 1e-6)
        in_beat = in_bar % beat_q
        features[t, 2 + POSITIONS] = float(in_beat < 1e-6 or beat_q - in_beat < 1e-6)
    index = 0
    known = False
    for t in range(frames):
        start, end = int(bounds[t]), int(bounds[t + 1])
        while index < len(notes) and notes[index].end_step <= start:
            index += 1
        inside = [n for n in notes[index : index + 8] if n.onset_step < end]
        if any(start <= n.onset_step < end for n in inside):
            features[t, 0] = 1.0
        if inside:
            ceiling[t] = min(n.pitch for n in inside) + shift
            known = True
        elif known:
            ceiling[t] = ceiling[t - 1]
    if known:  # frames before the first note: the first note's ceiling
        first = int(np.argmax(ceiling < 127))
        ceiling[:first] = ceiling[first]
    return MelodyFrames(bounds, sounding, features, ceiling)


def voice_to_choices(notes: Sequence[Note], bounds: np.ndarray, *, shift: int = 0) -> np.ndarray:
    """A single line's choice per frame (pitch index, HOLD, REST), moved by `shift`.

    A note that starts inside a frame rather than at its start (a sixteenth) is heard from the
    next frame; a note shorter than that is lost, which the grid accepts.

    Raises:
        ValueError: a pitch outside the model's range.
    """
    choices = np.full(len(bounds) - 1, REST, dtype=np.int64)
    for t, note in enumerate(_sounding_notes(notes, bounds)):
        if note is None:
            continue
        pitch = note.pitch + shift
        if not MODEL_PITCH_LOW <= pitch <= MODEL_PITCH_HIGH:
            raise ValueError(f"pitch {pitch} is outside the model's range")
        new = t == 0 or note.onset_step > bounds[t - 1] or choices[t - 1] == REST
        choices[t] = pitch - MODEL_PITCH_LOW if new else HOLD
    return choices


def choices_to_sounding(choices: np.ndarray) -> np.ndarray:
    """Choices (..., T) → what sounds at each frame (pitch index or SILENT)."""
    sounding = np.empty_like(choices)
    current = np.full(choices.shape[:-1], SILENT, dtype=choices.dtype)
    for t in range(choices.shape[-1]):
        step = choices[..., t]
        current = np.where(step == HOLD, current, np.where(step == REST, SILENT, step))
        sounding[..., t] = current
    return sounding


def choices_to_notes(choices: np.ndarray, bounds: np.ndarray, *, shift: int = 0) -> list[Note]:
    """One voice's choices back to notes on the grid of `bounds`, moved by `shift`."""
    notes: list[Note] = []
    onset = pitch = -1
    for t in range(len(choices) + 1):
        step = int(choices[t]) if t < len(choices) else REST
        if step == HOLD and onset >= 0:
            continue
        if onset >= 0:
            notes.append(Note(int(bounds[onset]), pitch, int(bounds[t] - bounds[onset])))
            onset = -1
        if step < N_PITCHES:
            onset, pitch = t, step + MODEL_PITCH_LOW + shift
    return notes
