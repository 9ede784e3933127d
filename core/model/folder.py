"""The model folder: everything needed to use a trained model again.

A model folder holds `model.keras`, `encoding.json`, `vocab.json`, `config.json`, `metrics.json`
and `checkpoint/` (the last training state, so a finished training can be continued); it can be
listed, renamed, deleted, zipped and unzipped.
"""

from __future__ import annotations

import io
import json
import logging
import os
import shutil
import tempfile
import uuid
import zipfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from core.errors import InvalidModelError, InvalidSettingError
from core.storage.files import atomic_dir, atomic_write_json
from core.tokens.config import EncodingConfig
from core.tokens.vocabulary import Vocabulary

if TYPE_CHECKING:  # TensorFlow is imported only where a network is built or loaded, so
    import keras  # pages can list, rename and zip model folders without paying for it
from core.model.network import ModelConfig, _output_size

log = logging.getLogger(__name__)


MODEL_FILE = "model.keras"

ENCODING_FILE = "encoding.json"

VOCAB_FILE = "vocab.json"

CONFIG_FILE = "config.json"

METRICS_FILE = "metrics.json"

CHECKPOINT_DIR = "checkpoint"

REQUIRED_FILES = (MODEL_FILE, ENCODING_FILE, VOCAB_FILE, CONFIG_FILE)

MODEL_FOLDER_VERSION = 1


@dataclass(frozen=True)
class TrainedModel:
    """A loaded model folder."""

    keras_model: keras.Model
    encoding: EncodingConfig
    vocab: Vocabulary
    config: ModelConfig
    metrics: dict[str, Any]
    training: dict[str, Any] = field(default_factory=dict)  # TrainingConfig.to_dict()
    path: Path | None = None


def save_model_folder(
    path: Path,
    *,
    keras_model: keras.Model,
    encoding: EncodingConfig,
    vocab: Vocabulary,
    config: ModelConfig,
    training: Mapping[str, Any],
    metrics: Mapping[str, Any],
    checkpoint_dir: Path | None = None,
    write_extra: Callable[[Path], None] | None = None,
) -> Path:
    """Write a model folder atomically: it appears complete under `path`, or not at all.

    `training` is `TrainingConfig.to_dict()`; `checkpoint_dir`, when given, is copied in as
    `checkpoint/` so the training can be continued later; `write_extra(folder)` adds files of
    other concerns (the evaluation's held-out pieces) inside the same atomic write.
    """
    vocab_size = _output_size(keras_model)
    if vocab_size != len(vocab):
        raise ValueError(f"model predicts {vocab_size} tokens, vocabulary has {len(vocab)}")
    with atomic_dir(Path(path)) as tmp:
        keras_model.save(tmp / MODEL_FILE)
        encoding.save(tmp / ENCODING_FILE)
        vocab.save(tmp / VOCAB_FILE)
        atomic_write_json(
            tmp / CONFIG_FILE,
            {
                "version": MODEL_FOLDER_VERSION,
                "model": config.to_dict(),
                "training": dict(training),
            },
        )
        atomic_write_json(tmp / METRICS_FILE, dict(metrics))
        if checkpoint_dir is not None and Path(checkpoint_dir).is_dir():
            shutil.copytree(checkpoint_dir, tmp / CHECKPOINT_DIR)
        if write_extra is not None:
            write_extra(tmp)
    log.info("saved model folder %s", path)
    return Path(path)


def read_model_info(path: Path) -> dict[str, Any]:
    """config.json and metrics.json of a model folder, without loading TensorFlow weights.

    Raises:
        InvalidModelError: a required file is missing or a JSON file is corrupt.
    """
    path = Path(path)
    missing = [name for name in REQUIRED_FILES if not (path / name).is_file()]
    if missing:
        raise InvalidModelError(f"{path.name}: not a model folder (missing {', '.join(missing)})")
    try:
        config = json.loads((path / CONFIG_FILE).read_text())
        metrics_path = path / METRICS_FILE
        metrics = json.loads(metrics_path.read_text()) if metrics_path.is_file() else {}
        # Every file is checked for its shape too: an uploaded folder is anyone's JSON.
        if not isinstance(config, dict) or not isinstance(config.get("model"), dict):
            raise TypeError(f"{CONFIG_FILE} must hold an object with a 'model' object")
        if not isinstance(config.get("training", {}), dict):
            raise TypeError(f"{CONFIG_FILE}: 'training' must be an object")
        if not isinstance(metrics, dict):
            raise TypeError(f"{METRICS_FILE} must hold an object")
        model_config = ModelConfig.from_dict(config["model"])
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise InvalidModelError(f"{path.name}: corrupt model description ({error})") from error
    return {
        "model": model_config.to_dict(),
        "training": config.get("training", {}),
        "metrics": metrics,
    }


def read_encoding_and_vocab(path: Path) -> tuple[EncodingConfig, Vocabulary]:
    """A model folder's encoding and vocabulary, without its network.

    Raises:
        InvalidModelError: either file is missing or corrupt.
    """
    path = Path(path)
    try:
        return EncodingConfig.load(path / ENCODING_FILE), Vocabulary.load(path / VOCAB_FILE)
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise InvalidModelError(f"{path.name}: corrupt encoding or vocabulary ({error})") from error


