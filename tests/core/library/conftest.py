"""A workspace and a few real pieces of the bundled folk-tunes model (a piece takes 0.1 s)."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.generation import GenerationResult, Generator, SamplingSettings
from core.library import Kind, Library, PieceRecord
from core.model.bundled import STYLES
from core.storage.files import new_workspace_id, workspace_dir

FOLK = STYLES["folk-tunes"]
FAKE_AUDIO = b"OggS" + bytes(2_000)  # the library stores audio as it is given


@pytest.fixture(scope="session")
def folk() -> Generator:
    return Generator.from_folder(FOLK.path)


def make_piece(folk: Generator, seed: int, *, seconds: float = 6.0) -> GenerationResult:
    return folk.generate(SamplingSettings(length_tokens=None, length_s=seconds), seed=seed)


@pytest.fixture
def library(isolated_data_dir: Path) -> Library:
    return Library(workspace_dir(new_workspace_id()))


def keep(library: Library, result: GenerationResult, **extra) -> PieceRecord:
    options = {"kind": Kind.NEW, "style": FOLK.title, "style_name": FOLK.name,
               "audio": FAKE_AUDIO} | extra
    return library.add(result, **options)
