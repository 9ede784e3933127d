"""Shared test setup: a data directory of the tests' own, and the fixture paths."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import pytest

REPO = Path(__file__).resolve().parent.parent
FIXTURES = REPO / "tests" / "fixtures"
MUSIC_FIXTURES = FIXTURES / "music"

# The piece cache is content-addressed, so tests may share one across runs (a second run of the
# suite skips music21 parsing); tests about caching use a tmp_path of their own.
os.environ.setdefault("TUNESMITH_DATA_DIR", str(REPO / ".data" / "test"))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

T = TypeVar("T")
POLL_S = 0.01


def wait_until(
    predicate: Callable[[], T],
    *,
    timeout_s: float,
    message: Callable[[], str] | str = "",
    poll_s: float = POLL_S,
) -> T:
    """Poll `predicate` every `poll_s` until it returns something truthy, and return that; fail
    the test once `timeout_s` has passed (with `message`, or a callable for one made then).

    Every test that waits for another thread or process waits with this: on the real
    condition, never a fixed sleep, and never without a deadline.
    """
    deadline = time.monotonic() + timeout_s
    while True:
        result = predicate()
        if result:
            return result
        if time.monotonic() > deadline:
            detail = message() if callable(message) else message
            raise AssertionError(f"not true within {timeout_s:g} s: {detail or predicate}")
        time.sleep(poll_s)


@pytest.fixture
def music_fixture():
    def path(name: str) -> Path:
        return MUSIC_FIXTURES / name

    return path


@pytest.fixture
def isolated_data_dir(tmp_path, monkeypatch) -> Path:
    """An empty data directory (no cache, no workspaces) for this test only."""
    monkeypatch.setenv("TUNESMITH_DATA_DIR", str(tmp_path / "data"))
    return tmp_path / "data"
