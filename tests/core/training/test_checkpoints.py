"""core/training/checkpoints: a run's state saved and read back; a write that stops half-way never
leaves something that looks like a checkpoint."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from core.training.checkpoints import (
    BEST_WEIGHTS_FILE,
    LAST_MODEL_FILE,
    STATE_FILE,
    TrainingState,
    has_checkpoint,
    read_checkpoint_state,
    write_checkpoint,
)

STATE = TrainingState(
    epochs_done=3,
    history=[{"epoch": 1.0, "val_loss": 2.5}, {"epoch": 2.0, "val_loss": 2.1}],
    best_val_loss=2.1,
    best_epoch=2,
    wait=1,
    baseline={"perplexity": 9.5},
    start={"epoch": 0.0, "val_loss": 2.9},
)


class FakeModel:
    """Stands in for a Keras model: writes `data` where it is asked to save, or fails there."""

    def __init__(self, data: bytes, *, fail_with: BaseException | None = None) -> None:
        self.data = data
        self.fail_with = fail_with

    def _write(self, path: Path) -> None:
        Path(path).write_bytes(self.data[: len(self.data) // 2])  # half written, then...
        if self.fail_with is not None:
            raise self.fail_with
        Path(path).write_bytes(self.data)

    save = save_weights = _write


def test_a_state_round_trips_through_a_checkpoint(tmp_path: Path) -> None:
    folder = tmp_path / "checkpoint"
    write_checkpoint(folder, FakeModel(b"last"), FakeModel(b"best"), STATE)
    assert has_checkpoint(folder)
    assert read_checkpoint_state(folder) == STATE
    assert (folder / LAST_MODEL_FILE).read_bytes() == b"last"
    assert (folder / BEST_WEIGHTS_FILE).read_bytes() == b"best"


def test_no_best_loss_yet_is_written_as_null_and_read_as_infinity(tmp_path: Path) -> None:
    folder = tmp_path / "checkpoint"
    write_checkpoint(folder, FakeModel(b"last"), FakeModel(b"best"), TrainingState())
    assert json.loads((folder / STATE_FILE).read_text())["best_val_loss"] is None  # strict JSON
    state = read_checkpoint_state(folder)
    assert state == TrainingState() and math.isinf(state.best_val_loss)


def test_no_checkpoint_reads_as_none(tmp_path: Path) -> None:
    assert not has_checkpoint(tmp_path / "nothing") and read_checkpoint_state(tmp_path) is None
    (tmp_path / STATE_FILE).write_text(json.dumps(STATE.to_dict()))
    assert not has_checkpoint(tmp_path)  # a state without its model is no checkpoint


@pytest.mark.parametrize("interruption", [OSError(28, "No space left on device"),
                                          KeyboardInterrupt()])
def test_an_interrupted_write_never_looks_valid(tmp_path: Path, interruption) -> None:
    folder = tmp_path / "checkpoint"
    with pytest.raises(type(interruption)):
        write_checkpoint(folder, FakeModel(b"last"), FakeModel(b"best", fail_with=interruption),
                         STATE)
    assert not has_checkpoint(folder) and read_checkpoint_state(folder) is None
    assert list(tmp_path.iterdir()) == []  # no half-written folder under any name

    # Over a good checkpoint, a failed write leaves the good one whole.
    write_checkpoint(folder, FakeModel(b"last"), FakeModel(b"best"), STATE)
    later = TrainingState(epochs_done=4, history=[*STATE.history, {"epoch": 3.0}])
    with pytest.raises(type(interruption)):
        write_checkpoint(folder, FakeModel(b"new last", fail_with=interruption),
                         FakeModel(b"new best"), later)
    assert has_checkpoint(folder) and read_checkpoint_state(folder) == STATE
    assert (folder / LAST_MODEL_FILE).read_bytes() == b"last"
    assert [p.name for p in tmp_path.iterdir()] == ["checkpoint"]
