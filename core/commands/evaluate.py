"""`python -m core evaluate --model MODEL_DIR|default [--generated FILE...] [--count N]
[--seed S] [--json]`.

Judges a model: its held-out perplexity beside the n-gram baseline's (from training), and a set
of its pieces against the held-out real pieces (style), the training music (originality) and
itself (degeneracy). Without `--generated` it first makes `--count` pieces with the default
settings from seeds S, S + 1, ... With `--json` stdout holds one object with every figure, per
piece and summarized; the same seed gives the same report.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from core.commands._common import int_in, print_json, seed_in, stderr_progress

if TYPE_CHECKING:
    from core.evaluation.records import EvaluationReport


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from core.evaluation.report import DEFAULT_COUNT, FIRST_PIECE_SEED, MAX_COUNT
    from core.generation.settings import SEED_LIMIT
    from core.model.bundled import DEFAULT_MODEL_NAME

    count = int_in(1, MAX_COUNT)
    seed = seed_in(SEED_LIMIT - MAX_COUNT)  # pieces use seeds S .. S + N - 1, all below the limit

    parser.add_argument(
        "--model",
        default=DEFAULT_MODEL_NAME,
        metavar="MODEL_DIR",
        help="a model folder, or 'default' for the bundled model (default)",
    )
    parser.add_argument(
        "--generated",
        nargs="+",
        type=Path,
        metavar="FILE",
        help="judge these MIDI/MusicXML/ABC files instead of generating new pieces",
    )
    parser.add_argument(
        "--count",
        type=count,
        default=DEFAULT_COUNT,
        metavar="N",
        help=f"pieces to generate ({count}; default {DEFAULT_COUNT})",
    )
    parser.add_argument(
        "--seed",
        type=seed,
        default=FIRST_PIECE_SEED,
        metavar="S",
        help=f"seed of the first piece ({seed}; default {FIRST_PIECE_SEED})",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object on stdout")


def run(args: argparse.Namespace) -> int:
    from core.data.datasets import load_files
    from core.errors import EvaluationError
    from core.evaluation.report import (
        check_model_folder,
        evaluate_model,
        evaluate_pieces,
        report_to_dict,
    )
    from core.generation.generator import Generator

    generator = Generator.from_folder(args.model)
    assert generator.path is not None
    check_model_folder(generator.path)  # before any generating or reading
    if args.generated:
        loaded = load_files(args.generated, steps_per_quarter=generator.encoding.steps_per_quarter)
        for line in loaded.errors:
            print(f"skipped {line}", file=sys.stderr)
        if not loaded.pieces:
            raise EvaluationError("no generated piece could be read (the set is empty)")
        report = evaluate_pieces(generator, loaded.pieces)
    else:
        progress = stderr_progress if not args.json else None
        report = evaluate_model(generator, count=args.count, seed=args.seed, on_progress=progress)
    for line in report.skipped:
        print(f"skipped {line}", file=sys.stderr)
    if args.json:
        print_json(report_to_dict(report))
        return 0
    print_text(report)
    return 0


def print_text(report: EvaluationReport) -> None:
    from core.evaluation.verdicts import summary_sentences

    print(f"Evaluation of {report.model_name} on {len(report.pieces)} piece(s)")
    for area, sentence in summary_sentences(report).items():
        print(f"- {area}: {sentence}")
    print()
    print(f"{'piece':<24} {'key':>5} {'entropy':>7} {'copied bars':>11} {'found':>6}  stuck")
    for figures, original, stuck in zip(
        report.style.generated, report.originality, report.degeneracy, strict=True
    ):
        print(
            f"{figures.name[:24]:<24} {figures.scale_consistency:>5.2f} "
            f"{figures.pitch_class_entropy:>7.2f} {original.longest_bars:>11.2f} "
            f"{original.found_share:>6.0%}  {'yes' if stuck.flagged else 'no'}"
        )
