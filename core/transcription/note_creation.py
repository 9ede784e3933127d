"""Basic Pitch's activations (note and onset posteriorgrams) → note events in frames and seconds.

A faithful port of `basic_pitch.note_creation` (Spotify AB, Apache License 2.0, basic-pitch
0.4.0), without pitch bends. It lives here because `import basic_pitch...` runs the package's
`__init__`, which imports TensorFlow when it is installed: seconds before the first
transcription (docs/transcription.md). Two changes, neither of which changes a note:
- the melodia step finds the strongest remaining frame from per-frame maxima that it updates
  for the frames it clears, instead of scanning the whole matrix once per note (a 10-minute
  file has thousands of notes);
- when frames never rise (silence), the inferred onsets are zero instead of NaN.
The golden test (tests/core/transcription/test_note_creation.py) checks the result against
basic-pitch's.
"""

from __future__ import annotations

import math

import numpy as np

# From basic_pitch.constants; units in the names.
AUDIO_SAMPLE_RATE_HZ = 22050
FFT_HOP_SAMPLES = 256
ANNOTATIONS_FPS = AUDIO_SAMPLE_RATE_HZ // FFT_HOP_SAMPLES  # 86, an integer, as basic-pitch has it
AUDIO_WINDOW_LENGTH_S = 2
ANNOT_N_FRAMES = ANNOTATIONS_FPS * AUDIO_WINDOW_LENGTH_S  # frames per model window (172)
AUDIO_N_SAMPLES = AUDIO_SAMPLE_RATE_HZ * AUDIO_WINDOW_LENGTH_S - FFT_HOP_SAMPLES  # 43844
N_PITCHES = 88
MIDI_OFFSET = 21  # the model's lowest pitch, A0
MAX_FREQ_IDX = N_PITCHES - 1
ENERGY_TOLERANCE_FRAMES = 11  # frames below the frame threshold that end a note
INFERRED_ONSET_DIFFS = 2
INFERRED_ONSET_BLOCK_FRAMES = 4096  # rows per block when inferring onsets (memory only)
# basic-pitch's window offset: its frames drift against the windows' hop, and it corrects the
# drift with this constant ("a magic number, but it's needed for this to align properly").
WINDOW_OFFSET_S = (FFT_HOP_SAMPLES / AUDIO_SAMPLE_RATE_HZ) * (
    ANNOT_N_FRAMES - AUDIO_N_SAMPLES / FFT_HOP_SAMPLES
) + 0.0018

# (start frame, end frame, MIDI pitch, amplitude 0..1)
FrameNote = tuple[int, int, int, float]


def min_note_length_frames(min_note_length_ms: float) -> int:
    return int(np.round(min_note_length_ms / 1000 * (AUDIO_SAMPLE_RATE_HZ / FFT_HOP_SAMPLES)))


def hz_to_midi(frequency_hz: float) -> float:
    return 12.0 * (math.log2(frequency_hz) - math.log2(440.0)) + 69.0


def model_frames_to_time(n_frames: int) -> np.ndarray:
    """Seconds of each output frame, with basic-pitch's per-window drift correction."""
    frames = np.arange(n_frames)
    original_times = frames * FFT_HOP_SAMPLES / AUDIO_SAMPLE_RATE_HZ
    window_numbers = np.floor(frames / ANNOT_N_FRAMES)
    return original_times - WINDOW_OFFSET_S * window_numbers


def constrain_frequency(
    onsets: np.ndarray,
    frames: np.ndarray,
    *,
    max_frequency_hz: float | None,
    min_frequency_hz: float | None,
) -> None:
    """Zero activations outside the frequency range, in place."""
    if max_frequency_hz is not None:
        max_idx = max(0, int(np.round(hz_to_midi(max_frequency_hz) - MIDI_OFFSET)))
        onsets[:, max_idx:] = 0
        frames[:, max_idx:] = 0
    if min_frequency_hz is not None:
        min_idx = max(0, int(np.round(hz_to_midi(min_frequency_hz) - MIDI_OFFSET)))
        onsets[:, :min_idx] = 0
        frames[:, :min_idx] = 0


def inferred_onsets(onsets: np.ndarray, frames: np.ndarray) -> np.ndarray:
    """The predicted onsets, or large rises of the frame activations where those are larger.

    Computed block by block in float64 like basic-pitch's, without its stacked temporaries
    (a 10-minute file would need several hundred MB for them).
    """
    n_frames, n_bins = frames.shape
    frame_diff = np.empty(frames.shape, np.float64)
    for first in range(0, n_frames, INFERRED_ONSET_BLOCK_FRAMES):
        last = min(n_frames, first + INFERRED_ONSET_BLOCK_FRAMES)
        start = max(0, first - INFERRED_ONSET_DIFFS)
        # padded[k] is frame (first - INFERRED_ONSET_DIFFS + k); frames before 0 are zeros.
        padded = np.concatenate(
            [
                np.zeros((INFERRED_ONSET_DIFFS - (first - start), n_bins)),
                frames[start:last].astype(np.float64),
            ]
        )
        current = padded[INFERRED_ONSET_DIFFS:]
        block = current - padded[INFERRED_ONSET_DIFFS - 1 : INFERRED_ONSET_DIFFS - 1 + len(current)]
        for n in range(2, INFERRED_ONSET_DIFFS + 1):
            lagged = padded[INFERRED_ONSET_DIFFS - n : INFERRED_ONSET_DIFFS - n + len(current)]
            np.minimum(block, current - lagged, out=block)
        frame_diff[first:last] = block
    frame_diff[frame_diff < 0] = 0
    frame_diff[:INFERRED_ONSET_DIFFS, :] = 0
    peak = np.max(frame_diff) if frame_diff.size else 0.0
    if peak > 0:
        frame_diff *= np.max(onsets)  # same maximum as the onsets
        frame_diff /= peak
    np.maximum(frame_diff, onsets, out=frame_diff)
    return frame_diff


