"""Audio → notes with Spotify's Basic Pitch (the bundled ICASSP 2022 ONNX model, onnxruntime).

    model = load_model()                      # once; pages keep it in st.cache_resource
    params = TRANSCRIPTION_PRESETS[TranscriptionPreset.VOICE]
    result = transcribe(path_or_bytes, model=model, params=params)
    result.notes                              # NoteEvent(start_s, end_s, pitch, amplitude)
    result.to_midi()                          # pretty_midi.PrettyMIDI, as basic-pitch writes it
    transcription_to_training_midi(result)    # tempo, grid, one instrument → MIDI bytes

Audio streams through in 2-second windows (basic-pitch's windowing, batched), so a 10-minute
file runs in flat memory. Basic-pitch itself is never imported: `import basic_pitch` imports
TensorFlow (7 s); the note decoding is ported in core/note_creation.py.
"""

from __future__ import annotations

import csv
import importlib.util
import io
import logging
import math
import time
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from enum import Enum
from pathlib import Path
from typing import Any

import numpy as np
import pretty_midi

from core.audio.decoding import AudioStream
from core.config import Config
from core.errors import InvalidAudioError
from core.music.keys import estimate_key, key_name
from core.music.midi import midi_to_bytes, piece_to_midi, quantize
from core.music.piece import DEFAULT_STEPS_PER_QUARTER, Piece
from core.progress import ProgressCallback
from core.settings import setting_count
from core.transcription.note_creation import (
    ANNOT_N_FRAMES,
    ANNOTATIONS_FPS,
    AUDIO_N_SAMPLES,
    AUDIO_SAMPLE_RATE_HZ,
    FFT_HOP_SAMPLES,
    N_PITCHES,
    activations_to_frame_notes,
    min_note_length_frames,
    model_frames_to_time,
)

log = logging.getLogger(__name__)


MODEL_RELATIVE_PATH = Path("saved_models") / "icassp_2022" / "nmp.onnx"
MODEL_INPUT = "serving_default_input_2:0"
MODEL_NOTE_OUTPUT = "StatefulPartitionedCall:1"
MODEL_ONSET_OUTPUT = "StatefulPartitionedCall:2"
# basic-pitch's windowing: 2 s windows that overlap by 30 frames; half the overlap is dropped
# on each side of every window's output.
N_OVERLAPPING_FRAMES = 30
OVERLAP_SAMPLES = N_OVERLAPPING_FRAMES * FFT_HOP_SAMPLES
HOP_SAMPLES = AUDIO_N_SAMPLES - OVERLAP_SAMPLES
TRANSCRIBE_THREADS_ENV = "TUNESMITH_TRANSCRIBE_THREADS"  # default, range: core.settings
DEFAULT_BATCH_WINDOWS = 2  # windows per model call; small, so short clips still fill the workers
# A full window is only sent once this many further samples have arrived, so that the final
# length fix (librosa's, see core/audio_decoding.py) can never change a window already sent.
TAIL_MARGIN_SAMPLES = 1024

DEFAULT_ONSET_THRESHOLD = 0.5
DEFAULT_FRAME_THRESHOLD = 0.3
DEFAULT_MIN_NOTE_LENGTH_MS = 127.70
DEFAULT_MIDI_TEMPO_BPM = 120.0
MIDI_PROGRAM = 4  # Electric Piano 1, as basic-pitch writes it

MIN_TEMPO_BPM = 40.0
MAX_TEMPO_BPM = 240.0
TEMPO_PRIOR_BPM = 120.0  # librosa's prior: log-normal around 120 BPM, one octave wide


# ---------------------------------------------------------------- parameters and presets


@dataclass(frozen=True)
class TranscriptionParams(Config):
    """Basic Pitch's note-decoding settings (its defaults are the defaults)."""

    onset_threshold: float = DEFAULT_ONSET_THRESHOLD
    frame_threshold: float = DEFAULT_FRAME_THRESHOLD
    min_note_length_ms: float = DEFAULT_MIN_NOTE_LENGTH_MS
    min_frequency_hz: float | None = None
    max_frequency_hz: float | None = None
    melodia_trick: bool = True
    midi_tempo_bpm: float = DEFAULT_MIDI_TEMPO_BPM

    def __post_init__(self) -> None:
        for name in ("onset_threshold", "frame_threshold"):
            if not 0.0 < getattr(self, name) < 1.0:
                raise ValueError(f"{name} must lie strictly between 0 and 1")
        if self.min_note_length_ms < 0:
            raise ValueError("min_note_length_ms must not be negative")
        for name in ("min_frequency_hz", "max_frequency_hz"):
            value = getattr(self, name)
            if value is not None and value <= 0:
                raise ValueError(f"{name} must be positive")
        if (
            self.min_frequency_hz is not None
            and self.max_frequency_hz is not None
            and self.min_frequency_hz >= self.max_frequency_hz
        ):
            raise ValueError("min_frequency_hz must be below max_frequency_hz")
        if not 1.0 <= self.midi_tempo_bpm <= 1000.0:
            raise ValueError("midi_tempo_bpm must lie within 1..1000")


