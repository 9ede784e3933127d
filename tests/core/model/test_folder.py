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
    with pytest.raises(InvalidModelError, match=rf"^m: {file} is not usable: "):
        read_model_info(path)
    with pytest.raises(InvalidModelError):
        zip_to_model_folder(model_folder_to_zip(path), tmp_path / "up", name="m.zip")
    assert not (tmp_path / "up").exists()


@pytest.mark.parametrize(
    ("file", "content", "reason"),
    [
        ("metrics.json", {"parameters": "lots"}, "metrics.json is not usable: 'parameters'"),
        ("metrics.json", {"history": [{"val_loss": 1.0}]},
         "metrics.json is not usable: 'history[0].epoch' must be present"),
        ("music.json", {"tempo_bpm": "120", "chord_onset_share": 0.0, "max_notes_per_onset": 1,
                        "pitch_low": 50, "pitch_high": 70, "pieces": 3},
         "music.json is not usable: 'tempo_bpm'"),
        ("encoding.json", {"steps_per_quarter": 4.5}, "encoding.json is not usable"),
        ("vocab.json", {"PAD": 0, "UNK": 1, "BOS": 2, "EOS": 3, "Q1": 4},
         "vocab.json is not usable: 'Q1'"),
    ],
)
def test_a_zip_with_a_wrong_field_is_refused_naming_the_zip_the_file_and_the_field(
    tmp_path: Path, file: str, content: object, reason: str
) -> None:
    """The probe's zip: strings where numbers go were accepted and took the Train page down."""
    import json

    from core.model.folder import model_folder_to_zip, zip_to_model_folder

    path, _ = _save(tmp_path / "m")
    (path / file).write_text(json.dumps(content))
    with pytest.raises(InvalidModelError) as error:
        zip_to_model_folder(model_folder_to_zip(path), tmp_path / "up", name="mine.zip")
    assert str(error.value).startswith(f"mine.zip: {reason}")
    assert str(tmp_path) not in str(error.value)
    assert not (tmp_path / "up").exists() and not list(tmp_path.glob(".upload-*"))
    with pytest.raises(InvalidModelError) as error:  # planted in a workspace: read as broken
        load_model_folder(path)
    assert str(error.value).startswith(f"m: {reason}")


def test_a_zip_s_unpacked_size_is_offered_to_a_check_before_anything_is_written(
    tmp_path: Path,
) -> None:
    import io
    import zipfile

    from core.errors import QuotaError
    from core.model.folder import model_folder_to_zip, zip_to_model_folder

    path, _ = _save(tmp_path / "m")
    data = model_folder_to_zip(path)
    unpacked = sum(i.file_size for i in zipfile.ZipFile(io.BytesIO(data)).infolist())
    seen: list[int] = []

    def full(size: int) -> None:
        seen.append(size)
        raise QuotaError("mine.zip does not fit in your space")

    (tmp_path / "models").mkdir()
    with pytest.raises(QuotaError):
        zip_to_model_folder(data, tmp_path / "models" / "Up", name="mine.zip", before_unpack=full)
    assert seen == [unpacked] and unpacked > len(data)  # the unpacked size, not the zip's
    assert list((tmp_path / "models").iterdir()) == []


def test_a_damaged_zip_is_refused_in_a_sentence(tmp_path: Path) -> None:
    from core.model.folder import model_folder_to_zip, zip_to_model_folder

    path, _ = _save(tmp_path / "m")
    data = bytearray(model_folder_to_zip(path))
    start = data.index(b"PK\x03\x04")
    data[start + 200 : start + 260] = bytes(60)  # inside the first member's compressed bytes
    with pytest.raises(InvalidModelError, match=r"^mine\.zip: the zip is damaged"):
        zip_to_model_folder(bytes(data), tmp_path / "up", name="mine.zip")
    assert not (tmp_path / "up").exists()


@pytest.mark.parametrize(
    "config", [ModelConfig(embedding_dim=8, units=16, layers=1), ModelConfig(),
               ModelConfig(embedding_dim=32, units=128, layers=3)],
)
def test_the_size_of_a_network_is_known_before_it_is_built(tmp_path: Path, config) -> None:
    """What the quota of a training job counts (core.jobs.lifecycle.job_room_bytes)."""
    from core.model.folder import parameter_count, weights_file_bytes

    model = build_model(config, 172)
    assert parameter_count(config, vocab_size=172) == model.count_params()
    model.save(tmp_path / "model.keras")
    size = (tmp_path / "model.keras").stat().st_size
    assert size <= weights_file_bytes(config, vocab_size=172) <= size + 100_000


def test_a_zip_compressed_by_block_is_refused_before_unpacking(tmp_path: Path) -> None:
    import io
    import zipfile

    from core.model.folder import zip_to_model_folder

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_LZMA) as archive:
        archive.writestr("m/model.keras", bytes(1000))
    with pytest.raises(InvalidModelError, match=r"^x\.zip: compressed in a way"):
        zip_to_model_folder(buffer.getvalue(), tmp_path / "X", name="x.zip")
    assert list(tmp_path.iterdir()) == []
