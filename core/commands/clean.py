"""`python -m core clean [--json]`: delete idle workspaces and trim the parse cache.

The limits are the settings of `core.housekeeping` (TUNESMITH_WORKSPACE_IDLE_DAYS,
TUNESMITH_MAX_CACHE_MB); the app runs the same once per server process. Like every command it
does not run while a setting is unusable (core/cli.py); no workspace touched within a day is
deleted whatever the settings, and each deletion is a line on stderr (the log).
"""

from __future__ import annotations

import argparse
from dataclasses import asdict

from core.commands._common import print_json


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print one JSON object on stdout")


def run(args: argparse.Namespace) -> int:
    from core.housekeeping import clean_up

    result = clean_up()
    if args.json:
        print_json(asdict(result))
    else:
        print(
            f"deleted {result.workspaces_deleted} idle workspace(s) and "
            f"{result.cache_files_deleted} cache file(s) and {result.published_deleted} expired "
            f"shared piece(s); the cache holds {result.cache_mb_after:.1f} MB"
        )
    return 0
