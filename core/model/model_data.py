"""What a model folder keeps so it can be judged without its dataset.

- `heldout.json`: the held-out (validation) pieces of its training split, as the model sees them
  (decoded from their tokens: on its grid, within its pitch range, unisons merged), each with
  its meter;
- `training_notes.npz`: the notes of its training pieces, for the originality index;
- `music.json`: what its training music is like (tempo, meter, texture, range), which
  generation follows (`core.data.datasets.MusicSummary`). Folders written before it have none.

All are written when the model is saved (inside the same atomic folder write), and travel in
the model's zip. The first two are read (and the originality index built) once per file version
and kept in memory.
"""

from __future__ import annotations

import json
import logging
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from core.data.datasets import MusicSummary
from core.errors import EvaluationError
from core.model.metadata import MUSIC_FILE, MetadataError, check_music, read_json
from core.model.training_notes import OriginalityIndex, TrainingNotes
from core.music.piece import Piece
from core.storage.files import atomic_write_text
from core.tokens.config import EncodingConfig
from core.tokens.scheme import tokens_to_piece

log = logging.getLogger(__name__)

HELDOUT_FILE = "heldout.json"
TRAINING_NOTES_FILE = "training_notes.npz"
MAX_CACHED_FILES = 8  # an index and a held-out set for each of a few models
# Read, held-out pieces take about 18 times their file's size in memory (measured: 9 MB for the
# base model's 0.49 MB, 43,400 notes); this keeps one read under 200 MB, 20 times the base's.
MAX_HELDOUT_FILE_BYTES = 10_000_000

_CACHE: OrderedDict[tuple[str, int], Any] = OrderedDict()
_LOCK = threading.Lock()


def write_model_data(folder: Path, dataset: Any) -> None:
    """Write `heldout.json`, `training_notes.npz` and `music.json` of a dataset in `folder`."""
    folder = Path(folder)
    config: EncodingConfig = dataset.config
    tempos = {p.name: p.tempo_bpm for p in dataset.pieces}
    meters = {p.name: p.meter for p in dataset.pieces}  # decoding tokens loses it: given back
    valid, train = (
        [
            replace(
                tokens_to_piece(e.tokens, config, name=e.name, tempo_bpm=tempos[e.name]),
                meter=meters[e.name],
            )
            for e in side
        ]
        for side in (dataset.valid, dataset.train)
    )
    data = {"dataset": dataset.name, "pieces": [p.to_dict() for p in valid]}
    # Compact: pretty-printed, every note would take five lines.
    atomic_write_text(folder / HELDOUT_FILE, json.dumps(data, separators=(",", ":")) + "\n")
    notes = TrainingNotes.from_pieces(train, steps_per_quarter=config.steps_per_quarter)
    notes.save(folder / TRAINING_NOTES_FILE)
    music = dataset.music_summary()
    if music is not None:
        write_music_summary(folder, music)


def write_music_summary(folder: Path, music: MusicSummary) -> None:
    """Write what the model's training music is like as `music.json` in `folder`."""
    music.save(Path(folder) / MUSIC_FILE)


def read_music_summary(folder: Path) -> MusicSummary | None:
    """What the model's training music is like; None for a folder without it (trained before
    it was recorded, as the bundled models) or with a corrupt file or field (logged; such a
    folder reads as broken through `core.model.folder.read_model_info`)."""
    path = Path(folder) / MUSIC_FILE
    if not path.is_file():
        return None
    try:
        return check_music(read_json(path))
    except (OSError, MetadataError) as error:
        log.warning("%s: corrupt %s, not followed (%s)", Path(folder).name, MUSIC_FILE, error)
        return None


def has_model_data(folder: Path) -> bool:
    return all((Path(folder) / f).is_file() for f in (HELDOUT_FILE, TRAINING_NOTES_FILE))


def _missing(folder: Path, what: str) -> EvaluationError:
    return EvaluationError(
        f"{Path(folder).name}: no {what} stored with this model (it was trained before the app "
        "could evaluate models, or its zip left them out); train it again to judge it"
    )


def _cached(folder: Path, file: str, what: str, load: Callable[[Path], Any]) -> Any:
    """`load(path)` of a model folder's file, once per version of the file (path and mtime).

    Pages rerun on every click: the held-out pieces and the index are read and built once, not
    on every rerun or twice per evaluation.

    Raises:
        EvaluationError: the file is missing, or `load` finds it corrupt (ValueError, ...).
    """
    path = Path(folder).resolve() / file
    if not path.is_file():
        raise _missing(folder, what)
    key = (str(path), path.stat().st_mtime_ns)
    with _LOCK:
        if key in _CACHE:
            _CACHE.move_to_end(key)
            return _CACHE[key]
    try:
        value = load(path)
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise EvaluationError(f"{Path(folder).name}: {file} is corrupt ({error})") from error
    with _LOCK:
        _CACHE[key] = value
        while len(_CACHE) > MAX_CACHED_FILES:
            _CACHE.popitem(last=False)
    return value


def _load_heldout(path: Path) -> tuple[Piece, ...]:
    return tuple(Piece.from_dict(d) for d in json.loads(path.read_text())["pieces"])


def read_heldout(folder: Path) -> list[Piece]:
    """The model's held-out real pieces.

    Raises:
        EvaluationError: the folder has none, or the file is corrupt.
    """
    path = Path(folder) / HELDOUT_FILE
    if path.is_file() and path.stat().st_size > MAX_HELDOUT_FILE_BYTES:
        raise EvaluationError(
            f"{Path(folder).name}: its {HELDOUT_FILE} is larger than "
            f"{MAX_HELDOUT_FILE_BYTES // 1_000_000} MB, more held-out music than this server judges"
        )
    pieces = list(_cached(folder, HELDOUT_FILE, "held-out pieces", _load_heldout))
    if not pieces:
        raise EvaluationError(
            f"{Path(folder).name}: no held-out pieces (it was trained on a single piece)"
        )
    return pieces


def load_index(folder: Path) -> OriginalityIndex:
    """The originality index of a model folder, built once per version of its training notes.

    Raises:
        EvaluationError: the folder has no training notes, or the file is corrupt.
    """
    index: OriginalityIndex = _cached(
        folder,
        TRAINING_NOTES_FILE,
        "training notes",
        lambda path: OriginalityIndex(TrainingNotes.load(path)),
    )
    return index


def clear_index_cache() -> None:
    """Forget every read held-out set and built index (the benchmark's cold runs)."""
    with _LOCK:
        _CACHE.clear()
