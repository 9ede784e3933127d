"""The model folder (core.model.folder): save/load gives the same predictions; bad folders and
zips are refused."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from core.errors import InvalidModelError
from core.model.folder import load_model_folder, read_model_info, save_model_folder
from core.model.network import ModelConfig, build_model
from core.tokens.config import EncodingConfig
from core.tokens.vocabulary import Vocabulary

VOCAB = Vocabulary.build([["T4", "P60", "D4", "P64", "D2", "P67", "D1"]])


@pytest.fixture(autouse=True)
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("TUNESMITH_DATA_DIR", str(tmp_path / "data"))
    return tmp_path / "data"


def _save(path: Path) -> tuple[Path, np.ndarray]:
    model = build_model(ModelConfig(embedding_dim=8, units=16, layers=1), len(VOCAB))
    x = np.array([[2, 5, 6, 7, 8]], dtype="int32")
    expected = np.asarray(model(x))
    save_model_folder(path, keras_model=model, encoding=EncodingConfig(), vocab=VOCAB,
                      config=ModelConfig(embedding_dim=8, units=16, layers=1),
                      training={"epochs": 1}, metrics={"val_loss": 1.0})
    return path, expected


def test_save_load_gives_identical_predictions(tmp_path: Path) -> None:
    path, expected = _save(tmp_path / "m")
    loaded = load_model_folder(path)
    x = np.array([[2, 5, 6, 7, 8]], dtype="int32")
    np.testing.assert_allclose(np.asarray(loaded.keras_model(x)), expected, atol=1e-6)
    assert loaded.vocab == VOCAB
    assert loaded.config.units == 16
    assert loaded.metrics["val_loss"] == 1.0
    assert read_model_info(path)["training"] == {"epochs": 1}


def test_incomplete_or_corrupt_folders_are_refused(tmp_path: Path) -> None:
    path, _ = _save(tmp_path / "m")
    (path / "model.keras").write_bytes(b"not a zip")
    with pytest.raises(InvalidModelError, match=r"model\.keras"):
        load_model_folder(path)
    (path / "vocab.json").unlink()
    with pytest.raises(InvalidModelError, match=r"vocab\.json"):
        load_model_folder(path)
    with pytest.raises(InvalidModelError):
        load_model_folder(tmp_path / "nothing")


def test_vocabulary_mismatch_is_refused(tmp_path: Path) -> None:
    path, _ = _save(tmp_path / "m")
    Vocabulary((*VOCAB.tokens, "P99")).save(path / "vocab.json")
    with pytest.raises(InvalidModelError, match="vocab"):
        load_model_folder(path)


def test_zip_round_trip_and_refusals(tmp_path: Path) -> None:
    import io
    import zipfile

    from core.model.folder import (
        list_model_folders,
        model_folder_to_zip,
        rename_model_folder,
        zip_to_model_folder,
    )

    path, expected = _save(tmp_path / "models" / "Mine")
    (path / "checkpoint").mkdir()
    (path / "checkpoint" / "state.json").write_text("{}")
    data = model_folder_to_zip(path)
    assert not any("checkpoint" in n for n in zipfile.ZipFile(io.BytesIO(data)).namelist())
    copy = zip_to_model_folder(data, tmp_path / "models" / "Copy", name="mine.zip")
    x = np.array([[2, 5, 6, 7, 8]], dtype="int32")
    np.testing.assert_allclose(np.asarray(load_model_folder(copy).keras_model(x)), expected,
                               atol=1e-6)
    assert [p.name for p in list_model_folders(tmp_path / "models")] == ["Copy", "Mine"]
    assert rename_model_folder(copy, "Renamed").name == "Renamed"
    with pytest.raises(ValueError):
        rename_model_folder(path, "../escape")

    with pytest.raises(InvalidModelError, match="not a zip"):
        zip_to_model_folder(b"hello", tmp_path / "models" / "X", name="x.zip")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("../evil.txt", "x")
    with pytest.raises(InvalidModelError, match="unsafe"):
        zip_to_model_folder(buffer.getvalue(), tmp_path / "models" / "X", name="x.zip")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("notes.txt", "just text")
    with pytest.raises(InvalidModelError, match="no model folder"):
        zip_to_model_folder(buffer.getvalue(), tmp_path / "models" / "X", name="x.zip")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name in ("model.keras", "encoding.json", "vocab.json", "config.json"):
            archive.writestr(f"m/{name}", "{}")
    with pytest.raises(InvalidModelError):
        zip_to_model_folder(buffer.getvalue(), tmp_path / "models" / "X", name="x.zip")
    assert not (tmp_path / "models" / "X").exists()


@pytest.mark.parametrize(
    "file, content",
    [("metrics.json", "[]"), ("config.json", "[]"), ("config.json", '{"model": 3}'),
     ("config.json", '{"model": {}, "training": []}')],
)
def test_json_of_the_wrong_shape_is_refused_by_name(tmp_path: Path, file: str, content: str):
    """An uploaded folder is anyone's JSON: a list where an object belongs is refused, never
    carried on into pages that would crash on it."""
    from core.model.folder import model_folder_to_zip, zip_to_model_folder

    path, _ = _save(tmp_path / "m")
    (path / file).write_text(content)
    with pytest.raises(InvalidModelError, match=rf"^m: corrupt model description .*{file}"):
        read_model_info(path)
    with pytest.raises(InvalidModelError):
        zip_to_model_folder(model_folder_to_zip(path), tmp_path / "up", name="m.zip")
    assert not (tmp_path / "up").exists()
