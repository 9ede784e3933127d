"""Pieces and MIDI: the one MIDI reader, notes snapped to the grid, pretty_midi in and out."""

from __future__ import annotations

import io
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pretty_midi
from mido.messages.specs import SPEC_BY_STATUS

from core.errors import InvalidMusicError, MusicLimitError
from core.music.meter import meter_text, parse_meter
from core.music.piece import DEFAULT_TEMPO_BPM, Note, Piece

OUTPUT_VELOCITY = 80

OUTPUT_TICKS_PER_QUARTER = 480  # divisible by every grid in GRIDS, so decoding is exact
MIDI_HEADER = b"MThd"
DEFAULT_MIDI_NAME = "MIDI data"  # how MIDI bytes without a name are named in refusals

# mido and pretty_midi build a Python object or more for every message, all of them before the
# first note can be counted: about 7 µs of CPU a message (400,000 notes' on and off messages, or
# controllers, or pitch bends: 2.6-3.1 s, measured), twice that a meta message (500,000 tempo
# changes: 6.5 s), and 0.4 µs a byte of sysex data (5 MB: 2.2 s). A 20 MB file holds 6 million
# messages. So the raw bytes are scanned first (`_check_midi_limits`, 0.25 s for a file at the
# limits), stopping at the first limit passed: a refusal costs no more than that scan, and a
# file within every limit is read in about 4 s.
MAX_MIDI_NOTES = 200_000  # a long orchestral work has tens of thousands
MAX_MIDI_EVENTS = 2 * MAX_MIDI_NOTES + 100_000  # a note is two; room for controllers and meta
MAX_MIDI_META_EVENTS = 100_000  # tempo, signatures, text: a performance's tempo map has thousands
MAX_MIDI_DATA_BYTES = 2_000_000  # sysex and meta payloads (a synthesizer's patch dump: kilobytes)
# mido refuses a longer message (its MAX_MESSAGE_LENGTH); the scan stops where mido stops.
MIDO_MAX_MESSAGE_BYTES = 1_000_000
_META, _SYSEX, _SYSEX_ESCAPE = 0xFF, 0xF0, 0xF7
# Bytes of each channel and system message, its status included: mido's own table, so the scan
# reads the messages mido reads.
_MESSAGE_BYTES: dict[int, int] = {
    status: int(spec["length"])
    for status, spec in SPEC_BY_STATUS.items()
    if status not in (_META, _SYSEX)
}


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
    _check_midi_limits(data, label)
    return _parse_midi(data, label)


def _check_midi_limits(data: bytes, label: str) -> None:
    """Walk the tracks as mido will read them, counting notes, messages, meta messages and the
    bytes of sysex and meta data, and refuse as soon as one count passes its limit.

    The walk follows mido's reader (running status, which status bytes set it, a track read until
    its declared end is met exactly, past it otherwise); wherever mido would fail (the data
    ends, an undefined status byte, a message too long) the walk ends and mido's refusal follows.

    Raises:
        MusicLimitError: more notes than `MAX_MIDI_NOTES`, messages than `MAX_MIDI_EVENTS`,
            meta messages than `MAX_MIDI_META_EVENTS`, or sysex and meta bytes than
            `MAX_MIDI_DATA_BYTES`.
    """
    size = len(data)
    if size < 14:
        return
    header_bytes = int.from_bytes(data[4:8], "big")
    tracks = int.from_bytes(data[10:12], "big", signed=True)  # mido reads it signed
    pos = 8 + header_bytes
    notes = events = metas = payload = 0
    for _ in range(tracks):
        if data[pos : pos + 4] != b"MTrk" or pos + 8 > size:
            return
        track_end = pos + 8 + int.from_bytes(data[pos + 4 : pos + 8], "big")
        pos += 8
        last_status = -1
        while pos != track_end:
            while pos < size and data[pos] & 0x80:  # the delta time's continuation bytes
                pos += 1
            pos += 1
            if pos >= size:
                return
            status = data[pos]
            pos += 1
            running = status < 0x80  # a data byte: the previous status again
            if running:
                if last_status < 0:
                    return
                status = last_status
            elif status != _META:
                last_status = status
            events += 1
            if events > MAX_MIDI_EVENTS:
                raise MusicLimitError(
                    f"{label}: the MIDI file has more messages (notes, controllers, pitch bends "
                    f"and others) than the {MAX_MIDI_EVENTS:,} message limit"
                )
            if status in (_META, _SYSEX, _SYSEX_ESCAPE):
                if status == _META:
                    pos += 1  # its type
                    metas += 1
                    if metas > MAX_MIDI_META_EVENTS:
                        raise MusicLimitError(
                            f"{label}: the MIDI file has more meta messages (tempo changes, "
                            f"signatures, text) than the {MAX_MIDI_META_EVENTS:,} message limit"
                        )
                length = 0
                while True:  # a variable-length number
                    if pos >= size:
                        return
                    byte = data[pos]
                    pos += 1
                    length = (length << 7) | (byte & 0x7F)
                    if byte < 0x80:
                        break
                if length > MIDO_MAX_MESSAGE_BYTES:
                    return
                payload += length
                if payload > MAX_MIDI_DATA_BYTES:
                    raise MusicLimitError(
                        f"{label}: the MIDI file has more system-exclusive and meta data than "
                        f"the {MAX_MIDI_DATA_BYTES / 1e6:g} MB limit"
                    )
                pos += length
            else:
                length = _MESSAGE_BYTES.get(status, 0)
                if length < (2 if running else 1):  # undefined, or running status with no data
                    return
                first = pos - 1 if running else pos  # its first data byte
                pos = first + length - 1
                if pos > size:
                    return
                if status & 0xF0 == 0x90 and data[first + 1]:  # a note-on, not velocity 0
                    notes += 1
                    if notes > MAX_MIDI_NOTES:
                        raise MusicLimitError(
                            f"{label}: the MIDI file has more notes than the "
                            f"{MAX_MIDI_NOTES:,} note limit"
                        )
            if pos > size:
                return


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


