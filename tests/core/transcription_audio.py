"""Test audio for transcription: corpus melodies rendered with FluidSynth, and broken files.

Rendering goes through core.audio.rendering (FluidSynth with the FluidR3 GM soundfont); nothing is
downloaded.
"""

from __future__ import annotations

import io
import re
from pathlib import Path

import numpy as np
import pretty_midi
import soundfile as sf

from core.music.files import read_music
from core.music.midi import piece_to_midi
from core.music.piece import Piece

FLUTE = 73
RENDER_RATE_HZ = 44100


def corpus_tune(
    index: int = 0,
    *,
    book: str = "oneills1850/0001-0050.abc",
    max_seconds: float = 20.0,
    tempo_bpm: float = 100.0,
) -> Piece:
    """One monophonic tune from music21's bundled ABC books, cut to about `max_seconds`."""
    import music21.corpus

    text = (Path(music21.corpus.__file__).parent / book).read_text(
        encoding="utf-8", errors="replace"
    )
    tunes = [t for t in re.split(r"(?m)^(?=X:)", text) if t.startswith("X:")]
    piece = read_music(tunes[index].encode(), name=f"tune{index}.abc")[0]
    steps_per_s = tempo_bpm / 60.0 * piece.steps_per_quarter
    notes = tuple(n for n in piece.notes if n.end_step / steps_per_s <= max_seconds)
    return Piece(piece.name, notes, piece.steps_per_quarter, tempo_bpm, piece.key)


def render_piece(
    piece: Piece, *, program: int = FLUTE
) -> tuple[np.ndarray, pretty_midi.PrettyMIDI]:
    """(mono float32 audio at RENDER_RATE_HZ, the MIDI that was played)."""
    from core.audio.rendering import midi_to_audio

    midi = piece_to_midi(piece, program=program)
    audio = midi_to_audio(midi, sample_rate_hz=RENDER_RATE_HZ, program=program)
    return audio, midi


def audio_to_bytes(audio: np.ndarray, *, fmt: str = "MP3", rate_hz: int = RENDER_RATE_HZ) -> bytes:
    buffer = io.BytesIO()
    sf.write(buffer, audio, rate_hz, format=fmt)
    return buffer.getvalue()


def reference_notes(midi: pretty_midi.PrettyMIDI) -> tuple[np.ndarray, np.ndarray]:
    """(intervals (n, 2) in seconds, pitches in Hz) for mir_eval."""
    notes = sorted((n for i in midi.instruments for n in i.notes), key=lambda n: n.start)
    intervals = np.array([[n.start, n.end] for n in notes])
    pitches = np.array([pretty_midi.note_number_to_hz(n.pitch) for n in notes])
    return intervals, pitches


def silence_wav(seconds: float = 3.0, rate_hz: int = RENDER_RATE_HZ) -> bytes:
    return audio_to_bytes(np.zeros(int(seconds * rate_hz), np.float32), fmt="WAV", rate_hz=rate_hz)
