"""`python -m core bench [NAME...] [--json]`: the single benchmark entry point.

Each benchmark is a module `benchmarks/<name>.py` with `run() -> dict` returning its
figures (ratios against a baseline measured in the same process where the issue names one).
Each run also writes them, dated, to `docs/benchmarks/results/<name>.json`.
"""

from __future__ import annotations

import argparse
import datetime
import importlib
import os
import pkgutil
import platform
from pathlib import Path
from typing import Any

import benchmarks
from core.commands._common import print_json
from core.storage.files import REPO_DIR, atomic_write_json

RESULTS_DIR = REPO_DIR / "docs" / "benchmarks" / "results"

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
# generated pieces and 20 sets of real ones (about 4 minutes); `audio_to_training` renders and
# transcribes 30 folk tunes (about a minute); `piano_melody` renders and transcribes 20
# string-quartet excerpts on piano (under a minute).
# `your_style` transcribes 150 folk songs and trains six quick models (about 7 minutes).
# `your_style_piano` transcribes 15 quartet excerpts and trains four quick models (4 minutes).
# `evaluate_page` judges 20 pieces through the Evaluate page, twice per model (30-40 s).
# `share_link` opens shared pieces in fresh browsers against a warm server (about 70 s).
# `hostile` builds a ten-minute hi-res FLAC and other bombs and sends each to a fresh process
# (about a minute; before issue 29's limits one case took 2.5 GB and 74 s).
# `replicas` drives visitors through nginx in front of two replicas, and stops one (1-3 min).
# `form` generates 180 pieces of the bundled models and measures how their bars recur (75 s).
# `meter` generates 120 folk pieces and reads 34 tune books for their pickups (about 3 min).
# `harmonize` harmonizes the 33 held-out chorales' sopranos twice and judges them as Bach (1-2 min).
# `job_queue` trains three tiny models through each job runner, with a Redis of its own (2 min).
# `harmonize_chords` suggests chords for the 306 held-out folk tunes, three seeds (about 40 s).
OPT_IN = (
    "evaluate_page",
    "hostile",
    "share_link",
    "quality",
    "small_data",
    "load",
    "bundled_style",
    "audio_to_training",
    "piano_melody",
    "your_style",
    "your_style_piano",
    "job_queue",
    "form",
    "meter",
    "replicas",
    "harmonize_chords",
)


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
    parser.add_argument(
        "--results-dir",
        type=Path,
        default=RESULTS_DIR,
        metavar="DIR",
        help="where each benchmark's figures are written as NAME.json, dated (default "
        "docs/benchmarks/results/); --no-save writes none",
    )
    parser.add_argument("--no-save", action="store_true", help="print only, write no file")


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
        if not args.no_save:
            save_results(args.results_dir, name, figures)
        if not args.json:
            print(f"== {name}")
            for key, value in figures.items():
                print(f"  {key}: {value}")
    if args.json:
        print_json(results)
    return 0


def save_results(folder: Path, name: str, figures: dict[str, Any]) -> Path:
    """`folder/NAME.json`: the figures with the date and the machine they were measured on, so
    docs/benchmarks.md cites a file the benchmark wrote rather than numbers typed by hand."""
    path = Path(folder) / f"{name}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    record = {
        "benchmark": name,
        "measured_at": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs",
        "python": platform.python_version(),
        "figures": figures,
    }
    atomic_write_json(path, record)
    return path
