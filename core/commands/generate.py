"""`python -m core generate --model MODEL_DIR|default --out FILE.mid [options] [--json]`.

Generates one piece with a trained model and writes it as MIDI (and as WAV with `--wav`).
`--primer FILE` continues a MIDI/MusicXML/ABC file (`--keep-bars N`: only its first N bars),
`--audio-primer FILE` a recording (hummed, sung, played). `--key`, `--scale` and
`--lock-scale` choose the key and hold the new notes to the scale. The seed is printed, so the
same command with `--seed` makes the same piece again; with a bundled model `--json` also prints
the piece's share link, and `generate --link URL` makes that piece again.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from core.commands._common import MAX_GM_PROGRAM, float_in, int_in, print_error, print_json, seed_in
from core.storage.files import atomic_write_bytes

if TYPE_CHECKING:
    from core.generation.generator import Generator
    from core.generation.primers import Primer
    from core.generation.result import GenerationResult
    from core.generation.settings import SamplingSettings

# SamplingSettings' own limits, which it keeps as bare numbers.
MAX_TEMPERATURE = 10.0
MIN_TEMPO_BPM = 20.0
MAX_TEMPO_BPM = 400.0
# Far above any vocabulary (the bundled ones hold a few hundred tokens): a k at or above the
# vocabulary's size samples from all of it, the same as 0 (off).
MAX_TOP_K = 10_000


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from core.commands.transcribe import PRESET_NAMES
    from core.generation.settings import (
        DEFAULT_LENGTH_TOKENS,
        DEFAULT_TEMPERATURE,
        DEFAULT_TOP_K,
        DEFAULT_TOP_P,
        MAX_LENGTH_S,
        MAX_LENGTH_TOKENS,
    )
    from core.model.bundled import DEFAULT_MODEL_NAME
    from core.music.files import MAX_PIECE_BEATS
    from core.music.piece import BEATS_PER_BAR, DEFAULT_TEMPO_BPM

    tokens = int_in(1, MAX_LENGTH_TOKENS)
    seconds = float_in(0.0, MAX_LENGTH_S, low_open=True)
    temperature = float_in(0.0, MAX_TEMPERATURE)
    top_k = int_in(0, MAX_TOP_K)
    top_p = float_in(0.0, 1.0, low_open=True)
    seed = seed_in()
    tempo = float_in(MIN_TEMPO_BPM, MAX_TEMPO_BPM)
    program = int_in(0, MAX_GM_PROGRAM)
    keep_bars = int_in(1, MAX_PIECE_BEATS // BEATS_PER_BAR)  # the longest piece read, in bars

    parser.add_argument(
        "--model",
        default=DEFAULT_MODEL_NAME,
        metavar="MODEL_DIR",
        help="a model folder, or 'default' for the bundled model (default)",
    )
    parser.add_argument("--out", type=Path, required=True, metavar="FILE.mid")
    length = parser.add_mutually_exclusive_group()
    length.add_argument(
        "--tokens",
        type=tokens,
        metavar="N",
        help=f"new tokens ({tokens}; default {DEFAULT_LENGTH_TOKENS})",
    )
    length.add_argument(
        "--seconds", type=seconds, metavar="S", help=f"seconds of new music ({seconds})"
    )
    parser.add_argument(
        "--temperature",
        type=temperature,
        default=None,
        metavar="T",
        help=f"randomness, {temperature}; 0: always the likeliest token "
        f"(default {DEFAULT_TEMPERATURE:g})",
    )
    parser.add_argument(
        "--top-k",
        type=top_k,
        default=None,
        metavar="K",
        help=f"sample from the K likeliest tokens, {top_k}; 0: off (default {DEFAULT_TOP_K})",
    )
    parser.add_argument(
        "--top-p",
        type=top_p,
        default=None,
        metavar="P",
        help=f"sample from the likeliest tokens that hold this share, {top_p}; 1: off "
        f"(default {DEFAULT_TOP_P:g})",
    )
    parser.add_argument(
        "--seed",
        type=seed,
        default=None,
        metavar="S",
        help=f"the piece's seed, {seed} (default: a random one)",
    )
    parser.add_argument(
        "--tempo",
        type=tempo,
        default=None,
        metavar="BPM",
        help=f"tempo in BPM, {tempo} (default: the primer's, or {DEFAULT_TEMPO_BPM:g})",
    )
    parser.add_argument(
        "--program",
        type=program,
        default=0,
        metavar="N",
        help=f"General MIDI instrument, {program} (default 0, piano)",
    )
    parser.add_argument(
        "--primer",
        type=Path,
        default=None,
        metavar="FILE",
        help="a MIDI/MusicXML/ABC file to continue",
    )
    parser.add_argument(
        "--audio-primer",
        type=Path,
        default=None,
        metavar="FILE",
        help="a recording (hummed, sung, whistled, played) to transcribe and continue",
    )
    parser.add_argument(
        "--audio-preset",
        choices=PRESET_NAMES,
        default="voice",
        help="what the --audio-primer recording is (default voice: singing, humming)",
    )
    parser.add_argument(
        "--keep-bars",
        type=keep_bars,
        default=None,
        metavar="N",
        help=f"with --primer or --audio-primer: keep only its first N bars, then continue "
        f"({keep_bars})",
    )
    parser.add_argument(
        "--key",
        default=None,
        metavar="NAME",
        help="the key's tonic (C, C#, Db ... B; default: the tune's, or the model's)",
    )
    parser.add_argument(
        "--scale",
        default=None,
        metavar="SCALE",
        help="major, natural-minor, harmonic-minor, major-pentatonic, minor-pentatonic or blues",
    )
    parser.add_argument(
        "--lock-scale",
        action="store_true",
        help="every new note stays in the key's scale",
    )
    parser.add_argument(
        "--meter",
        default=None,
        metavar="M",
        help="the piece's meter, e.g. 6/8 or 3/4 (default: the tune it starts from; 4/4 from "
        "nothing); its bars in the MIDI, the sheet music and --keep-bars follow it",
    )
    parser.add_argument(
        "--form",
        choices=("style", "free"),
        default=None,
        help="style: phrases come back as in the model's music (the default); free: never",
    )
    parser.add_argument(
        "--link",
        default=None,
        metavar="URL",
        help="make the piece a share link names (give only --out, --wav and --json with it)",
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


class _OptionError(ValueError):
    """A bad command-line value; the message names the option."""


# Options that make a piece; a link already holds all of them.
_RECIPE_OPTIONS = (
    "tokens",
    "seconds",
    "temperature",
    "top_k",
    "top_p",
    "seed",
    "tempo",
    "primer",
    "audio_primer",
    "keep_bars",
    "key",
    "scale",
    "snippet",
    "meter",
    "form",
)


def _settings(args: argparse.Namespace, tempo_bpm: float | None) -> SamplingSettings:
    from core.generation.settings import (
        DEFAULT_LENGTH_TOKENS,
        DEFAULT_TEMPERATURE,
        DEFAULT_TOP_K,
        DEFAULT_TOP_P,
        SamplingSettings,
    )
    from core.music.meter import parse_meter
    from core.music.piece import DEFAULT_TEMPO_BPM
    from core.music.scales import parse_scale, parse_tonic

    def parsed(option: str, parse: Callable[[str], Any], value: str | None) -> Any:
        try:
            return None if value is None else parse(value)
        except ValueError as error:
            raise _OptionError(f"{option}: {error}") from None

    scale = parsed("--scale", parse_scale, args.scale)
    meter = str(parsed("--meter", parse_meter, args.meter) or "")
    try:
        return SamplingSettings(
            temperature=DEFAULT_TEMPERATURE if args.temperature is None else args.temperature,
            top_k=DEFAULT_TOP_K if args.top_k is None else args.top_k,
            top_p=DEFAULT_TOP_P if args.top_p is None else args.top_p,
            length_tokens=None
            if args.seconds is not None
            else args.tokens or DEFAULT_LENGTH_TOKENS,
            length_s=args.seconds,
            tempo_bpm=args.tempo or tempo_bpm or DEFAULT_TEMPO_BPM,
            program=args.program,
            key=parsed("--key", parse_tonic, args.key),
            scale=scale.value if scale else None,
            lock_scale=args.lock_scale,
            meter=meter,
            **({"form": args.form} if args.form else {}),
        )
    except ValueError as error:
        raise _OptionError(f"{args.out.name}: {error}") from None


def _primer(args: argparse.Namespace, generator: Generator, seed: int) -> Primer | None:
    """The tune to continue: a file, a recording, a training snippet, or none."""
    import numpy as np

    from core.generation.continuation import first_bars
    from core.generation.primers import music_to_primer, piece_to_primer

    given = [o for o in ("primer", "audio_primer", "snippet") if getattr(args, o)]
    if len(given) > 1:
        raise _OptionError("give one of --primer, --audio-primer and --snippet")
    if args.keep_bars is not None and not (args.primer or args.audio_primer):
        raise _OptionError("--keep-bars: give --primer FILE or --audio-primer FILE to keep bars of")
    if args.snippet:
        primer = generator.excerpt_primer(np.random.default_rng(seed))
        if primer is None:
            raise _OptionError(
                f"{generator.name}: this model ships no training snippets (primers.json)"
            )
        return primer
    if args.primer and args.keep_bars is None:
        return music_to_primer(args.primer, generator.encoding)
    if args.primer:
        from core.music.files import read_music

        piece = read_music(args.primer, steps_per_quarter=generator.encoding.steps_per_quarter)[0]
    elif args.audio_primer:
        from core.transcription.humming import recording_to_heard_tune
        from core.transcription.model import load_model
        from core.transcription.params import preset_params

        piece = recording_to_heard_tune(
            args.audio_primer,
            model=load_model(),
            name=Path(args.audio_primer).name,
            params=preset_params(args.audio_preset),
        ).piece
    else:
        return None
    if args.keep_bars is not None:
        try:
            piece = first_bars(piece, args.keep_bars)
        except ValueError as error:
            raise _OptionError(f"--keep-bars: {error}") from None
    return piece_to_primer(piece, generator.encoding)


def _from_link(args: argparse.Namespace) -> GenerationResult:
    from core.generation.share_links import link_to_params, params_to_recipe, recipe_to_result

    given = [o for o in _RECIPE_OPTIONS if getattr(args, o) not in (None, False)]
    if given or args.model != "default" or args.program:
        raise _OptionError("--link: the link holds the whole piece; give only --out, --wav, --json")
    return recipe_to_result(params_to_recipe(link_to_params(args.link)))


def run(args: argparse.Namespace) -> int:
    from core.audio.rendering import DEFAULT_SAMPLE_RATE_HZ, audio_to_wav_bytes, midi_to_audio
    from core.generation.generator import Generator
    from core.generation.settings import new_seed
    from core.generation.share_links import (
        NotShareableError,
        PieceRecipe,
        public_base_url,
        recipe_to_link,
    )

    started = time.perf_counter()
    try:
        if args.link:
            result = _from_link(args)
        else:
            generator = Generator.from_folder(args.model)
            seed = new_seed() if args.seed is None else args.seed
            primer = _primer(args, generator, seed)
            settings = _settings(args, primer.tempo_bpm if primer else None)
            result = generator.generate(settings, seed=seed, primer=primer)
    except _OptionError as error:
        print_error(str(error))
        return 2
    atomic_write_bytes(args.out, result.midi_bytes)
    from core.evaluation.report import new_notes_in_key

    summary = {**result.summary(), "out": str(args.out)}
    in_key = new_notes_in_key(result)
    summary["new_notes_in_key"] = None if in_key is None else round(in_key, 4)
    try:
        summary["link"] = recipe_to_link(PieceRecipe.of(result), public_base_url())
    except NotShareableError as error:
        summary["link"] = None
        summary["link_note"] = str(error)
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
            f"seed {result.seed})" + (f" and {args.wav}" if args.wav else "")
        )
    return 0
