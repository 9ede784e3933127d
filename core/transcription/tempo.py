"""The beat of a transcription, from the model's onset activations or from its note onsets.

Written here because librosa's tempo estimator compiles numba code on first use, which costs
every app start many seconds (docs/transcription.md).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from core.transcription.events import NoteEvent
from core.transcription.note_creation import AUDIO_SAMPLE_RATE_HZ, FFT_HOP_SAMPLES
from core.transcription.params import DEFAULT_MIDI_TEMPO_BPM

MIN_TEMPO_BPM = 40.0
MAX_TEMPO_BPM = 240.0
TEMPO_PRIOR_BPM = 120.0  # librosa's prior: log-normal around 120 BPM, one octave wide
FRAME_RATE_HZ = AUDIO_SAMPLE_RATE_HZ / FFT_HOP_SAMPLES  # the onset envelope's frames
MIN_ONSET_WEIGHT = 0.1  # a quiet note still marks a beat in the envelope made from notes
SECONDS_PER_MINUTE = 60.0


def estimate_tempo_bpm(onset_envelope: np.ndarray, *, notes: Sequence[NoteEvent] = ()) -> float:
    """The beat in BPM from an onset envelope (frames at the model's rate), or from note onsets.

    Autocorrelation of the envelope, weighted by librosa's prior (log-normal around 120 BPM,
    one octave wide), with a parabolic refinement. `DEFAULT_MIDI_TEMPO_BPM` when there is too
    little to go on.
    """
    envelope = np.asarray(onset_envelope, np.float64)
    if envelope.size < 4 or not np.any(envelope > 0):
        if not notes:
            return DEFAULT_MIDI_TEMPO_BPM
        envelope = _notes_to_onset_envelope(notes)
    autocorrelation = _autocorrelation(envelope)
    n = len(envelope)
    min_lag = max(1, int(np.floor(SECONDS_PER_MINUTE * FRAME_RATE_HZ / MAX_TEMPO_BPM)))
    max_lag = min(n - 2, int(np.ceil(SECONDS_PER_MINUTE * FRAME_RATE_HZ / MIN_TEMPO_BPM)))
    if max_lag <= min_lag or autocorrelation[0] <= 0:
        return DEFAULT_MIDI_TEMPO_BPM
    lag = _best_lag(autocorrelation, np.arange(min_lag, max_lag + 1))
    bpm = SECONDS_PER_MINUTE * FRAME_RATE_HZ / lag
    return round(float(np.clip(bpm, MIN_TEMPO_BPM, MAX_TEMPO_BPM)), 2)


def _notes_to_onset_envelope(notes: Sequence[NoteEvent]) -> np.ndarray:
    """A spike at every onset, as loud as the note (at least MIN_ONSET_WEIGHT)."""
    length = int(max(n.end_s for n in notes) * FRAME_RATE_HZ) + 2
    envelope = np.zeros(length)
    for note in notes:
        envelope[round(note.start_s * FRAME_RATE_HZ)] += max(note.amplitude, MIN_ONSET_WEIGHT)
    return envelope


def _autocorrelation(envelope: np.ndarray) -> np.ndarray:
    """The mean-free envelope's autocorrelation at lags 0..n-1 (by FFT, zero-padded)."""
    centred = envelope - envelope.mean()
    n = len(centred)
    spectrum = np.fft.rfft(centred, 2 * n)
    autocorrelation: np.ndarray = np.fft.irfft(np.abs(spectrum) ** 2)[:n]
    return autocorrelation


def _best_lag(autocorrelation: np.ndarray, lags: np.ndarray) -> float:
    """The lag (frames) that scores best under the tempo prior, refined by a parabola."""
    bpms = SECONDS_PER_MINUTE * FRAME_RATE_HZ / lags
    prior = np.exp(-0.5 * np.log2(bpms / TEMPO_PRIOR_BPM) ** 2)
    score = autocorrelation[lags] * prior
    best = int(np.argmax(score))
    lag = float(lags[best])
    if 0 < best < len(lags) - 1:
        left, mid, right = score[best - 1], score[best], score[best + 1]
        denominator = left - 2 * mid + right
        if denominator < 0:
            lag += 0.5 * (left - right) / denominator
    return lag
