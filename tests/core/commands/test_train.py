"""`python -m core train`, in-process: a run whose options together ask for more memory than a
run may take is refused with one sentence before it starts."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from core.cli import main
from core.commands import train
from core.model.network import ModelConfig
from core.training.config import TrainingConfig
from core.training.data import make_windows
from core.training.presets import TRAINING_PRESETS


def refusal(capsys: pytest.CaptureFixture[str], argv: list[str]) -> str:
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "Traceback" not in err[0], err
    return err[0]


@pytest.mark.parametrize(
    ("lengths", "sequence_length", "stride"),
    [
        ([1, 2, 10, 11, 12, 40], 10, 10),
        ([1, 2, 10, 11, 12, 40], 10, 1),
        ([300, 77], 16, 3),
        ([5], 64, 64),
        ([], 8, 8),
    ],
)
def test_window_ids_counts_what_make_windows_cuts(
    lengths: list[int], sequence_length: int, stride: int
) -> None:
    windows = make_windows(
        [list(range(n)) for n in lengths], length=sequence_length + 1, stride=stride
    )
    assert train.window_ids(lengths, sequence_length=sequence_length, stride=stride) == (
        windows.size
    )


def test_the_presets_runs_fit_with_room() -> None:
    for preset in TRAINING_PRESETS.values():
        for model in (preset.model, ModelConfig(embedding_dim=64, units=384, layers=2)):
            assert train.training_mb(model, preset.training) < train.MAX_TRAINING_MB / 8
            assert train.too_big(model, preset.training) is None


def test_too_long_windows_for_the_base_model_are_refused_before_the_data_is_read(
    capsys, tmp_path: Path, monkeypatch
) -> None:
    def no_data(*args, **kwargs):
        raise AssertionError("the data was read")

    monkeypatch.setattr("core.data.datasets.load_dataset", no_data)
    line = refusal(
        capsys,
        [
            "train",
            "--data",
            "bach-chorales",
            "--out",
            str(tmp_path / "m"),
            "--sequence-length",
            "4096",
        ],
    )
    assert line.startswith("error: this training would take about 4,")
    assert "batches of 32 windows of 4096 tokens through 2 layers of 384 units" in line
    assert line.endswith(
        "lower --batch-size, --sequence-length or --units, or raise --window-stride"
    )
    assert not (tmp_path / "m").exists()


def test_a_huge_network_from_scratch_is_refused(capsys, tmp_path: Path) -> None:
    line = refusal(
        capsys,
        [
            "train",
            "--data",
            "bach-chorales",
            "--out",
            str(tmp_path / "m"),
            "--from-scratch",
            "--units",
            "2048",
            "--layers",
            "8",
            "--batch-size",
            "1",
        ],
    )
    assert "through 8 layers of 2048 units" in line


def test_windows_cut_too_finely_are_refused_once_the_data_is_known(
    capsys, tmp_path: Path, monkeypatch
) -> None:
    model = ModelConfig(embedding_dim=64, units=384, layers=2)
    config = TrainingConfig(sequence_length=128, batch_size=32)
    step_mb = train.training_mb(model, config)
    monkeypatch.setattr(train, "MAX_TRAINING_MB", step_mb + 5)  # the step fits, 5 MB to spare
    line = refusal(
        capsys,
        [
            "train",
            "--data",
            "bach-chorales",
            "--out",
            str(tmp_path / "m"),
            "--limit",
            "40",
            "--batch-size",
            "32",
            "--sequence-length",
            "128",
            "--window-stride",
            "1",
        ],
    )
    assert "and its windows" in line and "raise --window-stride" in line
    assert not (tmp_path / "m").exists()


def test_the_estimate_grows_with_each_option() -> None:
    model = ModelConfig(embedding_dim=32, units=64, layers=1)
    config = TrainingConfig(sequence_length=64, batch_size=8)
    base = train.training_mb(model, config)
    bigger = [
        train.training_mb(ModelConfig(embedding_dim=32, units=128, layers=1), config),
        train.training_mb(ModelConfig(embedding_dim=32, units=64, layers=2), config),
        train.training_mb(model, TrainingConfig(sequence_length=128, batch_size=8)),
        train.training_mb(model, TrainingConfig(sequence_length=64, batch_size=16)),
        train.training_mb(model, config, window_ids=1_000_000),
    ]
    assert all(b > base for b in bigger)
    assert np.isclose(bigger[-1] - base, 8.0)  # 8 bytes an id
