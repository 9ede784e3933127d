"""Helpers shared by the CLI commands."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from typing import Any

from core.settings import NumberRange

# Shared ranges with no constant in core/ to take them from.
MAX_GM_PROGRAM = 127  # General MIDI programs are 0..127
MAX_FILE_LIMIT = 1_000_000  # `--limit N` files: far above any collection; more is a typo


def print_json(obj: dict[str, Any]) -> None:
    """The one JSON object a `--json` command prints on stdout."""
    sys.stdout.write(json.dumps(obj, sort_keys=True) + "\n")
    sys.stdout.flush()


def print_error(message: str) -> None:
    print(f"error: {message}", file=sys.stderr)


def stderr_progress(done: int, total: int, info: str) -> None:
    """A progress line on stderr, so `--json` output on stdout stays one object."""
    print(f"[{done}/{total}] {info}", file=sys.stderr, flush=True)


class _InRange:
    """An argparse `type=`: the text as a number within `valid`, or one line that says why."""

    def __init__(self, valid: NumberRange) -> None:
        self.valid = valid

    def __call__(self, text: str) -> Any:
        try:
            return self.valid.parse(text)
        except ValueError:
            shown = text if text.isprintable() else repr(text)
            raise argparse.ArgumentTypeError(f"{self.valid.requirement()}, got {shown}") from None

    def __str__(self) -> str:
        """The range for an option's help: "from 20 to 300"."""
        return self.valid.describe()

    def __repr__(self) -> str:  # argparse names a type by it in some messages
        return f"number {self.valid.describe()}"


def in_range(valid: NumberRange) -> Callable[[str], Any]:
    """`type=` for a number within `valid` (a setting's range, say); `str()` is the range."""
    return _InRange(valid)


def int_in(low: int, high: int) -> Callable[[str], int]:
    """`type=` for a whole number from `low` to `high`; `str()` of it is the range in words."""
    return _InRange(NumberRange(low, high, whole=True))


def float_in(
    low: float, high: float, *, low_open: bool = False, high_open: bool = False
) -> Callable[[str], float]:
    """`type=` for a finite number from `low` to `high` (an open end itself is refused)."""
    return _InRange(NumberRange(low, high, low_open=low_open, high_open=high_open))


def seed_in(high: int | None = None) -> Callable[[str], int]:
    """`type=` for a seed: 0 up to the sampler's SEED_LIMIT - 1 (or `high`), short to read."""
    from core.generation.settings import SEED_LIMIT

    return int_in(0, SEED_LIMIT - 1 if high is None else high)
