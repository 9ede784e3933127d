"""Limits an operator may change: each is an environment variable with a named default.

Read at the moment of use (not at import), so a test or a server restart picks up a new value.
A value that is not a number is ignored with a warning rather than taking the server down.
"""

from __future__ import annotations

import logging
import os

log = logging.getLogger(__name__)


def number_setting(env: str, default: float, *, minimum: float = 0.0) -> float:
    """`env` as a number of at least `minimum`; `default` when unset or not a number."""
    raw = os.environ.get(env)
    if raw is None or not raw.strip():
        return default
    try:
        return max(float(raw), minimum)
    except ValueError:
        log.warning("ignoring %s=%r (not a number)", env, raw)
        return default


def count_setting(env: str, default: int, *, minimum: int = 1) -> int:
    """`env` as a whole number of at least `minimum`."""
    return int(number_setting(env, default, minimum=minimum))
