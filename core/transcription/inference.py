"""Streaming inference: audio → 2-second windows → the model's activations → note events.

Audio streams through in basic-pitch's windows, batched, so a 10-minute file runs in flat
memory; only the activations are kept. The note decoding itself is core/transcription/
note_creation.py (a port of basic-pitch's).
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Generator, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from core.audio.decoding import AudioStream
from core.progress import ProgressCallback
from core.transcription.cleanup import drop_octave_ghosts, recover_top_line
from core.transcription.events import NoteEvent
from core.transcription.model import BasicPitchModel
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
from core.transcription.params import TranscriptionParams

# basic-pitch's windowing: 2 s windows that overlap by 30 frames; half the overlap is dropped
# on each side of every window's output.
N_OVERLAPPING_FRAMES = 30
OVERLAP_SAMPLES = N_OVERLAPPING_FRAMES * FFT_HOP_SAMPLES
HOP_SAMPLES = AUDIO_N_SAMPLES - OVERLAP_SAMPLES
N_TRIM_FRAMES = N_OVERLAPPING_FRAMES // 2
FRAMES_PER_WINDOW = ANNOT_N_FRAMES - 2 * N_TRIM_FRAMES  # kept of each window's output
DEFAULT_BATCH_WINDOWS = 2  # windows per model call; small, so short clips still fill the workers
# A full window is only sent once this many further samples have arrived, so that the final
# length fix (librosa's, see core/audio/decoding.py) can never change a window already sent.
TAIL_MARGIN_SAMPLES = 1024
GROWTH_FACTOR = 1.25  # how much a full frame buffer grows (rarely: past the header's length)


@dataclass(frozen=True)
class Activations:
    """The model's note and onset activations for a whole file, (n_frames, 88) each."""

    note: np.ndarray
    onset: np.ndarray
    duration_s: float


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
        # Preallocated from the header's length, so a long file is never held twice.
        note_frames = _GrowingFrames(estimated * FRAMES_PER_WINDOW)
        onset_frames = _GrowingFrames(estimated * FRAMES_PER_WINDOW)
        done = 0
        batches = _batches(_windows(stream), size=batch_windows)
        with closing(_predict_in_order(batches, model=model)) as outputs:
            for note, onset in outputs:
                note_frames.append(_kept_frames(note))
                onset_frames.append(_kept_frames(onset))
                done += len(note)
                if on_progress:
                    on_progress(done, max(estimated, done), f"{stream.name}: {done} windows")
        length = stream.expected_length()
    n_frames = int(np.floor(length * (ANNOTATIONS_FPS / AUDIO_SAMPLE_RATE_HZ)))
    return Activations(
        note=note_frames.frames(n_frames),
        onset=onset_frames.frames(n_frames),
        duration_s=length / AUDIO_SAMPLE_RATE_HZ,
    )


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


def _batches(windows: Iterable[np.ndarray], *, size: int) -> Iterator[np.ndarray]:
    """Windows stacked `size` at a time into the model's input, (n, AUDIO_N_SAMPLES, 1)."""
    batch: list[np.ndarray] = []
    for window in windows:
        batch.append(window)
        if len(batch) >= size:
            yield np.stack(batch)[:, :, None]
            batch = []
    if batch:
        yield np.stack(batch)[:, :, None]


def _predict_in_order(
    batches: Iterable[np.ndarray], *, model: BasicPitchModel
) -> Generator[tuple[np.ndarray, np.ndarray], None, None]:
    """The model's (note, onset) output for each batch, in order.

    `model.workers` batches run at once while decoding goes on in the caller's thread; closing
    the generator (a cancelled job) cancels the batches not yet started.
    """
    workers = max(1, getattr(model, "workers", 1))
    pending: deque[Future[tuple[np.ndarray, np.ndarray]]] = deque()
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="basic-pitch") as pool:
        try:
            for batch in batches:
                pending.append(pool.submit(model.predict, batch))
                while len(pending) > workers:
                    yield pending.popleft().result()
            while pending:
                yield pending.popleft().result()
        finally:
            for future in pending:
                future.cancel()


def _kept_frames(output: np.ndarray) -> np.ndarray:
    """One batch's (n, ANNOT_N_FRAMES, 88) output → (n * FRAMES_PER_WINDOW, 88), the halves of
    the overlap dropped on both sides of every window."""
    return np.asarray(output)[:, N_TRIM_FRAMES:-N_TRIM_FRAMES, :].reshape(-1, N_PITCHES)


class _GrowingFrames:
    """(n, 88) float32 rows appended in place; grows (rarely) past the estimated capacity."""

    def __init__(self, capacity: int) -> None:
        self._data = np.zeros((max(capacity, 1), N_PITCHES), np.float32)
        self._filled = 0

    def append(self, rows: np.ndarray) -> None:
        end = self._filled + len(rows)
        if end > len(self._data):
            capacity = max(end, int(len(self._data) * GROWTH_FACTOR))
            grown = np.zeros((capacity, N_PITCHES), np.float32)
            grown[: self._filled] = self._data[: self._filled]
            self._data = grown
        self._data[self._filled : end] = rows
        self._filled = end

    def frames(self, n_frames: int) -> np.ndarray:
        return self._data[: min(n_frames, self._filled)]


def activations_to_notes(activations: Activations, params: TranscriptionParams) -> list[NoteEvent]:
    """Decode activations into note events (basic-pitch's `model_output_to_notes`); with
    `params.top_line`, the polyphonic clean-up of core/transcription/cleanup.py after it."""
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
    if params.top_line:
        frame_notes = recover_top_line(
            activations.note,
            activations.onset,
            frame_notes,
            min_note_length_frames=min_note_length_frames(params.min_note_length_ms),
            min_frequency_hz=params.min_frequency_hz,
            max_frequency_hz=params.max_frequency_hz,
        )
        frame_notes = drop_octave_ghosts(
            frame_notes, activations.onset, onset_threshold=params.onset_threshold
        )
    times_s = model_frames_to_time(activations.note.shape[0])
    return [
        NoteEvent(float(times_s[start]), float(times_s[end]), int(pitch), float(amplitude))
        for start, end, pitch, amplitude in frame_notes
    ]