def load_model_folder(path: Path) -> TrainedModel:
    """Load a model folder written by `save_model_folder` (Keras `safe_mode=True`).

    Raises:
        InvalidModelError: the folder is incomplete, corrupt or does not match its vocabulary.
    """
    import keras

    path = Path(path)
    info = read_model_info(path)
    encoding, vocab = read_encoding_and_vocab(path)
    try:
        keras_model = keras.saving.load_model(path / MODEL_FILE, compile=False, safe_mode=True)
    except Exception as error:  # Keras raises many kinds (ValueError, OSError, zipfile errors)
        raise InvalidModelError(f"{path.name}: {MODEL_FILE} cannot be loaded ({error})") from error
    if not isinstance(keras_model, keras.Model) or _output_size(keras_model) != len(vocab):
        raise InvalidModelError(f"{path.name}: the network does not match vocab.json")
    return TrainedModel(
        keras_model=keras_model,
        encoding=encoding,
        vocab=vocab,
        config=ModelConfig.from_dict(info["model"]),
        metrics=info["metrics"],
        training=info["training"],
        path=path,
    )


MAX_ZIP_BYTES = 200 * 1024 * 1024  # uncompressed; a default model is about 5 MB

MAX_ZIP_FILES = 64

ZIP_EXCLUDED = (CHECKPOINT_DIR,)  # downloads hold the model, not the training state


def list_model_folders(parent: Path) -> list[Path]:
    """Model folders directly under `parent` (those with every required file), by name."""
    if not Path(parent).is_dir():
        return []
    return sorted(
        (
            p
            for p in Path(parent).iterdir()
            if p.is_dir()
            and not p.name.startswith(".")
            and all((p / name).is_file() for name in REQUIRED_FILES)
        ),
        key=lambda p: p.name.lower(),
    )


def rename_model_folder(path: Path, new_name: str) -> Path:
    """Rename a model folder in place; refuses names that are taken or not plain names."""
    path = Path(path)
    if not new_name or new_name != Path(new_name).name or new_name.startswith("."):
        raise InvalidSettingError(f"not a usable model name: {new_name!r}")
    target = path.with_name(new_name)
    if target.exists():
        raise InvalidSettingError(f"a model named {new_name!r} already exists")
    path.rename(target)
    return target


def delete_model_folder(path: Path) -> None:
    """Remove a model folder: first renamed to a hidden name (atomic), so a failure half-way
    never leaves a half-deleted model that still looks usable."""
    path = Path(path)
    hidden = path.with_name(f".{path.name}.deleted-{uuid.uuid4().hex[:8]}")
    os.replace(path, hidden)
    shutil.rmtree(hidden, ignore_errors=True)


def model_folder_to_zip(path: Path) -> bytes:
    """The model folder as zip bytes, its files under one folder named after the model."""
    path = Path(path)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for file in sorted(path.rglob("*")):
            relative = file.relative_to(path)
            if file.is_file() and relative.parts[0] not in ZIP_EXCLUDED:
                archive.write(file, f"{path.name}/{relative.as_posix()}")
    return buffer.getvalue()


def zip_to_model_folder(data: bytes, destination: Path, *, name: str) -> Path:
    """Unpack an uploaded model zip into `destination` (a new folder), after validating it.

    The zip may hold the model files at its root or under one folder. It is unpacked into a
    temporary folder, loaded with `load_model_folder` (so a corrupt model never lands), then
    moved into place.

    Raises:
        InvalidModelError: not a zip, unsafe paths, too large, or not a loadable model folder.
    """
    destination = Path(destination)
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile as error:
        raise InvalidModelError(f"{name}: not a zip file") from error
    with archive:
        members = [m for m in archive.infolist() if not m.is_dir()]
        if len(members) > MAX_ZIP_FILES:
            raise InvalidModelError(f"{name}: too many files for a model folder")
        if sum(m.file_size for m in members) > MAX_ZIP_BYTES:
            raise InvalidModelError(f"{name}: larger than {MAX_ZIP_BYTES // 2**20} MB unpacked")
        for member in members:
            parts = Path(member.filename).parts
            if member.filename.startswith(("/", "\\")) or ".." in parts or not parts:
                raise InvalidModelError(f"{name}: unsafe path {member.filename!r} in the zip")
        with tempfile.TemporaryDirectory(dir=destination.parent, prefix=".upload-") as tmp:
            root = Path(tmp) / "unpacked"
            for member in members:
                target = root / member.filename
                target.parent.mkdir(parents=True, exist_ok=True)
                with archive.open(member) as source, open(target, "wb") as sink:
                    shutil.copyfileobj(source, sink)
            folder = _model_root(root, name)
            load_model_folder(folder)  # raises InvalidModelError with the reason
            if destination.exists():
                raise InvalidModelError(f"{name}: a model named {destination.name} already exists")
            shutil.move(str(folder), destination)
    return destination


def _model_root(root: Path, name: str) -> Path:
    if (root / MODEL_FILE).is_file():
        return root
    children = [p for p in root.iterdir() if p.is_dir() and not p.name.startswith("__MACOSX")]
    if len(children) == 1 and (children[0] / MODEL_FILE).is_file():
        return children[0]
    raise InvalidModelError(
        f"{name}: no model folder inside (expected {', '.join(REQUIRED_FILES)})"
    )
