"""`python -m core dataset (--preset NAME | --files PATH...) [--export DIR] [--json]`."""

from __future__ import annotations

import argparse
from pathlib import Path

from core.commands._common import (
    MAX_FILE_LIMIT,
    float_in,
    int_in,
    print_error,
    print_json,
    seed_in,
    stderr_progress,
)
from core.data.datasets import (
    COLLECTIONS,
    DEFAULT_VALID_FRACTION,
    SPLIT_SEED,
    dataset_from_loaded,
    export_dataset,
    load_sources,
)
from core.errors import InvalidMusicError
from core.music.piece import GRIDS
from core.tokens.config import EncodingConfig

# EncodingConfig refuses more: twelve semitones, an octave, already reach every key.
MAX_TRANSPOSE_SEMITONES = 12
# A larger held-out share leaves too little music to train on.
MAX_VALID_FRACTION = 0.5


def add_encoding_arguments(parser: argparse.ArgumentParser) -> None:
    """Options that decide the encoding; shared by every command that builds a dataset."""
    parser.add_argument(
        "--grid",
        choices=sorted(GRIDS),
        default="sixteenth",
        help="quantization grid (default: sixteenth)",
    )
    parser.add_argument(
        "--normalize-key", action="store_true", help="transpose every piece to C major / A minor"
    )
    transpose = int_in(0, MAX_TRANSPOSE_SEMITONES)
    parser.add_argument(
        "--transpose",
        type=transpose,
        default=0,
        metavar="N",
        help=f"augmentation: also use every piece transposed by -N..+N semitones ({transpose})",
    )


def encoding_config_from_args(args: argparse.Namespace) -> EncodingConfig:
    return EncodingConfig(
        steps_per_quarter=GRIDS[args.grid],
        normalize_key=args.normalize_key,
        transpose_semitones=args.transpose,
    )


def add_arguments(parser: argparse.ArgumentParser) -> None:
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--preset", choices=sorted(COLLECTIONS), help="a built-in collection")
    source.add_argument(
        "--files",
        nargs="+",
        type=Path,
        metavar="PATH",
        help="MIDI, MusicXML or ABC files, or folders of them",
    )
    parser.add_argument(
        "--export",
        type=Path,
        metavar="DIR",
        help="write vocab.json, train.jsonl, valid.jsonl and encoding.json here",
    )
    limit = int_in(1, MAX_FILE_LIMIT)
    parser.add_argument(
        "--limit",
        type=limit,
        metavar="N",
        help=f"use only the first N files, for quick runs ({limit})",
    )
    seed = seed_in()
    parser.add_argument(
        "--seed",
        type=seed,
        default=SPLIT_SEED,
        help=f"train/validation split seed ({seed}; default {SPLIT_SEED})",
    )
    fraction = float_in(0.0, MAX_VALID_FRACTION, low_open=True)
    parser.add_argument(
        "--valid-fraction",
        type=fraction,
        default=DEFAULT_VALID_FRACTION,
        metavar="F",
        help=f"share of the pieces held out for validation ({fraction}; "
        f"default {DEFAULT_VALID_FRACTION})",
    )
    add_encoding_arguments(parser)
    parser.add_argument("--json", action="store_true", help="print one JSON object")


def run(args: argparse.Namespace) -> int:
    config = encoding_config_from_args(args)
    sources: list[str | Path] = [args.preset] if args.preset else list(args.files)
    result = load_sources(
        sources,
        steps_per_quarter=config.steps_per_quarter,
        limit=args.limit,
        on_progress=None if args.json else stderr_progress,
    )
    for error in result.errors:
        print_error(error)
    if not result.pieces:
        raise InvalidMusicError(f"no usable pieces in {', '.join(map(str, sources))}")
    name = args.preset or "+".join(p.name for p in args.files)
    dataset = dataset_from_loaded(
        result,
        sources,
        name=name,
        config=config,
        seed=args.seed,
        valid_fraction=args.valid_fraction,
        limit=args.limit,
    )
    if args.export:
        export_dataset(dataset, args.export)
    summary = dataset.summary().to_dict()
    if args.json:
        print_json(
            {
                "name": name,
                "seed": args.seed,
                "refused": list(result.errors),
                "exported_to": str(args.export) if args.export else None,
                **summary,
            }
        )
    else:
        print(f"dataset {name} (split seed {args.seed})")
        for key, value in summary.items():
            print(f"  {key}: {value}")
        if args.export:
            print(f"  exported to {args.export}")
    # Files the user named must all load; a preset's few unreadable corpus files are reported
    # but are not the user's error.
    return 1 if result.errors and args.files else 0
