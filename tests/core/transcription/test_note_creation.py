"""core/transcription/note_creation: Basic Pitch's activations → notes, as basic-pitch makes them.

The activations are the model's on tests/fixtures/vocadito_10.wav; the expected notes are
basic-pitch's own test data for that clip (tests/fixtures/vocadito_10.note_events.csv).
"""

from __future__ import annotations

import numpy as np
import pytest

from core.transcription.events import NoteEvent, csv_to_note_events
from core.transcription.inference import Activations, audio_to_activations
from core.transcription.model import load_model
from core.transcription.note_creation import (
    MIDI_OFFSET,
    N_PITCHES,
    activations_to_frame_notes,
    hz_to_midi,
    inferred_onsets,
    min_note_length_frames,
    model_frames_to_time,
)
from core.transcription.params import TranscriptionParams
from tests.conftest import FIXTURES

VOCADITO = FIXTURES / "vocadito_10.wav"
VOCADITO_NOTES = FIXTURES / "vocadito_10.note_events.csv"
TIME_ATOL_S = 1e-3
AMPLITUDE_ATOL = 1e-3
DEFAULTS = TranscriptionParams()  # basic-pitch's defaults


@pytest.fixture(scope="module")
def vocadito() -> Activations:
    return audio_to_activations(VOCADITO, model=load_model())


def frame_notes(activations: Activations, **overrides) -> list[tuple[int, int, int, float]]:
    settings = {
        "onset_threshold": DEFAULTS.onset_threshold,
        "frame_threshold": DEFAULTS.frame_threshold,
        "min_note_length_frames": min_note_length_frames(DEFAULTS.min_note_length_ms),
        "min_frequency_hz": DEFAULTS.min_frequency_hz,
        "max_frequency_hz": DEFAULTS.max_frequency_hz,
        "melodia_trick": DEFAULTS.melodia_trick,
        **overrides,
    }
    return activations_to_frame_notes(activations.note, activations.onset, **settings)


def test_vocadito_reproduces_basic_pitch_golden_notes(vocadito: Activations) -> None:
    times_s = model_frames_to_time(vocadito.note.shape[0])
    notes = [
        NoteEvent(float(times_s[start]), float(times_s[end]), pitch, amplitude)
        for start, end, pitch, amplitude in frame_notes(vocadito)
    ]
    expected = csv_to_note_events(VOCADITO_NOTES.read_text())
    assert len(notes) == len(expected) == 28
    got = sorted(notes)
    want = sorted(expected)
    assert [n.pitch for n in got] == [n.pitch for n in want]
    np.testing.assert_allclose(
        [n.start_s for n in got], [n.start_s for n in want], atol=TIME_ATOL_S
    )
    np.testing.assert_allclose([n.end_s for n in got], [n.end_s for n in want], atol=TIME_ATOL_S)
    np.testing.assert_allclose(
        [n.amplitude for n in got], [n.amplitude for n in want], atol=AMPLITUDE_ATOL
    )


def test_the_melodia_step_only_adds_notes_after_the_onset_notes(vocadito: Activations) -> None:
    with_melodia = frame_notes(vocadito, melodia_trick=True)
    without = frame_notes(vocadito, melodia_trick=False)
    assert 0 < len(without) < len(with_melodia)
    assert with_melodia[: len(without)] == without


def test_frequency_limits_keep_notes_inside_them(vocadito: Activations) -> None:
    everything = frame_notes(vocadito, min_frequency_hz=None, max_frequency_hz=None)
    pitches = sorted(p for _, _, p, _ in everything)
    low, high = pitches[len(pitches) // 4], pitches[3 * len(pitches) // 4]
    hz = [440.0 * 2 ** ((p - 69) / 12) for p in (low, high)]
    inside = frame_notes(vocadito, min_frequency_hz=hz[0], max_frequency_hz=hz[1])
    assert inside and len(inside) < len(everything)
    assert all(round(hz_to_midi(hz[0])) <= p < round(hz_to_midi(hz[1])) for _, _, p, _ in inside)


def test_silence_has_zero_onsets_and_no_notes() -> None:
    silence = np.zeros((400, N_PITCHES), np.float32)
    onsets = inferred_onsets(silence, silence)
    assert np.isfinite(onsets).all() and not onsets.any()  # basic-pitch's would be NaN
    assert frame_notes(Activations(silence, silence, 400 / 86)) == []


def test_one_held_activation_is_one_note() -> None:
    # Pitch index 39 (MIDI 60) on from frame 50 to frame 150, its onset peaking at frame 50.
    frames = np.zeros((300, N_PITCHES), np.float32)
    onsets = np.zeros_like(frames)
    frames[50:150, 39] = 0.8
    onsets[49:52, 39] = (0.3, 0.9, 0.3)
    [(start, end, pitch, amplitude)] = frame_notes(Activations(frames, onsets, 300 / 86))
    assert (start, end, pitch) == (50, 150, 39 + MIDI_OFFSET)
    assert amplitude == pytest.approx(0.8)
