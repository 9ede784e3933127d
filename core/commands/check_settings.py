"""`python -m core check-settings`: whether every TUNESMITH_* setting can be used.

The check itself runs before every command (core/cli.py): an unusable value is one line on
stderr and exit status 2, an unknown `TUNESMITH_*` name a warning line. So this command only
says that all is well; `./run.sh app` runs it before it starts the server.
"""

from __future__ import annotations

import argparse
import os

from core.settings import SETTINGS, TEXT_SETTINGS


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """No options: the settings are the environment's."""


def run(args: argparse.Namespace) -> int:
    names = [*SETTINGS, *TEXT_SETTINGS]
    given = sum(1 for name in names if os.environ.get(name, "").strip())
    print(f"every setting can be used ({given} of the {len(names)} TUNESMITH_* settings set)")
    return 0
