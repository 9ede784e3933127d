"""`python -m core bench [NAME...] [--json]`: the single benchmark entry point.

Each benchmark is a module `benchmarks/<name>.py` with `run() -> dict` returning its
figures (ratios against a baseline measured in the same process where the issue names one).
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil

import benchmarks
from core.commands._common import print_json

# The order they run in when no name is given.
BENCHMARK_ORDER = (
    "encoding",
    "transcription",
    "training",
    "generation",
    "rendering",
    "evaluation",
)
# Run only when named: `quality` trains two full models (about 2 hours on a 2-core CPU) and
# `small_data` three quick ones (about 10 minutes).
# `load` drives many browser sessions at once (a minute or two); `bundled_style` judges 180
# generated pieces and 20 sets of real ones (about 4 minutes).
OPT_IN = ("quality", "small_data", "load", "bundled_style")


def available() -> list[str]:
    present = {m.name for m in pkgutil.iter_modules(benchmarks.__path__)}
    ordered = [n for n in BENCHMARK_ORDER if n in present]
    helpers = {n for n in present if n.startswith("_")}  # shared code, not benchmarks
    return ordered + sorted(present - set(ordered) - helpers)


def default_names() -> list[str]:
    return [n for n in available() if n not in OPT_IN]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "names",
        nargs="*",
        metavar="NAME",
        help=f"benchmarks to run (default: {', '.join(default_names())}; "
        f"{', '.join(OPT_IN)} only when named: it trains full models, hours on a CPU)",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object")


def run(args: argparse.Namespace) -> int:
    names = args.names or default_names()
    unknown = [n for n in names if n not in available()]
    if unknown:
        raise SystemExit(
            f"error: unknown benchmark {', '.join(unknown)}; choose from {', '.join(available())}"
        )
    results = {}
    for name in names:
        figures = importlib.import_module(f"benchmarks.{name}").run()
        results[name] = figures
        if not args.json:
            print(f"== {name}")
            for key, value in figures.items():
                print(f"  {key}: {value}")
    if args.json:
        print_json(results)
    return 0
