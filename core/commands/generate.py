"""`python -m core generate --model MODEL_DIR|default --out FILE.mid [options] [--json]`.

Generates one piece with a trained model and writes it as MIDI (and as WAV with `--wav`).
`--primer FILE` continues a MIDI/MusicXML/ABC file. The seed is printed, so the same command
with `--seed` makes the same piece again.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from core.commands._common import print_error, print_json
from core.storage import atomic_write_bytes


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from core.bundled import DEFAULT_MODEL_NAME
    from core.sampling import DEFAULT_LENGTH_TOKENS

    parser.add_argument(
        "--model",
        default=DEFAULT_MODEL_NAME,
        metavar="MODEL_DIR",
        help="a model folder, or 'default' for the bundled model (default)",
    )
    parser.add_argument("--out", type=Path, required=True, metavar="FILE.mid")
    length = parser.add_mutually_exclusive_group()
    length.add_argument(
        "--tokens", type=int, metavar="N", help=f"new tokens (default {DEFAULT_LENGTH_TOKENS})"
    )
    length.add_argument("--seconds", type=float, metavar="S", help="seconds of new music")
    parser.add_argument("--temperature", type=float, default=None, metavar="T")
    parser.add_argument("--top-k", type=int, default=None, metavar="K", help="0: off")
    parser.add_argument("--top-p", type=float, default=None, metavar="P", help="1: off")
    parser.add_argument("--seed", type=int, default=None, help="default: a random one")
    parser.add_argument("--tempo", type=float, default=None, metavar="BPM")
    parser.add_argument(
        "--program",
        type=int,
        default=0,
        metavar="N",
        help="General MIDI instrument 0..127 (default 0, piano)",
    )
    parser.add_argument(
        "--primer",
        type=Path,
        default=None,
        metavar="FILE",
        help="a MIDI/MusicXML/ABC file to continue",
    )
    parser.add_argument(
        "--snippet",
        action="store_true",
        help="start from a snippet of the music the model learned from (drawn from the seed)",
    )
    parser.add_argument(
        "--wav",
        type=Path,
        default=None,
        metavar="FILE.wav",
        help="also render the piece to this WAV file",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object on stdout")


def run(args: argparse.Namespace) -> int:
    import numpy as np

    from core.encoding import DEFAULT_TEMPO_BPM
    from core.primers import music_to_primer
    from core.rendering import DEFAULT_SAMPLE_RATE_HZ, audio_to_wav_bytes, midi_to_audio
    from core.sampling import (
        DEFAULT_LENGTH_TOKENS,
        DEFAULT_TEMPERATURE,
        DEFAULT_TOP_K,
        DEFAULT_TOP_P,
        Generator,
        SamplingSettings,
        new_seed,
    )

    started = time.perf_counter()
    generator = Generator.from_folder(args.model)
    primer = music_to_primer(args.primer, generator.encoding) if args.primer else None
    tempo = args.tempo or (primer.tempo_bpm if primer and primer.tempo_bpm else None)
    try:
        settings = SamplingSettings(
            temperature=DEFAULT_TEMPERATURE if args.temperature is None else args.temperature,
            top_k=DEFAULT_TOP_K if args.top_k is None else args.top_k,
            top_p=DEFAULT_TOP_P if args.top_p is None else args.top_p,
            length_tokens=None
            if args.seconds is not None
            else args.tokens or DEFAULT_LENGTH_TOKENS,
            length_s=args.seconds,
            tempo_bpm=tempo or DEFAULT_TEMPO_BPM,
            program=args.program,
        )
    except ValueError as error:
        print_error(f"{args.out.name}: {error}")
        return 2
    seed = new_seed() if args.seed is None else args.seed
    if args.snippet:
        if primer is not None:
            print_error(f"{args.primer.name}: give --primer or --snippet, not both")
            return 2
        primer = generator.excerpt_primer(np.random.default_rng(seed))
        if primer is None:
            print_error(f"{generator.name}: this model ships no training snippets (primers.json)")
            return 2
    result = generator.generate(settings, seed=seed, primer=primer)
    atomic_write_bytes(args.out, result.midi_bytes)
    summary = {**result.summary(), "out": str(args.out)}
    if args.wav:
        audio = midi_to_audio(result.midi_bytes, sample_rate_hz=DEFAULT_SAMPLE_RATE_HZ)
        atomic_write_bytes(args.wav, audio_to_wav_bytes(audio, DEFAULT_SAMPLE_RATE_HZ))
        summary["wav"] = str(args.wav)
    summary["elapsed_s"] = round(time.perf_counter() - started, 3)
    if args.json:
        print_json(summary)
    else:
        print(
            f"wrote {args.out} ({summary['notes']} notes, {summary['duration_s']:.1f} s, "
            f"seed {seed})" + (f" and {args.wav}" if args.wav else "")
        )
    return 0
