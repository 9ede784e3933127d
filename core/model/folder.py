"""The model folder: everything needed to use a trained model again.

A model folder holds `model.keras`, `encoding.json`, `vocab.json`, `config.json`, `metrics.json`
and `checkpoint/` (the last training state, so a finished training can be continued); it can be
listed, renamed, deleted, zipped and unzipped.
"""

from __future__ import annotations

import io
import logging
import os
import shutil
import tempfile
import uuid
import zipfile
import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from core.errors import InvalidModelError, InvalidSettingError
from core.model.metadata import (
    CONFIG_FILE,
    ENCODING_FILE,
    METRICS_FILE,
    MODEL_FOLDER_VERSION,
    MUSIC_FILE,
    VOCAB_FILE,
    MetadataError,
    check_config,
    check_encoding,
    check_metrics,
    check_music,
    check_vocab,
    read_json,
)
from core.storage.files import atomic_dir, atomic_write_json
from core.tokens.config import EncodingConfig
from core.tokens.vocabulary import Vocabulary

if TYPE_CHECKING:  # TensorFlow is imported only where a network is built or loaded, so
    import keras  # pages can list, rename and zip model folders without paying for it
from core.model.network import ModelConfig, _output_size

log = logging.getLogger(__name__)


MODEL_FILE = "model.keras"

CHECKPOINT_DIR = "checkpoint"

REQUIRED_FILES = (MODEL_FILE, ENCODING_FILE, VOCAB_FILE, CONFIG_FILE)


BYTES_PER_WEIGHT = 4  # Keras keeps and saves float32 weights
# A .keras or .weights.h5 file's own structure beside its weights: measured 22 to 66 KB, from
# the tests' tiny network to the largest the Train page offers.
WEIGHTS_FILE_OVERHEAD_BYTES = 100_000
# What a model folder holds besides its network: heldout.json, training_notes.npz, primers.json,
# music.json and the descriptions. Measured 0.9 MB for the base model, trained on both built-in
# collections.
MODEL_DATA_ROOM_BYTES = 2_000_000


def parameter_count(config: ModelConfig, *, vocab_size: int) -> int:
    """The weights of `build_model(config, vocab_size)` (its `count_params()`), without
    building it: the embedding, each LSTM layer's four gates, the output layer."""
    embedding = vocab_size * config.embedding_dim
    lstm = 0
    inputs = config.embedding_dim
    for _ in range(config.layers):
        lstm += 4 * (inputs * config.units + config.units * config.units + config.units)
        inputs = config.units
    output = config.units * vocab_size + vocab_size
    return embedding + lstm + output


def weights_file_bytes(config: ModelConfig, *, vocab_size: int) -> int:
    """The size of `model.keras` (or a `.weights.h5`) of this network: its weights, once."""
    weights = parameter_count(config, vocab_size=vocab_size) * BYTES_PER_WEIGHT
    return weights + WEIGHTS_FILE_OVERHEAD_BYTES


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


def read_model_info(path: Path, *, label: str | None = None) -> dict[str, Any]:
    """config.json, metrics.json and music.json of a model folder, without loading TensorFlow
    weights. Every field is checked (`core.model.metadata`) and only checked fields are
    returned, so a page can format and compute with them.

    Returns:
        {"model": ModelConfig.to_dict(), "training": {...}, "metrics": {...},
         "music": MusicSummary or None}.

    Raises:
        InvalidModelError: a required file is missing, or a file is unreadable, corrupt or has
            a wrong field; one sentence naming the folder (or `label`), the file and the field.
    """
    path = Path(path)
    label = label or path.name
    missing = [name for name in REQUIRED_FILES if not (path / name).is_file()]
    if missing:
        raise InvalidModelError(f"{label}: not a model folder (missing {', '.join(missing)})")
    try:
        model_config, training = check_config(read_json(path / CONFIG_FILE))
        metrics_path, music_path = path / METRICS_FILE, path / MUSIC_FILE
        metrics = check_metrics(read_json(metrics_path)) if metrics_path.is_file() else {}
        music = check_music(read_json(music_path)) if music_path.is_file() else None
    except MetadataError as error:
        raise InvalidModelError(f"{label}: {str(error).rstrip('.')}.") from error
    except OSError as error:
        log.warning("cannot read the description of %s: %s", path, error)
        raise InvalidModelError(f"{label}: its description cannot be read.") from error
    return {
        "model": model_config.to_dict(),
        "training": training,
        "metrics": metrics,
        "music": music,
    }


