"""The models that ship with the app, in `models/`, by name.

- `base`: the pretrained base every new model is fine-tuned from by default (both built-in
  collections, key-normalized, the whole sixteenth grid as vocabulary);
- one model per style, fine-tuned from the base on one collection: what "Play me a new tune"
  and the Generate page offer by name. `default` is the first style.
Each is made by a checked-in script (scripts/train_base_model.py,
scripts/train_bundled_models.py) and has a README.md with its data, settings and figures.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from core.errors import InvalidModelError
from core.model.folder import MODEL_FILE
from core.storage.files import REPO_DIR

MODELS_DIR = REPO_DIR / "models"
BASE_MODEL_NAME = "base"
DEFAULT_MODEL_NAME = "default"  # the first style, for `--model default`


@dataclass(frozen=True)
class BundledModel:
    name: str  # folder under models/, and the name the CLI takes
    title: str
    description: str

    @property
    def path(self) -> Path:
        return MODELS_DIR / self.name


STYLES: dict[str, BundledModel] = {
    m.name: m
    for m in (
        BundledModel(
            "bach-chorales",
            "Bach chorales",
            "Four voices in slow, rich harmony, like the hymns J. S. Bach harmonized.",
        ),
        BundledModel(
            "folk-tunes",
            "Irish folk tunes",
            "Lively dance melodies (jigs, reels, hornpipes) from O'Neill's and Ryan's books.",
        ),
    )
}
DEFAULT_STYLE = "bach-chorales"
BASE = BundledModel(
    BASE_MODEL_NAME,
    "Base model",
    "Both built-in collections: the starting point new models are fine-tuned from.",
)


MODEL_VERSION_CHARS = 8


def model_version(path: Path) -> str:
    """A short fingerprint of a model folder's weights: it changes when the model is retrained."""
    weights = path / MODEL_FILE
    stat = weights.stat()
    return _weights_digest(str(weights), stat.st_mtime_ns, stat.st_size)


@lru_cache(maxsize=16)
def _weights_digest(weights: str, _mtime_ns: int, _size: int) -> str:
    with open(weights, "rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()[:MODEL_VERSION_CHARS]


def bundled_dir(name: str) -> Path | None:
    """The folder of a bundled model name ("default", a style, or "base"); None otherwise."""
    if name == DEFAULT_MODEL_NAME:
        name = DEFAULT_STYLE
    if name in STYLES:
        return STYLES[name].path
    if name == BASE_MODEL_NAME:
        return BASE.path
    return None


def available_styles() -> list[BundledModel]:
    """The style models whose folders are present, default first."""
    return [m for m in STYLES.values() if (m.path / "model.keras").is_file()]


def resolve_model_dir(model: Path | str) -> Path:
    """A bundled model's name ("default", "bach-chorales", "folk-tunes", "base") → its folder;
    anything else is a folder path.

    Raises:
        InvalidModelError: the folder does not exist.
    """
    path = bundled_dir(str(model)) or Path(model)
    if not path.is_dir():
        raise InvalidModelError(f"{path.name or model}: no such model folder")
    return path.resolve()
