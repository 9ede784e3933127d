"""A workspace's own music ("my dataset"): files kept under generated names, shown under theirs.

A user's file name is never a path: each file is stored as `<random id><extension>` and the
name the user gave lives only in the folder's `names.json` (id → display name), which the
dataset loader reads to name the pieces. Adding a batch checks each file (size, format, notes)
and the disk quota before anything is written, saves the good ones, and reports every file's
true outcome: a file that parsed but could not be saved is reported as not added.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from core.errors import InvalidMusicError, TunesmithError
from core.music.files import EXTENSIONS
from core.settings import setting_count
from core.storage.files import atomic_write_bytes, atomic_write_json, saving
from core.storage.quotas import check_room

log = logging.getLogger(__name__)

NAMES_FILE = "names.json"
MAX_DISPLAY_NAME_CHARS = 200  # longer names are cut for display; nothing on disk uses them
MAX_FILES_PER_BATCH_ENV = "TUNESMITH_MAX_FILES_PER_BATCH"
DEFAULT_MAX_FILES_PER_BATCH = 50


def max_files_per_batch() -> int:
    """Files one upload batch may hold (music or audio); the rest are refused by name."""
    return setting_count(MAX_FILES_PER_BATCH_ENV)


def display_name(name: str) -> str:
    """The user's name made printable and bounded: folders and control characters dropped."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    cleaned = "".join(c for c in base if c.isprintable()).strip()
    stem, suffix = Path(cleaned).stem, Path(cleaned).suffix[:16]  # the type stays readable
    return f"{stem[: MAX_DISPLAY_NAME_CHARS - len(suffix)]}{suffix}" if stem else "untitled"


@dataclass(frozen=True)
class FileOutcome:
    name: str
    added: bool
    message: str  # what happened to it, in words, starting with its name


def over_batch_limit(names: Sequence[str]) -> list[FileOutcome]:
    """The refusal of each file past the batch limit (the first `max_files_per_batch()` go on)."""
    limit = max_files_per_batch()
    return [
        FileOutcome(
            shown := display_name(name),
            False,
            f"{shown}: not added, one batch holds at most {limit} files; add it in another batch",
        )
        for name in names[limit:]
    ]


@dataclass(frozen=True)
class StoredFile:
    path: Path  # under a generated name
    name: str  # the name the user gave, for display only


def names_for(folder: Path) -> dict[str, str]:
    """Stored file name → the user's name, for a folder that keeps a names file."""
    try:
        names = json.loads((Path(folder) / NAMES_FILE).read_text())
    except (OSError, ValueError):
        return {}
    if not isinstance(names, dict):
        return {}
    return {str(k): display_name(str(v)) for k, v in names.items()}


def stored_files(folder: Path) -> list[StoredFile]:
    """The folder's music files with their display names, sorted by display name."""
    folder = Path(folder)
    if not folder.is_dir():
        return []
    names = names_for(folder)
    files = [
        StoredFile(p, names.get(p.name, p.name))
        for p in folder.iterdir()
        if p.is_file() and p.suffix.lower() in EXTENSIONS and not p.name.startswith(".")
    ]
    return sorted(files, key=lambda f: (f.name.lower(), f.path.name))


def add_file(workspace: Path, folder: Path, name: str, data: bytes) -> StoredFile:
    """Save one (already checked) file under a generated name; the same display name is
    replaced. Raises QuotaError or StorageError before anything is changed."""
    shown = display_name(name)
    suffix = Path(shown).suffix.lower()
    if suffix not in EXTENSIONS:
        raise InvalidMusicError(f"{shown}: unsupported file type {suffix or '(none)'}")
    check_room(workspace, incoming_bytes=len(data), what=shown)
    folder = Path(folder)
    path = folder / f"{uuid.uuid4().hex[:16]}{suffix}"
    with saving(shown):
        atomic_write_bytes(path, data)
        names = names_for(folder)
        replaced = [stored for stored, other in names.items() if other == shown]
        names = {k: v for k, v in names.items() if k not in replaced}
        names[path.name] = shown
        try:
            atomic_write_json(folder / NAMES_FILE, names)
        except BaseException:
            path.unlink(missing_ok=True)  # never a file without its name
            raise
    for stored in replaced:
        (folder / stored).unlink(missing_ok=True)
    return StoredFile(path, shown)


def add_music_files(
    workspace: Path, folder: Path, files: Sequence[tuple[str, bytes]], *, steps_per_quarter: int
) -> list[FileOutcome]:
    """Check and save a batch of uploads; every file gets its true outcome, in order.

    Each file is parsed (through the cache) before it is saved, so a refused file is never
    stored; a file that parses but does not fit the quota or cannot be written is reported as
    not added, and the rest of the batch goes on.
    """
    from core.data.parse_cache import read_music_cached

    outcomes = []
    for name, data in files[: max_files_per_batch()]:
        shown = display_name(name)
        try:
            pieces = read_music_cached(data, name=shown, steps_per_quarter=steps_per_quarter)
            add_file(workspace, folder, shown, data)
        except TunesmithError as error:
            outcomes.append(FileOutcome(shown, False, str(error)))
            continue
        notes = sum(len(p.notes) for p in pieces)
        outcomes.append(FileOutcome(shown, True, f"{shown}: {len(pieces)} piece(s), {notes} notes"))
    return outcomes + over_batch_limit([name for name, _ in files])


def remove_all(folder: Path) -> None:
    """Empty "my dataset": every stored file and the names file."""
    folder = Path(folder)
    with saving("Emptying your dataset"):
        for stored in stored_files(folder):
            stored.path.unlink(missing_ok=True)
        (folder / NAMES_FILE).unlink(missing_ok=True)
