"""Note events, the transcription's notes in seconds, and their CSV and MIDI files."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pretty_midi

from core.transcription.params import DEFAULT_MIDI_TEMPO_BPM

MIDI_PROGRAM = 4  # Electric Piano 1, as basic-pitch writes it
MAX_VELOCITY = 127
CSV_HEADER = ("start_s", "end_s", "pitch_midi", "amplitude")


@dataclass(frozen=True, order=True)
class NoteEvent:
    """One transcribed note: seconds, MIDI pitch and the model's mean activation (0..1)."""

    start_s: float
    end_s: float
    pitch: int
    amplitude: float

    @property
    def velocity(self) -> int:
        return int(np.round(MAX_VELOCITY * self.amplitude))

    @property
    def duration_s(self) -> float:
        return self.end_s - self.start_s


def note_events_to_midi(
    notes: Sequence[NoteEvent], *, tempo_bpm: float = DEFAULT_MIDI_TEMPO_BPM
) -> pretty_midi.PrettyMIDI:
    """The notes as basic-pitch writes them: one Electric Piano, times in seconds as heard."""
    midi = pretty_midi.PrettyMIDI(initial_tempo=tempo_bpm)
    instrument = pretty_midi.Instrument(program=MIDI_PROGRAM)
    for note in sorted(notes):
        instrument.notes.append(
            pretty_midi.Note(
                velocity=note.velocity, pitch=note.pitch, start=note.start_s, end=note.end_s
            )
        )
    midi.instruments.append(instrument)
    return midi


def note_events_to_csv(notes: Sequence[NoteEvent]) -> str:
    """`start_s,end_s,pitch_midi,amplitude`, one row per note: the golden fixture's format."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_HEADER)
    for note in notes:
        writer.writerow([repr(note.start_s), repr(note.end_s), note.pitch, repr(note.amplitude)])
    return buffer.getvalue()


def csv_to_note_events(text: str) -> list[NoteEvent]:
    """The inverse of `note_events_to_csv`."""
    rows = csv.DictReader(io.StringIO(text))
    return [
        NoteEvent(
            float(r["start_s"]), float(r["end_s"]), int(r["pitch_midi"]), float(r["amplitude"])
        )
        for r in rows
    ]
