"""The piano preset's polyphonic clean-up: a melody above a bass line comes back, octave ghosts
go, and the top line alone. The figures on real pieces: `bench piano_melody`."""

from __future__ import annotations

import io
from dataclasses import replace
from itertools import pairwise

import numpy as np
import pretty_midi
import pytest
import soundfile as sf

from core.audio.rendering import midi_to_audio
from core.transcription.cleanup import (
    drop_octave_ghosts,
    is_single_line,
    melody_notes,
    single_line_notes,
)
from core.transcription.events import NoteEvent
from core.transcription.inference import activations_to_notes, audio_to_activations
from core.transcription.model import load_model
from core.transcription.note_creation import MIDI_OFFSET, N_PITCHES
from core.transcription.params import (
    TRANSCRIPTION_PRESETS,
    TranscriptionParams,
    TranscriptionPreset,
)

RATE_HZ = 22050
BEAT_S = 0.5
BASS = (48, 43, 45, 41, 48, 43, 45, 41)
# The melody's first note of each bar above the bass: octaves, twelfths, double octaves.
INTERVALS = (12, 19, 24, 12, 19, 24, 12, 16)
PIANO = TRANSCRIPTION_PRESETS[TranscriptionPreset.PIANO]


def _two_voices() -> tuple[bytes, list[tuple[float, int]]]:
    """A bass in half notes under a melody in quarters, on FluidSynth's piano; (wav, melody)."""
    midi = pretty_midi.PrettyMIDI(initial_tempo=120)
    piano = pretty_midi.Instrument(program=0)
    melody = []
    for bar, (bass, interval) in enumerate(zip(BASS, INTERVALS, strict=True)):
        start = bar * 2 * BEAT_S
        piano.notes.append(pretty_midi.Note(90, bass, start, start + 2 * BEAT_S))
        for beat, pitch in enumerate((bass + interval, bass + interval + 2)):
            onset = start + beat * BEAT_S
            piano.notes.append(pretty_midi.Note(90, pitch, onset, onset + BEAT_S))
            melody.append((onset, pitch))
    midi.instruments.append(piano)
    buffer = io.BytesIO()
    sf.write(buffer, midi_to_audio(midi, sample_rate_hz=RATE_HZ), RATE_HZ, format="WAV")
    return buffer.getvalue(), melody


def _found(notes: list[NoteEvent], wanted: list[tuple[float, int]]) -> int:
    return sum(any(n.pitch == p and abs(n.start_s - t) < 0.05 for n in notes) for t, p in wanted)


@pytest.fixture(scope="module")
def two_voices():
    wav, melody = _two_voices()
    return audio_to_activations(wav, model=load_model()), melody


def test_only_the_piano_preset_cleans_up():
    assert TranscriptionParams().top_line is False  # basic-pitch's decoding, its golden test
    assert {p for p, params in TRANSCRIPTION_PRESETS.items() if params.top_line} == {
        TranscriptionPreset.PIANO
    }


def test_the_piano_preset_keeps_the_melody_above_a_bass(two_voices):
    activations, melody = two_voices
    before = activations_to_notes(activations, replace(PIANO, top_line=False))
    after = activations_to_notes(activations, PIANO)
    assert _found(before, melody) <= 12  # Basic Pitch's decoding loses melody notes here
    assert _found(after, melody) >= 15
    bass = [(bar * 2 * BEAT_S, pitch) for bar, pitch in enumerate(BASS)]
    assert _found(after, bass) == _found(before, bass) == len(BASS)
    assert len(after) <= len(melody) + len(BASS) + 8  # not a note at every onset peak


def _onsets(n_frames: int, *peaks: tuple[int, int]) -> np.ndarray:
    onsets = np.zeros((n_frames, N_PITCHES), np.float32)
    for frame, pitch in peaks:
        onsets[frame, pitch - MIDI_OFFSET] = 0.9
    return onsets


def test_an_octave_ghost_without_an_onset_is_dropped():
    notes = [(10, 60, 48, 0.8), (11, 40, 60, 0.2), (10, 50, 64, 0.3)]
    onsets = _onsets(100, (10, 48), (10, 64))
    assert drop_octave_ghosts(notes, onsets, onset_threshold=0.7) == [notes[0], notes[2]]


def test_a_real_octave_is_kept():
    notes = [(10, 60, 48, 0.8), (11, 40, 60, 0.2)]
    # its own onset, or as loud as the note below: a played octave
    assert drop_octave_ghosts(notes, _onsets(100, (10, 48), (11, 60)), onset_threshold=0.7) == notes
    loud = [(10, 60, 48, 0.8), (11, 40, 60, 0.6)]
    assert drop_octave_ghosts(loud, _onsets(100, (10, 48)), onset_threshold=0.7) == loud


def test_melody_notes_is_the_top_line_one_note_at_a_time():
    chord = [
        NoteEvent(0.0, 1.0, 48, 0.5),
        NoteEvent(0.01, 0.5, 64, 0.5),
        NoteEvent(0.0, 1.0, 55, 0.5),
    ]
    inner = NoteEvent(0.2, 0.4, 60, 0.5)  # under the held 64: accompaniment
    step = NoteEvent(0.45, 1.0, 66, 0.5)  # overlaps the 64 a little: the 64 ends at 0.45
    low = NoteEvent(1.0, 1.5, 50, 0.5)  # nothing sounds above it: the melody goes down
    assert melody_notes([*chord, inner, step, low]) == (
        NoteEvent(0.01, 0.45, 64, 0.5),
        step,
        low,
    )
    assert melody_notes([]) == ()


def test_a_single_line_ringing_over_with_a_ghost_becomes_one_line_with_the_written_lengths():
    sixteenth_s = 0.125  # at 120 BPM
    heard = (
        NoteEvent(0.00, 0.70, 67, 0.8),  # rings over the next onset
        NoteEvent(0.01, 0.40, 79, 0.3),  # a weak octave ghost with it
        NoteEvent(0.50, 0.93, 69, 0.7),  # stops 70 ms (under a sixteenth) before the next
        NoteEvent(1.00, 1.20, 71, 0.7),  # staccato: more than a sixteenth's rest after it
        NoteEvent(1.50, 2.00, 72, 0.7),
        NoteEvent(2.00, 2.60, 71, 0.7),
        NoteEvent(2.50, 3.00, 69, 0.7),
        NoteEvent(3.00, 3.50, 67, 0.7),
        NoteEvent(3.50, 4.00, 69, 0.7),
        NoteEvent(4.00, 4.50, 67, 0.7),
    )
    assert is_single_line(heard)  # 9 onsets of 10 hold one note
    line = single_line_notes(heard, legato_gap_s=sixteenth_s)
    assert [n.pitch for n in line] == [67, 69, 71, 72, 71, 69, 67, 69, 67]
    assert [(n.start_s, n.end_s) for n in line[:4]] == [
        (0.00, 0.50),
        (0.50, 1.00),
        (1.00, 1.20),
        (1.50, 2.00),
    ]
    assert all(a.end_s <= b.start_s for a, b in pairwise(line))


def test_chords_are_not_a_single_line():
    chords = tuple(
        NoteEvent(start, start + 0.5, pitch, 0.7)
        for start in (0.0, 0.5, 1.0)
        for pitch in (60, 64, 67)
    )
    assert not is_single_line(chords)
