"""Audio → notes with Spotify's Basic Pitch, and the notes → MIDI for training.

    model = load_model()                      # once; pages keep it in st.cache_resource
    params = TRANSCRIPTION_PRESETS[TranscriptionPreset.VOICE]
    result = transcribe(path_or_bytes, model=model, params=params)
    result.notes                              # NoteEvent(start_s, end_s, pitch, amplitude)
    result.to_midi()                          # pretty_midi.PrettyMIDI, as basic-pitch writes it
    transcription_to_training_midi(result)    # tempo, grid, one instrument → MIDI bytes
    transcription_to_dataset_midi(result)     # tempo, one instrument, exact times → MIDI bytes

The stages have their own modules: model.py (the ONNX model), inference.py (windows →
activations → notes), params.py (settings and presets), events.py (NoteEvent, CSV, MIDI),
tempo.py (the beat).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pretty_midi

from core.errors import InvalidAudioError
from core.music.keys import estimate_key, key_name
from core.music.meter import Meter
from core.music.midi import (
    OUTPUT_TICKS_PER_QUARTER,
    OUTPUT_VELOCITY,
    midi_to_bytes,
    piece_to_midi,
    quantize,
)
from core.music.piece import DEFAULT_STEPS_PER_QUARTER, Piece
from core.progress import ProgressCallback
from core.transcription.cleanup import is_single_line, melody_notes, single_line_notes
from core.transcription.events import NoteEvent, note_events_to_csv, note_events_to_midi
from core.transcription.inference import (
    DEFAULT_BATCH_WINDOWS,
    activations_to_notes,
    audio_to_activations,
)
from core.transcription.model import BasicPitchModel, load_model
from core.transcription.params import TranscriptionParams
from core.transcription.tempo import BeatGrid, estimate_beat_grid

log = logging.getLogger(__name__)

SECONDS_PER_MINUTE = 60.0
TEMPO_DECIMALS = 3  # a piece's tempo, as music files store it
MAX_INSTRUMENT_NAME_CHARS = 60
MIN_NOTE_END_S = 0.001  # a note clipped at time 0 keeps some length
# A single line's note that stops less than a sixteenth before the next onset is legato.
LEGATO_GAP_QUARTERS = 0.25


@dataclass(frozen=True)
class Transcription:
    """Notes (in basic-pitch's order) found in one audio file, and how they were found."""

    name: str
    notes: tuple[NoteEvent, ...]
    duration_s: float
    params: TranscriptionParams
    elapsed_s: float = 0.0
    # Sum of the onset activations per frame (ANNOTATIONS_FPS): the tempo estimate's input.
    onset_envelope: np.ndarray = field(
        default_factory=lambda: np.zeros(0, np.float32), repr=False, compare=False
    )

    @property
    def stem(self) -> str:
        return Path(self.name).stem

    @property
    def pitch_range(self) -> tuple[int, int]:
        pitches = [n.pitch for n in self.notes]
        return (min(pitches), max(pitches)) if pitches else (0, 0)

    def to_midi(self) -> pretty_midi.PrettyMIDI:
        """The raw notes as basic-pitch writes them: one Electric Piano, `midi_tempo_bpm`."""
        return note_events_to_midi(self.notes, tempo_bpm=self.params.midi_tempo_bpm)

    def to_midi_bytes(self) -> bytes:
        return midi_to_bytes(self.to_midi())

    def to_csv(self) -> str:
        return note_events_to_csv(self.notes)

    def estimated_tempo_bpm(self) -> float:
        """The estimated tempo in quarter notes per minute (`beat_grid().tempo_bpm`)."""
        return self.beat_grid().tempo_bpm

    def beat_grid(self, *, tempo_bpm: float | None = None) -> BeatGrid:
        """Where the beats lie: tempo, phase and meter, estimated from the audio and the notes
        (core/transcription/tempo.py). With `tempo_bpm` (the user's) only the phase is fitted."""
        return estimate_beat_grid(self.onset_envelope, notes=self.notes, tempo_bpm=tempo_bpm)


def transcribe(
    audio: bytes | str | Path,
    *,
    name: str | None = None,
    model: BasicPitchModel | None = None,
    params: TranscriptionParams | None = None,
    on_progress: ProgressCallback[str] | None = None,
    max_duration_s: float | None = None,
    batch_windows: int = DEFAULT_BATCH_WINDOWS,
) -> Transcription:
    """Transcribe one audio file (bytes or a path) into note events.

    Args:
        audio: the file's bytes (name it with `name`) or its path.
        model: from `load_model()`; loaded here when missing (slow: pass it in).
        params: note-decoding settings; basic-pitch's defaults when missing.
        on_progress: `on_progress(done, total, info)` while the model runs; may raise
            `JobCancelled`.
        max_duration_s: longest accepted audio; default `max_audio_duration_s()`.

    Returns:
        The notes; silence gives a transcription with no notes (check `notes`).

    Raises:
        InvalidAudioError: the file is empty, not audio, truncated, corrupt or too long. The
            message starts with the file's name.
    """
    began = time.perf_counter()
    params = params or TranscriptionParams()
    model = model or load_model()
    activations = audio_to_activations(
        audio,
        model=model,
        name=name,
        on_progress=on_progress,
        max_duration_s=max_duration_s,
        batch_windows=batch_windows,
    )
    notes = activations_to_notes(activations, params)
    display_name = name or (Path(audio).name if not isinstance(audio, bytes) else "audio")
    elapsed = time.perf_counter() - began
    log.info(
        "%s: %d notes in %.1f s of audio (%.2f s)",
        display_name,
        len(notes),
        activations.duration_s,
        elapsed,
    )
    return Transcription(
        name=display_name,
        notes=tuple(notes),
        duration_s=activations.duration_s,
        params=params,
        elapsed_s=elapsed,
        onset_envelope=activations.onset.sum(axis=1).astype(np.float32),
    )


def audio_to_midi(
    audio: bytes | str | Path,
    *,
    name: str | None = None,
    model: BasicPitchModel | None = None,
    params: TranscriptionParams | None = None,
) -> pretty_midi.PrettyMIDI:
    """`transcribe(...).to_midi()`: the raw notes as basic-pitch's MIDI file."""
    return transcribe(audio, name=name, model=model, params=params).to_midi()


# ---------------------------------------------------------------- clean-up for training data


def transcription_to_melody(transcription: Transcription) -> Transcription:
    """The same transcription with its top line only, one note at a time (`melody_notes`):
    for a single-line dataset made from piano recordings."""
    return replace(transcription, notes=melody_notes(transcription.notes))


def transcription_to_piece(
    transcription: Transcription,
    *,
    tempo_bpm: float | None = None,
    steps_per_quarter: int = DEFAULT_STEPS_PER_QUARTER,
) -> Piece:
    """Notes on the encoding grid: the estimated beat grid (step 0 on its first beat), or the
    user's tempo from the first note.

    Raises:
        InvalidAudioError: no notes were found.
    """
    tempo, origin, meter = _clean_up_grid(transcription, tempo_bpm)
    quarters_per_s = tempo / SECONDS_PER_MINUTE
    events = [
        ((n.start_s - origin) * quarters_per_s, n.duration_s * quarters_per_s, n.pitch)
        for n in transcription.notes
    ]
    notes = quantize(events, steps_per_quarter=steps_per_quarter)
    tonic, mode = estimate_key(notes)
    return Piece(
        transcription.stem,
        notes,
        steps_per_quarter,
        round(float(tempo), TEMPO_DECIMALS),
        key_name(tonic, mode),
        meter=meter,
    )


def transcription_to_training_midi(
    transcription: Transcription,
    *,
    tempo_bpm: float | None = None,
    steps_per_quarter: int = DEFAULT_STEPS_PER_QUARTER,
) -> bytes:
    """Clean MIDI for training: one instrument, on the grid, readable by `read_music`."""
    piece = transcription_to_piece(
        transcription, tempo_bpm=tempo_bpm, steps_per_quarter=steps_per_quarter
    )
    return midi_to_bytes(piece_to_midi(piece))


def transcription_to_dataset_midi(
    transcription: Transcription, *, tempo_bpm: float | None = None
) -> bytes:
    """MIDI for "my dataset": one instrument at the tempo, every note at its exact time (not on
    a grid), so the dataset snaps it once, to the grid it is read at
    (docs/decisions/0002-audio-quantized-once.md). Time 0 is the estimated beat grid's first
    beat (at or before the first note), so the grid's steps fall on the music's; with the
    user's `tempo_bpm`, the first note. A transcription that is essentially one line
    (`is_single_line`) is stored as one line (`single_line_notes`): ghosts dropped, each
    note held to the next onset where it ran over it or stopped just short of it.

    Raises:
        InvalidAudioError: no notes were found.
    """
    tempo, origin, meter = _clean_up_grid(transcription, tempo_bpm)
    tempo = round(float(tempo), TEMPO_DECIMALS)
    midi = pretty_midi.PrettyMIDI(resolution=OUTPUT_TICKS_PER_QUARTER, initial_tempo=tempo)
    if meter:  # the meter the beat grid found, so the dataset reads it (issue 27)
        found = Meter.parse(meter)
        midi.time_signature_changes.append(
            pretty_midi.TimeSignature(found.numerator, found.denominator, 0.0)
        )
    instrument = pretty_midi.Instrument(
        program=0, name=transcription.stem[:MAX_INSTRUMENT_NAME_CHARS]
    )
    notes: Sequence[NoteEvent] = transcription.notes
    if is_single_line(notes):
        notes = single_line_notes(
            notes, legato_gap_s=LEGATO_GAP_QUARTERS * SECONDS_PER_MINUTE / tempo
        )
    for note in sorted(notes):
        instrument.notes.append(
            pretty_midi.Note(
                velocity=OUTPUT_VELOCITY,
                pitch=note.pitch,
                # A first note a little before the first beat still starts at 0.
                start=max(0.0, note.start_s - origin),
                end=max(note.end_s - origin, MIN_NOTE_END_S),
            )
        )
    midi.instruments.append(instrument)
    return midi_to_bytes(midi)


def _clean_up_grid(
    transcription: Transcription, tempo_bpm: float | None
) -> tuple[float, float, str]:
    """(tempo, time of grid step 0, meter): the user's tempo from the first note (no meter
    known), else the estimated beat grid and the meter it found; refuses a transcription
    without notes."""
    if not transcription.notes:
        raise InvalidAudioError(f"{transcription.name}: no notes found (silence?)")
    if tempo_bpm:
        return tempo_bpm, min(n.start_s for n in transcription.notes), ""
    grid = transcription.beat_grid()
    return grid.tempo_bpm, grid.origin_s, grid.meter
