"""Figures of one piece: MusPy's metrics and the style features compared across sets.

MusPy's own functions compute scale consistency, pitch-class entropy, groove consistency,
empty-beat rate, polyphony and pitch range (`muspy` works here from notes; its music21 reader is
never used). The other features follow Yang & Lerch (2018), "On the evaluation of generative
models in music", on our grid: the pitch-class histogram, the note-length histogram, the mean
inter-onset interval and the notes per beat. Time is in beats (quarter notes), never seconds,
so a piece's tempo does not change its figures.

Pieces carry no time signature, so a bar is `BEATS_PER_BAR` quarter notes (4/4) everywhere:
for groove consistency, for copied passages and for repeated bars.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from core.errors import EvaluationError
from core.music.piece import Piece, steps_per_bar
from core.music.scales import Scale, scale_pitch_classes

if TYPE_CHECKING:
    import muspy

MIN_NOTES = 8  # fewer notes say nothing about key or rhythm (and make no 8-note window)
# Note lengths in quarter notes: upper edges of the classes 16th, 8th, dotted 8th, quarter,
# dotted quarter, half, dotted half, and "whole or longer" (triplets fall in the next class up).
NOTE_LENGTH_EDGES_Q = (0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0)
NOTE_LENGTH_LABELS = (
    "16th",
    "8th",
    "dotted 8th",
    "quarter",
    "dotted quarter",
    "half",
    "dotted half",
    "whole+",
)

# The features whose distance distributions are compared (Yang & Lerch's overlapping area).
STYLE_FEATURES = (
    "pitch_class_histogram",
    "pitch_range",
    "note_length_histogram",
    "inter_onset_interval",
    "polyphony",
    "notes_per_beat",
)
# MusPy's metrics, compared as set means.
MUSPY_METRICS = (
    "scale_consistency",
    "pitch_class_entropy",
    "groove_consistency",
    "empty_beat_rate",
)


def check_piece(piece: Piece) -> None:
    """Raises EvaluationError naming the piece when it is too short to judge."""
    if len(piece.notes) < MIN_NOTES:
        raise EvaluationError(
            f"{piece.name}: {len(piece.notes)} note(s), at least {MIN_NOTES} are needed to judge "
            "a piece"
        )


def scale_consistency_in(piece: Piece, tonic: int, scale: Scale | str) -> float:
    """The share of the piece's notes whose pitch class lies in `scale` on `tonic` (0 = C).

    MusPy's `scale_consistency` is the largest of these over the 24 major and natural-minor
    keys (its `pitch_in_scale_rate` is this for one of them); this asks about one chosen key
    and any scale of `core.music.scales`. NaN for a piece without notes, as MusPy.
    """
    if not piece.notes:
        return math.nan
    pitch_classes = scale_pitch_classes(tonic, scale)
    return sum(n.pitch % 12 in pitch_classes for n in piece.notes) / len(piece.notes)


def piece_to_muspy(piece: Piece) -> muspy.Music:
    """One track at the piece's grid resolution (time steps per quarter note)."""
    import muspy

    notes = [
        muspy.Note(time=n.onset_step, pitch=n.pitch, duration=n.duration_steps, velocity=64)
        for n in piece.notes
    ]
    return muspy.Music(resolution=piece.steps_per_quarter, tracks=[muspy.Track(notes=notes)])


@dataclass(frozen=True)
class PieceFigures:
    """Everything measured on one piece. Vectors are plain lists so the record is JSON-able."""

    name: str
    notes: int
    duration_beats: float
    scale_consistency: float
    pitch_class_entropy: float
    groove_consistency: float  # NaN for a piece shorter than one bar (MusPy's rule)
    empty_beat_rate: float
    pitch_class_histogram: tuple[float, ...]
    pitch_range: int
    note_length_histogram: tuple[float, ...]
    inter_onset_interval: float  # mean gap between successive onsets, in beats
    polyphony: float  # mean number of sounding pitches where at least one sounds
    notes_per_beat: float

    def feature_vector(self, feature: str) -> np.ndarray:
        value = getattr(self, feature)
        return np.atleast_1d(np.asarray(value, dtype=np.float64))

    def to_dict(self) -> dict[str, object]:
        data = dict(self.__dict__)
        data["pitch_class_histogram"] = list(self.pitch_class_histogram)
        data["note_length_histogram"] = list(self.note_length_histogram)
        return data


def pitch_class_histogram(piece: Piece) -> np.ndarray:
    """Share of notes on each of the 12 pitch classes (C first)."""
    counts = np.bincount([n.pitch % 12 for n in piece.notes], minlength=12).astype(np.float64)
    return counts / max(counts.sum(), 1.0)


def note_length_histogram(piece: Piece) -> np.ndarray:
    """Share of notes in each length class of NOTE_LENGTH_LABELS."""
    lengths_q = np.array([n.duration_steps for n in piece.notes]) / piece.steps_per_quarter
    classes = np.digitize(lengths_q, NOTE_LENGTH_EDGES_Q, right=True)
    counts = np.bincount(classes, minlength=len(NOTE_LENGTH_LABELS)).astype(np.float64)
    return counts / max(counts.sum(), 1.0)


def inter_onset_interval(piece: Piece) -> float:
    """Mean time between successive distinct onsets, in beats (0 for a single chord)."""
    onsets = np.unique([n.onset_step for n in piece.notes])
    if len(onsets) < 2:
        return 0.0
    return float(np.diff(onsets).mean() / piece.steps_per_quarter)


def notes_per_beat(piece: Piece) -> float:
    beats = piece.length_steps / piece.steps_per_quarter
    return len(piece.notes) / beats if beats > 0 else 0.0


def piece_figures(piece: Piece) -> PieceFigures:
    """Every figure of one piece.

    Raises:
        EvaluationError: the piece has fewer than MIN_NOTES notes.
    """
    import muspy

    check_piece(piece)
    music = piece_to_muspy(piece)
    groove = muspy.groove_consistency(
        music, measure_resolution=steps_per_bar(piece.steps_per_quarter)
    )
    return PieceFigures(
        name=piece.name,
        notes=len(piece.notes),
        duration_beats=piece.length_steps / piece.steps_per_quarter,
        scale_consistency=float(muspy.scale_consistency(music)),
        pitch_class_entropy=float(muspy.pitch_class_entropy(music)),
        groove_consistency=float(groove) if groove is not None else math.nan,
        empty_beat_rate=float(muspy.empty_beat_rate(music)),
        pitch_class_histogram=tuple(float(x) for x in pitch_class_histogram(piece)),
        pitch_range=int(muspy.pitch_range(music)),
        note_length_histogram=tuple(float(x) for x in note_length_histogram(piece)),
        inter_onset_interval=inter_onset_interval(piece),
        polyphony=float(muspy.polyphony(music)),
        notes_per_beat=notes_per_beat(piece),
    )
