"""numpy's BLAS on one thread while the network steps, for as long as any user needs it."""

from __future__ import annotations

from pathlib import Path

import pytest
from threadpoolctl import threadpool_info

from core.generation.generator import Generator
from core.generation.settings import SamplingSettings
from core.model.blas import one_blas_thread
from tests.core._generation_fixtures import make_tiny_model_folder


def blas_threads() -> set[int]:
    return {i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"}


def test_the_one_thread_limit_holds_until_the_last_user_ends() -> None:
    """threadpoolctl's limit is process-wide: two users at once (two visitors) must not lift
    it for each other."""
    before = blas_threads()
    first, second = one_blas_thread(), one_blas_thread()
    first.__enter__()
    second.__enter__()
    first.__exit__(None, None, None)  # the first visitor's work ends...
    assert blas_threads() == {1}  # ...the second's still runs on one thread
    second.__exit__(None, None, None)
    assert blas_threads() == before


def test_a_piece_is_written_on_one_blas_thread(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    generator = Generator.from_folder(make_tiny_model_folder(tmp_path / "tiny"))
    before = blas_threads()
    seen: set[int] = set()
    step = generator.step_model.step

    def watched(token_id, state):
        seen.update(blas_threads())
        return step(token_id, state)

    monkeypatch.setattr(generator.step_model, "step", watched)
    generator.generate(SamplingSettings(length_tokens=20), seed=1)
    assert seen == {1}
    assert blas_threads() == before
