"""Helpers shared by the CLI commands."""

from __future__ import annotations

import json
import sys
from typing import Any


def print_json(obj: dict[str, Any]) -> None:
    """The one JSON object a `--json` command prints on stdout."""
    sys.stdout.write(json.dumps(obj, sort_keys=True) + "\n")
    sys.stdout.flush()


def print_error(message: str) -> None:
    print(f"error: {message}", file=sys.stderr)


def stderr_progress(done: int, total: int, info: str) -> None:
    """A progress line on stderr, so `--json` output on stdout stays one object."""
    print(f"[{done}/{total}] {info}", file=sys.stderr, flush=True)