def read_encoding_and_vocab(
    path: Path, *, label: str | None = None
) -> tuple[EncodingConfig, Vocabulary]:
    """A model folder's encoding and vocabulary, without its network.

    Raises:
        InvalidModelError: either file is missing, corrupt or has a wrong field.
    """
    path = Path(path)
    label = label or path.name
    try:
        encoding = check_encoding(read_json(path / ENCODING_FILE))
        return encoding, check_vocab(read_json(path / VOCAB_FILE), encoding)
    except MetadataError as error:
        raise InvalidModelError(f"{label}: {str(error).rstrip('.')}.") from error
    except OSError as error:
        log.warning("cannot read the encoding of %s: %s", path, error)
        raise InvalidModelError(
            f"{label}: its {ENCODING_FILE} or {VOCAB_FILE} cannot be read."
        ) from error


def load_model_folder(path: Path, *, label: str | None = None) -> TrainedModel:
    """Load a model folder written by `save_model_folder` (Keras `safe_mode=True`).

    `label` names the folder in errors (an uploaded zip's file name); its own name by default.

    Raises:
        InvalidModelError: the folder is incomplete, corrupt or does not match its vocabulary.
    """
    path = Path(path)
    label = label or path.name
    info = read_model_info(path, label=label)
    encoding, vocab = read_encoding_and_vocab(path, label=label)
    import keras  # after the descriptions: a wrong one is refused without loading TensorFlow

    try:
        keras_model = keras.saving.load_model(path / MODEL_FILE, compile=False, safe_mode=True)
    except Exception as error:  # Keras raises many kinds (ValueError, OSError, zipfile errors)
        # Keras's message may name the server's path: the log has it, the person a sentence.
        log.warning("cannot load %s: %r", path / MODEL_FILE, error)
        raise InvalidModelError(
            f"{label}: its {MODEL_FILE} cannot be loaded (not a network this app can read)."
        ) from error
    if not isinstance(keras_model, keras.Model) or _output_size(keras_model) != len(vocab):
        raise InvalidModelError(f"{label}: the network does not match {VOCAB_FILE}.")
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

ZIP_COMPRESSIONS = (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED)

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


def zip_to_model_folder(
    data: bytes,
    destination: Path,
    *,
    name: str,
    before_unpack: Callable[[int], None] | None = None,
) -> Path:
    """Unpack an uploaded model zip into `destination` (a new folder), after validating it.

    The zip may hold the model files at its root or under one folder. It is unpacked into a
    temporary folder, loaded with `load_model_folder` (so a corrupt model, or one whose
    description has a wrong field, never lands), then moved into place. `before_unpack(bytes)`
    is called with its unpacked size before anything is written (a quota check raises there).

    Raises:
        InvalidModelError: not a zip, unsafe paths, too large, damaged, or not a loadable model
            folder; one sentence naming `name` (and the file and field at fault).
    """
    destination = Path(destination)
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError) as error:
        raise InvalidModelError(f"{name}: not a zip file") from error
    with archive:
        members = [m for m in archive.infolist() if not m.is_dir()]
        if len(members) > MAX_ZIP_FILES:
            raise InvalidModelError(f"{name}: too many files for a model folder")
        unpacked_bytes = sum(m.file_size for m in members)
        if unpacked_bytes > MAX_ZIP_BYTES:
            raise InvalidModelError(f"{name}: larger than {MAX_ZIP_BYTES // 2**20} MB unpacked")
        for member in members:
            parts = Path(member.filename).parts
            if member.filename.startswith(("/", "\\")) or ".." in parts or not parts:
                raise InvalidModelError(f"{name}: unsafe path {member.filename!r} in the zip")
            # Downloads are deflated; bzip2 and lzma inflate a whole block at once, beyond
            # what a member declares.
            if member.compress_type not in ZIP_COMPRESSIONS:
                raise InvalidModelError(
                    f"{name}: compressed in a way this app cannot read (only stored or deflated)"
                )
        if before_unpack is not None:
            before_unpack(unpacked_bytes)
        with tempfile.TemporaryDirectory(dir=destination.parent, prefix=".upload-") as tmp:
            root = Path(tmp) / "unpacked"
            try:
                for member in members:
                    target = root / member.filename
                    target.parent.mkdir(parents=True, exist_ok=True)
                    with archive.open(member) as source, open(target, "wb") as sink:
                        shutil.copyfileobj(source, sink)
            # A damaged entry (bad CRC, cut short), an encrypted one or an unknown compression.
            except (
                zipfile.BadZipFile,
                zlib.error,
                EOFError,
                RuntimeError,
                NotImplementedError,
            ) as error:
                log.warning("cannot unpack %s: %r", name, error)
                raise InvalidModelError(
                    f"{name}: the zip is damaged, encrypted or compressed in a way this app "
                    "cannot read"
                ) from error
            folder = _model_root(root, name)
            load_model_folder(folder, label=name)  # raises InvalidModelError with the reason
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