def _local_maxima(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Indices of strict local maxima along time (scipy.signal.argrelmax(values, axis=0))."""
    peaks = np.zeros(values.shape, dtype=bool)
    peaks[1:-1] = (values[1:-1] > values[:-2]) & (values[1:-1] > values[2:])
    times, pitches = np.nonzero(peaks)
    return times, pitches


def activations_to_frame_notes(
    frames: np.ndarray,
    onsets: np.ndarray,
    *,
    onset_threshold: float,
    frame_threshold: float,
    min_note_length_frames: int,
    min_frequency_hz: float | None = None,
    max_frequency_hz: float | None = None,
    melodia_trick: bool = True,
    infer_onsets: bool = True,
) -> list[FrameNote]:
    """basic-pitch's `output_to_notes_polyphonic`: note and onset activations → notes in frames.

    Args:
        frames: note activations, (n_frames, 88), values 0..1.
        onsets: onset activations, same shape.
    """
    frames = np.array(frames, copy=True)
    onsets = np.array(onsets, copy=True)
    n_frames = frames.shape[0]
    constrain_frequency(
        onsets, frames, max_frequency_hz=max_frequency_hz, min_frequency_hz=min_frequency_hz
    )
    if infer_onsets:
        onsets = inferred_onsets(onsets, frames)

    peak_times, peak_freqs = _local_maxima(onsets)
    keep = onsets[peak_times, peak_freqs] >= onset_threshold
    onset_time_idx = peak_times[keep][::-1]  # backwards in time
    onset_freq_idx = peak_freqs[keep][::-1]

    remaining = frames.astype(np.float64)
    notes: list[FrameNote] = []
    for start, freq in zip(onset_time_idx.tolist(), onset_freq_idx.tolist(), strict=True):
        if start >= n_frames - 1:
            continue
        # Walk forward until the energy stays below the threshold for ENERGY_TOLERANCE frames.
        i = start + 1
        k = 0
        while i < n_frames - 1 and k < ENERGY_TOLERANCE_FRAMES:
            k = k + 1 if remaining[i, freq] < frame_threshold else 0
            i += 1
        i -= k
        if i - start <= min_note_length_frames:
            continue
        remaining[start:i, max(freq - 1, 0) : min(freq + 2, N_PITCHES)] = 0
        notes.append((start, i, freq + MIDI_OFFSET, float(np.mean(frames[start:i, freq]))))

    if melodia_trick:
        notes.extend(
            _melodia_notes(
                remaining,
                frames,
                frame_threshold=frame_threshold,
                min_note_length_frames=min_note_length_frames,
            )
        )
    return notes


def _clear(remaining: np.ndarray, i: int, freq: int) -> None:
    remaining[i, max(freq - 1, 0) : min(freq + 2, N_PITCHES)] = 0


def _melodia_notes(
    remaining: np.ndarray,
    frames: np.ndarray,
    *,
    frame_threshold: float,
    min_note_length_frames: int,
) -> list[FrameNote]:
    """Notes grown from the strongest leftover frames, forwards and backwards (in place)."""
    n_frames = remaining.shape[0]
    notes: list[FrameNote] = []
    if n_frames == 0:
        return notes
    row_max = remaining.max(axis=1)
    while True:
        # np.argmax over the flattened matrix: the first row holding the maximum, then the
        # first column in it; the per-row maxima give the same answer without a full scan.
        i_mid = int(np.argmax(row_max))
        if not row_max[i_mid] > frame_threshold:
            break
        freq = int(np.argmax(remaining[i_mid]))
        remaining[i_mid, freq] = 0

        i = i_mid + 1
        k = 0
        while i < n_frames - 1 and k < ENERGY_TOLERANCE_FRAMES:
            k = k + 1 if remaining[i, freq] < frame_threshold else 0
            _clear(remaining, i, freq)
            i += 1
        last_touched = i - 1
        i_end = i - 1 - k

        i = i_mid - 1
        k = 0
        while i > 0 and k < ENERGY_TOLERANCE_FRAMES:
            k = k + 1 if remaining[i, freq] < frame_threshold else 0
            _clear(remaining, i, freq)
            i -= 1
        first_touched = i + 1
        i_start = i + 1 + k

        lo, hi = min(first_touched, i_mid), max(last_touched, i_mid) + 1
        row_max[lo:hi] = remaining[lo:hi].max(axis=1)

        if i_end - i_start <= min_note_length_frames:
            continue
        notes.append(
            (i_start, i_end, freq + MIDI_OFFSET, float(np.mean(frames[i_start:i_end, freq])))
        )
    return notes