class TranscriptionPreset(Enum):
    """What is playing; each picks parameters measured on rendered examples."""

    PIANO = "piano"
    VOICE = "voice"
    GUITAR = "guitar"
    OTHER = "other"


# Chosen by scripts/tune_transcription_presets.py (2026-11-24): 6 Irish tunes from music21's
# corpus (12 s each; for the piano also 2 Bach chorales, all four voices) rendered with
# FluidSynth (FluidR3 GM), transcribed, decoded with a grid (onset 0.4-0.8, frame 0.2-0.5,
# shortest note 58/90/128 ms, melodia on/off, the family's frequency range on/off), scored
# with mir_eval: onset F (50 ms) / onset+pitch F (offsets ignored), the mean of the two
# maximized on 4 tunes, reported on the 2 held-out tunes:
#   family (GM programs)                  basic-pitch defaults    preset
#   piano  (Grand, Bright; -0/-12)        0.926 / 0.894           0.924 / 0.913
#   voice  (Choir Aahs, Voice Oohs)       0.454 / 0.381           0.629 / 0.599
#   guitar (Nylon, Steel)                 0.748 / 0.709           0.965 / 0.965
#   other  (Flute, Violin, Clarinet,      0.686 / 0.677           0.865 / 0.865
#           Trumpet)
# The examples are mostly single melodies: for chords, lower thresholds may find more notes.
# The frequency ranges (voice 70-1200 Hz, guitar 75-1400 Hz) did not help these renders, so
# the presets leave the range open; users can set it under the advanced settings.
TRANSCRIPTION_PRESETS: dict[TranscriptionPreset, TranscriptionParams] = {
    TranscriptionPreset.PIANO: TranscriptionParams(
        onset_threshold=0.7, frame_threshold=0.5, min_note_length_ms=58.0
    ),
    TranscriptionPreset.VOICE: TranscriptionParams(
        onset_threshold=0.8, frame_threshold=0.3, min_note_length_ms=127.7
    ),
    TranscriptionPreset.GUITAR: TranscriptionParams(
        onset_threshold=0.8, frame_threshold=0.5, min_note_length_ms=90.0, melodia_trick=False
    ),
    TranscriptionPreset.OTHER: TranscriptionParams(
        onset_threshold=0.7, frame_threshold=0.5, min_note_length_ms=58.0
    ),
}
DEFAULT_TRANSCRIPTION_PRESET = TranscriptionPreset.OTHER


# ---------------------------------------------------------------- model


# The same file, shipped: where basic-pitch cannot be installed (Streamlit Community Cloud).
SHIPPED_MODEL_PATH = Path(__file__).resolve().parent / "basic_pitch_model" / "nmp.onnx"


def default_model_path() -> Path:
    """basic-pitch's bundled ONNX model, found without importing the package (and TensorFlow);
    the repository's copy of it when the package is not installed."""
    spec = importlib.util.find_spec("basic_pitch")
    if spec is None or not spec.submodule_search_locations:
        if SHIPPED_MODEL_PATH.is_file():
            return SHIPPED_MODEL_PATH
        raise FileNotFoundError("basic-pitch is not installed (see requirements-nodeps.txt)")
    return Path(next(iter(spec.submodule_search_locations))) / MODEL_RELATIVE_PATH


