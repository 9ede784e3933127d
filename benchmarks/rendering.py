"""Rendering benchmark: FluidSynth real-time factor at 44.1 kHz (seconds of audio per second).

A minute of four-part chords and a melody at 120 BPM, rendered with the default General MIDI
soundfont once to load it, then timed (wall clock, and this process's CPU time, which is what
an idle core would take on a shared machine); the OGG encoding is timed separately.
"""

from __future__ import annotations

import time
from typing import Any

from core.audio.rendering import (
    DEFAULT_SAMPLE_RATE_HZ,
    audio_to_ogg_bytes,
    audio_to_wav_bytes,
    default_soundfont,
    midi_to_audio,
)
from core.music.midi import midi_to_bytes, piece_to_midi
from core.music.piece import Note, Piece

MUSIC_S = 60.0
TEMPO_BPM = 120.0
STEPS_PER_QUARTER = 4


def benchmark_piece() -> Piece:
    """Chords every half note and a melody in eighths: four to five voices at once."""
    steps = int(MUSIC_S * TEMPO_BPM / 60.0 * STEPS_PER_QUARTER)
    notes: list[Note] = []
    for onset in range(0, steps, 8):
        root = 48 + (onset // 8 * 5) % 12
        notes.extend(Note(onset, root + interval, 8) for interval in (0, 7, 16))
    scale = (0, 2, 4, 5, 7, 9, 11, 12)
    notes.extend(Note(onset, 72 + scale[(onset // 2) % 8], 2) for onset in range(0, steps, 2))
    return Piece("benchmark", tuple(sorted(notes)), STEPS_PER_QUARTER, TEMPO_BPM)


def run() -> dict[str, Any]:
    midi = midi_to_bytes(piece_to_midi(benchmark_piece()))
    start = time.perf_counter()
    midi_to_audio(midi, sample_rate_hz=DEFAULT_SAMPLE_RATE_HZ)
    first_s = time.perf_counter() - start
    start, start_cpu = time.perf_counter(), time.process_time()
    audio = midi_to_audio(midi, sample_rate_hz=DEFAULT_SAMPLE_RATE_HZ)
    render_s = time.perf_counter() - start
    render_cpu_s = time.process_time() - start_cpu
    audio_s = len(audio) / DEFAULT_SAMPLE_RATE_HZ
    start = time.perf_counter()
    ogg = audio_to_ogg_bytes(audio, DEFAULT_SAMPLE_RATE_HZ)
    ogg_s = time.perf_counter() - start
    wav = audio_to_wav_bytes(audio, DEFAULT_SAMPLE_RATE_HZ)
    return {
        "soundfont": default_soundfont().name,
        "sample_rate_hz": DEFAULT_SAMPLE_RATE_HZ,
        "audio_s": round(audio_s, 2),
        "first_render_with_soundfont_load_s": round(first_s, 3),
        "render_s": round(render_s, 3),
        "real_time_factor": round(audio_s / render_s, 1),
        # CPU time of this process: the figure on an idle core, whatever else the machine runs
        "render_cpu_s": round(render_cpu_s, 3),
        "real_time_factor_cpu": round(audio_s / render_cpu_s, 1),
        "goal_real_time_factor": ">= 50x",
        "ogg_encode_s": round(ogg_s, 3),
        "ogg_bytes": len(ogg),
        "wav_bytes": len(wav),
    }