def first_meter(midi: pretty_midi.PrettyMIDI) -> str:
    """The file's first time signature ("6/8"), or "" when it has none.

    A file whose meter changes gives its first one. A file without a time-signature event reads
    as "": MIDI's own default of 4/4 is no statement about the music. One out of bounds
    (`core.music.meter.Meter`) reads as "" too.
    """
    signatures = sorted(midi.time_signature_changes, key=lambda ts: ts.time)
    if not signatures:
        return ""
    return meter_text(signatures[0].numerator, signatures[0].denominator)


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
    notes = [n for i in midi.instruments if not i.is_drum for n in i.notes]
    times = np.array([t for n in notes for t in (n.start, n.end)], dtype=np.float64)
    ticks = _times_to_ticks(midi, times).tolist()
    resolution = midi.resolution
    events = [
        (start / resolution, end / resolution - start / resolution, note.pitch)
        for note, start, end in zip(notes, ticks[0::2], ticks[1::2], strict=True)
    ]
    return quantize(events, steps_per_quarter=steps_per_quarter)


def _times_to_ticks(midi: pretty_midi.PrettyMIDI, times: np.ndarray) -> np.ndarray:
    """`midi.time_to_tick` of many times at once (one call each cost 1.2 s for 200,000 notes).

    pretty_midi made each note's times from its ticks, tempo segment by tempo segment, so
    inverting that segment's scale and rounding gives the tick back exactly.
    """
    # pretty_midi's own segments: (first tick, seconds per tick), and the time of each first tick
    scales = np.array(midi._tick_scales, dtype=np.float64).reshape(-1, 2)
    change_ticks, seconds_per_tick = scales[:, 0], scales[:, 1]
    change_times, _ = midi.get_tempo_changes()
    segment = np.maximum(np.searchsorted(change_times, times, side="right") - 1, 0)
    ticks = change_ticks[segment] + (times - change_times[segment]) / seconds_per_tick[segment]
    return np.rint(ticks).astype(np.int64)


def piece_to_midi(
    piece: Piece,
    *,
    tempo_bpm: float | None = None,
    program: int = 0,
    velocity: int = OUTPUT_VELOCITY,
) -> pretty_midi.PrettyMIDI:
    """One instrument (General MIDI `program`) at a fixed tempo, exact on the grid, with the
    piece's meter as its time signature.

    A piece without a meter gets no time-signature event of its own; pretty_midi then writes its
    default 4/4 (`midi_to_bytes`), so such a file reads back as "4/4".
    """
    tempo = tempo_bpm or piece.tempo_bpm
    midi = pretty_midi.PrettyMIDI(resolution=OUTPUT_TICKS_PER_QUARTER, initial_tempo=tempo)
    if piece.meter:
        meter = parse_meter(piece.meter)
        midi.time_signature_changes.append(
            pretty_midi.TimeSignature(meter.numerator, meter.denominator, 0.0)
        )
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