@dataclass(frozen=True)
class BasicPitchModel:
    """A loaded Basic Pitch ONNX session. Load once with `load_model()` and pass it around.

    `workers` batches run at once, each on one thread: the model's convolutions are small, so
    batches side by side use the cores better than one batch split across them (measured here:
    0.044 CPU-s per 2-s window whatever the batch size or graph optimization level).
    """

    session: Any = field(repr=False)
    path: Path
    workers: int

    def predict(self, windows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(n, AUDIO_N_SAMPLES, 1) float32 windows → note and onset activations (n, 172, 88).

        Thread-safe: onnxruntime sessions accept concurrent runs.
        """
        note, onset = self.session.run(
            [MODEL_NOTE_OUTPUT, MODEL_ONSET_OUTPUT], {MODEL_INPUT: windows}
        )
        return note, onset


def default_workers() -> int:
    """Batches run at once: `TUNESMITH_TRANSCRIBE_THREADS`, else the number of CPUs."""
    return setting_count(TRANSCRIBE_THREADS_ENV)


def load_model(path: Path | None = None, *, workers: int | None = None) -> BasicPitchModel:
    """Open the ONNX model in onnxruntime (about 0.1 s), tuned for this machine's CPU."""
    import onnxruntime as ort

    path = path or default_model_path()
    workers = workers or default_workers()
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1  # parallel across batches instead (see BasicPitchModel)
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    # Quiet passages make tiny activations; denormal arithmetic is far slower on x86.
    options.add_session_config_entry("session.set_denormal_as_zero", "1")
    options.log_severity_level = 3
    session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    log.info("loaded %s for %d parallel batches", path, workers)
    return BasicPitchModel(session=session, path=Path(path), workers=workers)


# ---------------------------------------------------------------- results


@dataclass(frozen=True, order=True)
class NoteEvent:
    """One transcribed note: seconds, MIDI pitch and the model's mean activation (0..1)."""

    start_s: float
    end_s: float
    pitch: int
    amplitude: float

    @property
    def velocity(self) -> int:
        return int(np.round(127 * self.amplitude))

    @property
    def duration_s(self) -> float:
        return self.end_s - self.start_s


CSV_HEADER = ("start_s", "end_s", "pitch_midi", "amplitude")


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
        return estimate_tempo_bpm(self.onset_envelope, notes=self.notes)


def note_events_to_midi(
    notes: tuple[NoteEvent, ...] | list[NoteEvent], *, tempo_bpm: float = DEFAULT_MIDI_TEMPO_BPM
) -> pretty_midi.PrettyMIDI:
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


def note_events_to_csv(notes: tuple[NoteEvent, ...] | list[NoteEvent]) -> str:
    """`start_s,end_s,pitch_midi,amplitude`, one row per note: the golden fixture's format."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_HEADER)
    for note in notes:
        writer.writerow([repr(note.start_s), repr(note.end_s), note.pitch, repr(note.amplitude)])
    return buffer.getvalue()


def csv_to_note_events(text: str) -> list[NoteEvent]:
    rows = csv.DictReader(io.StringIO(text))
    return [
        NoteEvent(
            float(r["start_s"]), float(r["end_s"]), int(r["pitch_midi"]), float(r["amplitude"])
        )
        for r in rows
    ]


# ---------------------------------------------------------------- transcription


@dataclass(frozen=True)
class Activations:
    """The model's note and onset activations for a whole file, (n_frames, 88) each."""

    note: np.ndarray
    onset: np.ndarray
    duration_s: float


def _windows(stream: AudioStream) -> Iterator[np.ndarray]:
    """basic-pitch's `window_audio_file` on a stream: half the overlap of zeros in front, then
    AUDIO_N_SAMPLES-long windows every HOP_SAMPLES, the last ones padded with zeros."""
    buffer = np.zeros(OVERLAP_SAMPLES // 2, np.float32)
    start = 0  # position of buffer[0] in the padded signal; always a window start
    for block in stream.blocks():
        buffer = np.concatenate([buffer, block])
        while len(buffer) >= AUDIO_N_SAMPLES + TAIL_MARGIN_SAMPLES:
            yield buffer[:AUDIO_N_SAMPLES]
            buffer = buffer[HOP_SAMPLES:]
            start += HOP_SAMPLES
    # Only now is the signal's true length known (librosa's fix: ceil(n * ratio) samples).
    padded_length = OVERLAP_SAMPLES // 2 + stream.expected_length()
    buffer = buffer[: max(0, padded_length - start)]
    while start < padded_length:
        window = buffer[:AUDIO_N_SAMPLES]
        if len(window) < AUDIO_N_SAMPLES:
            window = np.pad(window, (0, AUDIO_N_SAMPLES - len(window)))
        yield window
        buffer = buffer[HOP_SAMPLES:]
        start += HOP_SAMPLES


def n_windows_for(n_samples: int) -> int:
    """How many model windows a signal of `n_samples` (at the model's rate) takes."""
    return math.ceil((OVERLAP_SAMPLES // 2 + n_samples) / HOP_SAMPLES)


def audio_to_activations(
    audio: bytes | str | Path,
    *,
    model: BasicPitchModel,
    name: str | None = None,
    on_progress: ProgressCallback[str] | None = None,
    max_duration_s: float | None = None,
    batch_windows: int = DEFAULT_BATCH_WINDOWS,
) -> Activations:
    """Decode, window and run the model, batch by batch; only the activations are kept.

    `on_progress(done, total, info)` is called after every batch with windows done and the
    estimated total; it may raise `JobCancelled` to stop.

    Raises:
        InvalidAudioError: see core.audio.decoding.AudioStream.
    """
    with AudioStream(
        audio, sample_rate_hz=AUDIO_SAMPLE_RATE_HZ, name=name, max_duration_s=max_duration_s
    ) as stream:
        info = stream.info
        estimated = n_windows_for(
            math.ceil(info.frames * AUDIO_SAMPLE_RATE_HZ / max(info.sample_rate_hz, 1))
        )
        n_trim = N_OVERLAPPING_FRAMES // 2
        # Preallocated from the header's length, so a long file is never held twice.
        note_all = _GrowingFrames(estimated * (ANNOT_N_FRAMES - 2 * n_trim))
        onset_all = _GrowingFrames(estimated * (ANNOT_N_FRAMES - 2 * n_trim))
        done = 0
        batch: list[np.ndarray] = []
        workers = max(1, getattr(model, "workers", 1))
        pending: deque[Future[tuple[np.ndarray, np.ndarray]]] = deque()

        def collect_one() -> None:
            nonlocal done
            note, onset = pending.popleft().result()
            note_all.append(np.asarray(note)[:, n_trim:-n_trim, :].reshape(-1, N_PITCHES))
            onset_all.append(np.asarray(onset)[:, n_trim:-n_trim, :].reshape(-1, N_PITCHES))
            done += len(note)
            if on_progress:
                on_progress(done, max(estimated, done), f"{stream.name}: {done} windows")

        # Decoding goes on in this thread while `workers` batches run; results keep their order.
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="basic-pitch") as pool:
            try:
                for window in _windows(stream):
                    batch.append(window)
                    if len(batch) >= batch_windows:
                        pending.append(pool.submit(model.predict, np.stack(batch)[:, :, None]))
                        batch = []
                        while len(pending) > workers:
                            collect_one()
                if batch:
                    pending.append(pool.submit(model.predict, np.stack(batch)[:, :, None]))
                while pending:
                    collect_one()
            finally:
                for future in pending:
                    future.cancel()
        length = stream.expected_length()
    n_frames = int(np.floor(length * (ANNOTATIONS_FPS / AUDIO_SAMPLE_RATE_HZ)))
    return Activations(
        note=note_all.frames(n_frames),
        onset=onset_all.frames(n_frames),
        duration_s=length / AUDIO_SAMPLE_RATE_HZ,
    )


class _GrowingFrames:
    """(n, 88) float32 rows appended in place; grows (rarely) past the estimated capacity."""

    def __init__(self, capacity: int) -> None:
        self._data = np.zeros((max(capacity, 1), N_PITCHES), np.float32)
        self._filled = 0

    def append(self, rows: np.ndarray) -> None:
        end = self._filled + len(rows)
        if end > len(self._data):
            grown = np.zeros((max(end, int(len(self._data) * 1.25)), N_PITCHES), np.float32)
            grown[: self._filled] = self._data[: self._filled]
            self._data = grown
        self._data[self._filled : end] = rows
        self._filled = end

    def frames(self, n_frames: int) -> np.ndarray:
        return self._data[: min(n_frames, self._filled)]


def activations_to_notes(activations: Activations, params: TranscriptionParams) -> list[NoteEvent]:
    """Decode activations into note events (basic-pitch's `model_output_to_notes`)."""
    frame_notes = activations_to_frame_notes(
        activations.note,
        activations.onset,
        onset_threshold=params.onset_threshold,
        frame_threshold=params.frame_threshold,
        min_note_length_frames=min_note_length_frames(params.min_note_length_ms),
        min_frequency_hz=params.min_frequency_hz,
        max_frequency_hz=params.max_frequency_hz,
        melodia_trick=params.melodia_trick,
    )
    times_s = model_frames_to_time(activations.note.shape[0])
    return [
        NoteEvent(float(times_s[start]), float(times_s[end]), int(pitch), float(amplitude))
        for start, end, pitch, amplitude in frame_notes
    ]


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


def estimate_tempo_bpm(
    onset_envelope: np.ndarray, *, notes: tuple[NoteEvent, ...] | list[NoteEvent] = ()
) -> float:
    """The beat in BPM from an onset envelope (frames at the model's rate), or from note onsets.

    Autocorrelation of the envelope, weighted by librosa's prior (log-normal around 120 BPM,
    one octave wide), with a parabolic refinement. Written here because librosa's tempo
    estimator compiles numba code on first use: about 20 s here, on every app start.
    """
    frame_rate = AUDIO_SAMPLE_RATE_HZ / FFT_HOP_SAMPLES
    envelope = np.asarray(onset_envelope, np.float64)
    if envelope.size < 4 or not np.any(envelope > 0):
        if not notes:
            return DEFAULT_MIDI_TEMPO_BPM
        length = int(max(n.end_s for n in notes) * frame_rate) + 2
        envelope = np.zeros(length)
        for note in notes:
            envelope[round(note.start_s * frame_rate)] += max(note.amplitude, 0.1)
    envelope = envelope - envelope.mean()
    n = len(envelope)
    spectrum = np.fft.rfft(envelope, 2 * n)
    autocorrelation = np.fft.irfft(np.abs(spectrum) ** 2)[:n]
    min_lag = max(1, int(np.floor(60.0 * frame_rate / MAX_TEMPO_BPM)))
    max_lag = min(n - 2, int(np.ceil(60.0 * frame_rate / MIN_TEMPO_BPM)))
    if max_lag <= min_lag or autocorrelation[0] <= 0:
        return DEFAULT_MIDI_TEMPO_BPM
    lags = np.arange(min_lag, max_lag + 1)
    bpms = 60.0 * frame_rate / lags
    prior = np.exp(-0.5 * np.log2(bpms / TEMPO_PRIOR_BPM) ** 2)
    score = autocorrelation[lags] * prior
    best = int(np.argmax(score))
    lag = float(lags[best])
    if 0 < best < len(lags) - 1:
        left, mid, right = score[best - 1], score[best], score[best + 1]
        denominator = left - 2 * mid + right
        if denominator < 0:
            lag += 0.5 * (left - right) / denominator
    return round(float(np.clip(60.0 * frame_rate / lag, MIN_TEMPO_BPM, MAX_TEMPO_BPM)), 2)


def transcription_to_piece(
    transcription: Transcription,
    *,
    tempo_bpm: float | None = None,
    steps_per_quarter: int = DEFAULT_STEPS_PER_QUARTER,
) -> Piece:
    """Notes on the encoding grid: the tempo estimated (or the user's), the first note at 0.

    Raises:
        InvalidAudioError: no notes were found.
    """
    if not transcription.notes:
        raise InvalidAudioError(f"{transcription.name}: no notes found (silence?)")
    tempo = tempo_bpm or transcription.estimated_tempo_bpm()
    origin = min(n.start_s for n in transcription.notes)
    quarters_per_s = tempo / 60.0
    events = [
        ((n.start_s - origin) * quarters_per_s, n.duration_s * quarters_per_s, n.pitch)
        for n in transcription.notes
    ]
    notes = quantize(events, steps_per_quarter=steps_per_quarter)
    tonic, mode = estimate_key(notes)
    return Piece(
        transcription.stem, notes, steps_per_quarter, round(float(tempo), 3), key_name(tonic, mode)
    )


def transcription_to_training_midi(
    transcription: Transcription,
    *,
    tempo_bpm: float | None = None,
    steps_per_quarter: int = DEFAULT_STEPS_PER_QUARTER,
) -> bytes:
    """Clean MIDI for "my dataset": one instrument, on the grid, readable by `read_music`."""
    piece = transcription_to_piece(
        transcription, tempo_bpm=tempo_bpm, steps_per_quarter=steps_per_quarter
    )
    return midi_to_bytes(piece_to_midi(piece))


def preset_params(preset: TranscriptionPreset | str) -> TranscriptionParams:
    return TRANSCRIPTION_PRESETS[TranscriptionPreset(preset) if isinstance(preset, str) else preset]


def with_overrides(params: TranscriptionParams, **overrides: Any) -> TranscriptionParams:
    """`params` with the given fields replaced; None values are ignored."""
    return replace(params, **{k: v for k, v in overrides.items() if v is not None})
