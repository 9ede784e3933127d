"""Pieces and MIDI: notes snapped to the grid, pretty_midi in and out, exact on the grid."""

from __future__ import annotations

from collections.abc import Iterable

import pretty_midi

from core.music.piece import Note, Piece

OUTPUT_VELOCITY = 80

OUTPUT_TICKS_PER_QUARTER = 480  # divisible by every grid in GRIDS, so decoding is exact


def quantize(
    events: Iterable[tuple[float, float, int]], *, steps_per_quarter: int
) -> tuple[Note, ...]:
    """(onset in quarters, duration in quarters, pitch) → notes on the grid.

    Onset and end snap to the nearest step; a note never shrinks below one step; when the same
    pitch starts twice at one step, the longer note is kept.
    """
    best: dict[tuple[int, int], int] = {}
    for onset_q, duration_q, pitch in events:
        onset = round(onset_q * steps_per_quarter)
        end = round((onset_q + duration_q) * steps_per_quarter)
        onset = max(onset, 0)
        duration = max(end - onset, 1)
        key = (onset, int(pitch))
        if duration > best.get(key, 0):
            best[key] = duration
    return tuple(sorted(Note(o, p, d) for (o, p), d in best.items()))


def pretty_midi_to_notes(
    midi: pretty_midi.PrettyMIDI, *, steps_per_quarter: int
) -> tuple[Note, ...]:
    """Every pitched note of every non-drum instrument, on the grid (onsets in ticks/resolution)."""
    events = []
    resolution = midi.resolution
    for instrument in midi.instruments:
        if instrument.is_drum:
            continue
        for note in instrument.notes:
            start = midi.time_to_tick(note.start) / resolution
            end = midi.time_to_tick(note.end) / resolution
            events.append((start, end - start, note.pitch))
    return quantize(events, steps_per_quarter=steps_per_quarter)


def piece_to_midi(
    piece: Piece,
    *,
    tempo_bpm: float | None = None,
    program: int = 0,
    velocity: int = OUTPUT_VELOCITY,
) -> pretty_midi.PrettyMIDI:
    """One instrument (General MIDI `program`) at a fixed tempo, exact on the grid."""
    tempo = tempo_bpm or piece.tempo_bpm
    midi = pretty_midi.PrettyMIDI(resolution=OUTPUT_TICKS_PER_QUARTER, initial_tempo=tempo)
    instrument = pretty_midi.Instrument(program=program, name=piece.name[:60])
    seconds_per_step = 60.0 / tempo / piece.steps_per_quarter
    for note in piece.notes:
        instrument.notes.append(
            pretty_midi.Note(
                velocity=velocity,
                pitch=note.pitch,
                start=note.onset_step * seconds_per_step,
                end=note.end_step * seconds_per_step,
            )
        )
    midi.instruments.append(instrument)
    return midi


def midi_to_bytes(midi: pretty_midi.PrettyMIDI) -> bytes:
    import io

    buffer = io.BytesIO()
    midi.write(buffer)
    return buffer.getvalue()
