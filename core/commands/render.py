"""`python -m core render FILE.mid --out FILE.wav|FILE.ogg [--program N] [--soundfont SF2]`.

Renders MIDI to audio with FluidSynth and the General MIDI soundfont (or your own .sf2).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from core.commands._common import MAX_GM_PROGRAM, float_in, int_in, print_error, print_json
from core.storage.files import atomic_write_bytes

AUDIO_SUFFIXES = (".wav", ".ogg")
# FluidSynth's lowest synth.sample-rate; 100 MHz once tried to allocate 15 GiB.
MIN_SAMPLE_RATE_HZ = 8_000
# The highest rate of ordinary audio (video, DAT). FluidSynth goes to 96 kHz, but the audio is
# held whole in memory: the longest render (core.audio.rendering.MAX_RENDER_S, 20 minutes) is
# 0.46 GB of stereo float32 at 48 kHz before it is encoded, and would be 0.92 GB at 96 kHz for
# nothing anyone hears.
MAX_SAMPLE_RATE_HZ = 48_000


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from core.audio.rendering import DEFAULT_SAMPLE_RATE_HZ
    from core.music.files import MAX_TEMPO_BPM, MIN_TEMPO_BPM

    program = int_in(0, MAX_GM_PROGRAM)
    tempo = float_in(MIN_TEMPO_BPM, MAX_TEMPO_BPM)  # the tempi a music file may have
    rate = int_in(MIN_SAMPLE_RATE_HZ, MAX_SAMPLE_RATE_HZ)
    parser.add_argument("midi", type=Path, metavar="FILE.mid")
    parser.add_argument(
        "--out",
        type=Path,
        required=True,
        metavar="FILE.wav",
        help="output audio: .wav (16-bit PCM) or .ogg (Vorbis)",
    )
    parser.add_argument(
        "--program",
        type=program,
        default=None,
        metavar="N",
        help=f"General MIDI instrument for every part ({program}; default: the file's)",
    )
    parser.add_argument(
        "--soundfont",
        type=Path,
        default=None,
        metavar="SF2",
        help="a SoundFont 2 file (default: the system's General MIDI one)",
    )
    parser.add_argument(
        "--tempo",
        type=tempo,
        default=None,
        metavar="BPM",
        help=f"play at this tempo in BPM ({tempo}; default: the file's)",
    )
    parser.add_argument(
        "--sample-rate",
        type=rate,
        default=None,
        metavar="HZ",
        help=f"samples per second, {rate} (default {DEFAULT_SAMPLE_RATE_HZ})",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object on stdout")


def run(args: argparse.Namespace) -> int:
    from core.audio.rendering import (
        DEFAULT_SAMPLE_RATE_HZ,
        audio_to_ogg_bytes,
        audio_to_wav_bytes,
        midi_to_audio,
    )

    suffix = args.out.suffix.lower()
    if suffix not in AUDIO_SUFFIXES:
        print_error(f"{args.out.name}: unsupported output type; use {' or '.join(AUDIO_SUFFIXES)}")
        return 2
    rate = args.sample_rate or DEFAULT_SAMPLE_RATE_HZ
    started = time.perf_counter()
    audio = midi_to_audio(
        args.midi,
        sample_rate_hz=rate,
        program=args.program,
        soundfont=args.soundfont,
        tempo_bpm=args.tempo,
    )
    data = audio_to_wav_bytes(audio, rate) if suffix == ".wav" else audio_to_ogg_bytes(audio, rate)
    atomic_write_bytes(args.out, data)
    duration_s = len(audio) / rate
    elapsed = time.perf_counter() - started
    if args.json:
        print_json(
            {
                "midi": str(args.midi),
                "out": str(args.out),
                "duration_s": round(duration_s, 3),
                "sample_rate_hz": rate,
                "bytes": len(data),
                "elapsed_s": round(elapsed, 3),
            }
        )
    else:
        print(f"wrote {args.out} ({duration_s:.1f} s of audio in {elapsed:.2f} s)")
    return 0
