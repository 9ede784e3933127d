"""`python -m core COMMAND ...`: the app's capabilities from a terminal.

Each command lives in `core/commands/<name>.py` with `add_arguments(parser)` and
`run(args) -> int`; this module only routes. Commands print (core modules log); with `--json`
a command prints exactly one JSON object on stdout. Bad input exits non-zero with one line on
stderr that names the file and the reason. A `TUNESMITH_*` value that cannot be used stops every
command before it starts: one line per value on stderr, exit status 2 (`check-settings` does
only that check, for `./run.sh app`).
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys
from collections.abc import Sequence
from types import ModuleType
from typing import NoReturn

from core.errors import TunesmithError
from core.settings import check_settings, unknown_settings

SETTINGS_REFUSED_EXIT = 2  # as argparse's usage errors: the command was not run

# name → (module under core.commands, one-line help). Modules are imported only when used,
# so `--help` and light commands do not pay for TensorFlow.
COMMANDS: dict[str, tuple[str, str]] = {
    "dataset": ("dataset", "build a dataset from a preset or files; print or export it"),
    "roundtrip": ("roundtrip", "encode one music file to tokens and decode it back to MIDI"),
    "transcribe": ("transcribe", "turn audio files into MIDI with Basic Pitch"),
    "train": ("train", "train an LSTM on a dataset and save the model folder"),
    "generate": ("generate", "generate a new piece with a trained model"),
    "render": ("render", "render a MIDI file to audio with FluidSynth"),
    "harmonize": ("harmonize", "harmonize a melody: four voices like a chorale, or chords"),
    "evaluate": ("evaluate", "judge a model and its music against held-out and training music"),
    "clean": ("clean", "delete idle workspaces and trim the parse cache to its limit"),
    "check-settings": (
        "check_settings",
        "check the TUNESMITH_* settings; exit 2 if one is unusable",
    ),
    "worker": ("worker", "train the jobs of the shared queue (TUNESMITH_JOB_RUNNER=rq)"),
    "bench": ("bench", "print the benchmark figures"),
}


class OneLineParser(argparse.ArgumentParser):
    """Refuses bad arguments with one line on stderr (`error: argument --tempo: ...`), exit 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    """The top parser: the command's name (each command's options are in `command_parser`)."""
    parser = OneLineParser(prog="python -m core", description="Tunesmith: make music with AI.")
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress details")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name, (_, help_text) in COMMANDS.items():
        sub.add_parser(name, help=help_text, description=help_text)
    return parser


def _command_module(name: str) -> ModuleType:
    return importlib.import_module(f"core.commands.{COMMANDS[name][0]}")


def command_parser(name: str) -> argparse.ArgumentParser:
    """The parser of one command, with the options its module adds."""
    sub = OneLineParser(prog=f"python -m core {name}", description=COMMANDS[name][1])
    sub.add_argument("-v", "--verbose", action="store_true", help="log progress details")
    _command_module(name).add_arguments(sub)
    return sub


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    parser = build_parser()
    # Parse the command name first, then let the command's own module add its arguments.
    known, _ = parser.parse_known_args(argv[:1] if argv and argv[0] in COMMANDS else argv)
    name = known.command
    module = _command_module(name)
    args = command_parser(name).parse_args(argv[1:])
    # After the arguments (so --help and usage errors read as before), before any work.
    for warning in unknown_settings():
        print(f"warning: {warning}", file=sys.stderr)
    unusable = check_settings()
    for problem in unusable:
        print(f"error: {problem}", file=sys.stderr)
    if unusable:
        return SETTINGS_REFUSED_EXIT
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    try:
        return int(module.run(args))
    except TunesmithError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
