"""core/model/model_data: what a model folder keeps for its evaluation.

Grid: 4 steps per quarter note, a bar is 16 steps (4/4). A note is Note(onset, pitch, duration).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from core.errors import EvaluationError
from core.model.model_data import HELDOUT_FILE, read_heldout


def test_read_heldout_names_the_folder(tmp_path: Path) -> None:
    folder = tmp_path / "old model"
    folder.mkdir()
    with pytest.raises(EvaluationError, match="old model: no held-out pieces"):
        read_heldout(folder)
    (folder / HELDOUT_FILE).write_text('{"pieces": [{"name": "x"}]}')
    with pytest.raises(EvaluationError, match=f"old model: {HELDOUT_FILE} is corrupt"):
        read_heldout(folder)
