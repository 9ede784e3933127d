"""Shared test setup: a data directory of the tests' own, and the fixture paths."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
FIXTURES = REPO / "tests" / "fixtures"
MUSIC_FIXTURES = FIXTURES / "music"

# The piece cache is content-addressed, so tests may share one across runs (a second run of the
# suite skips music21 parsing); tests about caching use a tmp_path of their own.
os.environ.setdefault("TUNESMITH_DATA_DIR", str(REPO / ".data" / "test"))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


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
