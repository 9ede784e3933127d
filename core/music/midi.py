"""Pieces and MIDI: the one MIDI reader, notes snapped to the grid, pretty_midi in and out."""

from __future__ import annotations

import io
from collections.abc import Iterable
from pathlib import Path

import pretty_midi

from core.errors import InvalidMusicError
from core.music.piece import DEFAULT_TEMPO_BPM, Note, Piece

OUTPUT_VELOCITY = 80

OUTPUT_TICKS_PER_QUARTER = 480  # divisible by every grid in GRIDS, so decoding is exact
MIDI_HEADER = b"MThd"
DEFAULT_MIDI_NAME = "MIDI data"  # how MIDI bytes without a name are named in refusals


def read_midi(
    source: bytes | Path | str | pretty_midi.PrettyMIDI, *, name: str | None = None
) -> pretty_midi.PrettyMIDI:
    """MIDI bytes, a path or a PrettyMIDI → PrettyMIDI (a PrettyMIDI is returned as it is).

    Raises:
        InvalidMusicError: no such file, not a MIDI file, or a corrupt one; the message starts
            with the file's name (`name`, else the path's name, else "MIDI data").
    """
    if isinstance(source, pretty_midi.PrettyMIDI):
        return source
    if isinstance(source, bytes):
        label, data = name or DEFAULT_MIDI_NAME, source
    else:
        path = Path(source)
        label = name or path.name
        if not path.is_file():
            raise InvalidMusicError(f"{label}: no such file")
        data = path.read_bytes()
    if not data.startswith(MIDI_HEADER):
        raise InvalidMusicError(f"{label}: not a MIDI file (it does not start with a MIDI header)")
    return _parse_midi(data, label)


def _parse_midi(data: bytes, label: str) -> pretty_midi.PrettyMIDI:
    """pretty_midi's (and mido's) many exception types → one refusal that says why."""
    try:
        return pretty_midi.PrettyMIDI(io.BytesIO(data))
    except ValueError as error:
        if "tick" in str(error):
            raise InvalidMusicError(
                f"{label}: the MIDI file has absurd timing values and is likely corrupt"
            ) from error
        raise InvalidMusicError(f"{label}: the MIDI file is corrupt ({error})") from error
    except (ZeroDivisionError, OverflowError) as error:  # tempo 0 or 0 ticks per quarter note
        raise InvalidMusicError(
            f"{label}: the MIDI file has a tempo or a division of zero, so its notes have no time"
        ) from error
    except (OSError, EOFError, KeyError, IndexError, TypeError) as error:
        detail = f"{type(error).__name__}: {error}" if str(error) else type(error).__name__
        raise InvalidMusicError(
            f"{label}: the MIDI file is truncated or corrupt ({detail})"
        ) from error
    except Exception as error:  # anything else mido or pretty_midi raise for a corrupt file
        raise InvalidMusicError(f"{label}: the MIDI file is corrupt ({error})") from error


def first_tempo_bpm(midi: pretty_midi.PrettyMIDI) -> float:
    """The file's first tempo, or `DEFAULT_TEMPO_BPM` when it sets none."""
    _, tempi = midi.get_tempo_changes()
    return float(tempi[0]) if len(tempi) else DEFAULT_TEMPO_BPM


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
    buffer = io.BytesIO()
    midi.write(buffer)
    return buffer.getvalue()
