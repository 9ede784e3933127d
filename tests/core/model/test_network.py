"""The LSTM network (core.model.network): its config and its layer contract."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from core.model.network import ModelConfig, build_model


@pytest.fixture(autouse=True)
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("TUNESMITH_DATA_DIR", str(tmp_path / "data"))
    return tmp_path / "data"


def test_config_round_trip_and_validation() -> None:
    config = ModelConfig(embedding_dim=16, units=32, layers=3, dropout=0.1)
    assert ModelConfig.from_dict(json.loads(json.dumps(config.to_dict()))) == config
    with pytest.raises(ValueError):
        ModelConfig(layers=0)
    with pytest.raises(ValueError):
        ModelConfig(dropout=1.0)


def test_build_model_follows_the_contract() -> None:
    model = build_model(ModelConfig(embedding_dim=8, units=16, layers=2, dropout=0.2), 11)
    names = [layer.name for layer in model.layers]
    assert names == ["token_ids", "embedding", "lstm_0", "dropout_0", "lstm_1", "dropout_1",
                     "logits"]
    assert model.inputs[0].dtype == "int32"
    assert model.get_layer("lstm_0").recurrent_dropout == 0
    assert model.get_layer("logits").activation.__name__ == "linear"
    out = model(np.zeros((2, 5), dtype="int32"))
    assert tuple(out.shape) == (2, 5, 11)
