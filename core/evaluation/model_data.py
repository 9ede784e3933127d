"""What a model folder keeps so it can be judged without its dataset.

- `heldout.json`: the held-out (validation) pieces of its training split, as the model sees them
  (decoded from their tokens: on its grid, within its pitch range, unisons merged);
- `training_notes.npz`: the notes of its training pieces, for the originality index.

Both are written when the model is saved (inside the same atomic folder write), and travel in
the model's zip. The originality index is built from the training notes once per folder
version and kept in memory (`load_index`).
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from pathlib import Path
from typing import Any

from core.encoding import EncodingConfig, Piece, tokens_to_piece
from core.errors import EvaluationError
from core.evaluation.originality import OriginalityIndex, TrainingNotes
from core.storage import atomic_write_text

HELDOUT_FILE = "heldout.json"
TRAINING_NOTES_FILE = "training_notes.npz"
MAX_CACHED_INDEXES = 4

_INDEXES: OrderedDict[tuple[str, int], OriginalityIndex] = OrderedDict()
_LOCK = threading.Lock()


def _decoded(name: str, tokens: Any, config: EncodingConfig, tempo_bpm: float) -> Piece:
    return tokens_to_piece(tokens, config, name=name, tempo_bpm=tempo_bpm)


def write_model_data(folder: Path, dataset: Any) -> None:
    """Write `heldout.json` and `training_notes.npz` of a `core.datasets.Dataset` into `folder`."""
    folder = Path(folder)
    config: EncodingConfig = dataset.config
    tempos = {p.name: p.tempo_bpm for p in dataset.pieces}
    valid = [_decoded(e.name, e.tokens, config, tempos[e.name]) for e in dataset.valid]
    train = [_decoded(e.name, e.tokens, config, tempos[e.name]) for e in dataset.train]
    data = {"dataset": dataset.name, "pieces": [p.to_dict() for p in valid]}
    # Compact: pretty-printed, every note would take five lines.
    atomic_write_text(folder / HELDOUT_FILE, json.dumps(data, separators=(",", ":")) + "\n")
    notes = TrainingNotes.from_pieces(train, steps_per_quarter=config.steps_per_quarter)
    notes.save(folder / TRAINING_NOTES_FILE)


def has_model_data(folder: Path) -> bool:
    return all((Path(folder) / f).is_file() for f in (HELDOUT_FILE, TRAINING_NOTES_FILE))


def _missing(folder: Path, what: str) -> EvaluationError:
    return EvaluationError(
        f"{Path(folder).name}: no {what} stored with this model (it was trained before the app "
        "could evaluate models, or its zip left them out); train it again to judge it"
    )


def read_heldout(folder: Path) -> list[Piece]:
    """The model's held-out real pieces.

    Raises:
        EvaluationError: the folder has none, or the file is corrupt.
    """
    path = Path(folder) / HELDOUT_FILE
    if not path.is_file():
        raise _missing(folder, "held-out pieces")
    try:
        data = json.loads(path.read_text())
        pieces = [Piece.from_dict(d) for d in data["pieces"]]
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise EvaluationError(
            f"{Path(folder).name}: {HELDOUT_FILE} is corrupt ({error})"
        ) from error
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
    path = Path(folder).resolve() / TRAINING_NOTES_FILE
    if not path.is_file():
        raise _missing(folder, "training notes")
    key = (str(path), path.stat().st_mtime_ns)
    with _LOCK:
        if key in _INDEXES:
            _INDEXES.move_to_end(key)
            return _INDEXES[key]
    try:
        index = OriginalityIndex(TrainingNotes.load(path))
    except (OSError, ValueError, KeyError) as error:
        raise EvaluationError(
            f"{Path(folder).name}: {TRAINING_NOTES_FILE} is corrupt ({error})"
        ) from error
    with _LOCK:
        _INDEXES[key] = index
        while len(_INDEXES) > MAX_CACHED_INDEXES:
            _INDEXES.popitem(last=False)
    return index


def clear_index_cache() -> None:
    """Forget every built index (the benchmark's cold runs)."""
    with _LOCK:
        _INDEXES.clear()
