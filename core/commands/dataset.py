"""`python -m core dataset (--preset NAME | --files PATH...) [--export DIR] [--json]`."""

from __future__ import annotations

import argparse
from pathlib import Path

from core.commands._common import print_error, print_json, stderr_progress
from core.datasets import (
    DEFAULT_SEED,
    DEFAULT_VALID_FRACTION,
    PRESETS,
    dataset_from_loaded,
    export_dataset,
    load_sources,
)
from core.encoding import GRIDS, EncodingConfig
from core.errors import InvalidMusicError


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
    parser.add_argument(
        "--transpose",
        type=int,
        default=0,
        metavar="N",
        help="augmentation: also use every piece transposed by -N..+N semitones",
    )


def encoding_config_from_args(args: argparse.Namespace) -> EncodingConfig:
    return EncodingConfig(
        steps_per_quarter=GRIDS[args.grid],
        normalize_key=args.normalize_key,
        transpose_semitones=args.transpose,
    )


def add_arguments(parser: argparse.ArgumentParser) -> None:
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--preset", choices=sorted(PRESETS), help="a built-in collection")
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
    parser.add_argument("--limit", type=int, help="use only the first N files (quick runs)")
    parser.add_argument(
        "--seed",
        type=int,
        default=DEFAULT_SEED,
        help=f"train/validation split seed (default {DEFAULT_SEED})",
    )
    parser.add_argument("--valid-fraction", type=float, default=DEFAULT_VALID_FRACTION)
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
