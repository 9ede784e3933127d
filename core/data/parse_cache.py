"""The parse cache: every music file read once, its pieces (or its refusal) kept by content.

A refusal is kept only when it is a property of the file alone (corrupt, not MIDI, no notes);
one by a limit of this server (`FileTooLargeError`: its size, notes, events, length) is not,
since the same bytes may be read once the limit is raised.

Parsing with music21 is slow (about half a second per chorale), so every parsed file is cached
on disk, keyed by the file's content hash, its format and the grid, and a second read takes
milliseconds. The built-in collections' entries for the default grid also ship with the code
(`core/data/preset_cache/`, by scripts/build_preset_cache.py), so a fresh server parses none.
Files missing from the cache can be parsed in worker processes first (`fill_cache_in_parallel`).
"""

from __future__ import annotations

import contextlib
import functools
import gzip
import hashlib
import json
import logging
import multiprocessing
import os
from collections.abc import Iterable, Sequence
from concurrent.futures import (
    Executor,
    ProcessPoolExecutor,
    ThreadPoolExecutor,
    as_completed,
)
from dataclasses import replace
from pathlib import Path
from typing import Any

from core.errors import FileTooLargeError, InvalidMusicError
from core.music.files import EXTENSIONS, read_music
from core.music.piece import Piece
from core.progress import ProgressCallback
from core.settings import setting_count
from core.storage.files import atomic_write_bytes, atomic_write_json, cache_dir

log = logging.getLogger(__name__)

# Bump when reading changes in a way that makes cached pieces stale.
# 2: pieces above the length and note limits are refused; 3: pieces keep their meter
PARSER_VERSION = 3


def _cache_key(data: bytes, steps_per_quarter: int, name: str) -> str:
    """Content, grid, parser version and the format the file's extension names (the same
    bytes named `.mid` and `.abc` are read, or refused, differently)."""
    digest = hashlib.sha256(data).hexdigest()
    fmt = EXTENSIONS.get(Path(name).suffix.lower())
    return f"{digest}-{fmt.value if fmt else 'none'}-spq{steps_per_quarter}-v{PARSER_VERSION}"


# The shipped cache: one gzipped JSON Lines file holding every file of the built-in presets
# (they overlap, so one file stores each once) for the default grid, each line
# `<cache key>\t<the entry read_music_cached stores>`. Only files of this PARSER_VERSION are
# read; one of another grid simply matches no key.
PRESET_CACHE_DIR = Path(__file__).resolve().parent / "preset_cache"


def preset_cache_path(steps_per_quarter: int) -> Path:
    return PRESET_CACHE_DIR / f"presets.spq{steps_per_quarter}.v{PARSER_VERSION}.jsonl.gz"


@functools.cache
def _shipped_entries() -> dict[str, str]:
    """Cache key → the entry's JSON text, from every current shipped file (read once).

    Entries stay text until used (about 10 MB): parsed, all of them would hold about 45 MB
    more in every server process.
    """
    entries: dict[str, str] = {}
    for path in sorted(PRESET_CACHE_DIR.glob(f"*.v{PARSER_VERSION}.jsonl.gz")):
        try:
            text = gzip.decompress(path.read_bytes()).decode()
        except (OSError, EOFError, UnicodeDecodeError) as error:
            log.warning("ignoring the shipped cache %s (%s)", path.name, error)
            continue
        for line in text.splitlines():
            key, _, entry = line.partition("\t")
            entries[key] = entry
    return entries


def write_preset_cache(
    files: Iterable[Path],
    *,
    steps_per_quarter: int,
    workers: int = 1,
    on_progress: ProgressCallback[str] | None = None,
) -> Path:
    """Parse the built-in presets' files afresh and write the shipped cache file.

    The same files give the same bytes: lines sorted by key, no time stamp in the gzip header.
    A file whose refusal is never cached gets no line (it is parsed on use, as today).
    """
    items: dict[str, tuple[str, bytes]] = {}
    for file in files:
        data = file.read_bytes()
        # The same content twice: named after the first, the one `load_files` keeps.
        items.setdefault(_cache_key(data, steps_per_quarter, file.name), (file.name, data))
    lines: dict[str, str] = {}
    pool: Executor = (
        ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"))
        if workers > 1
        else ThreadPoolExecutor(max_workers=1)  # in this process: no worker to start
    )
    with pool:
        futures = {
            pool.submit(_parse_entry_text, data, name, steps_per_quarter): key
            for key, (name, data) in items.items()
        }
        for done, future in enumerate(as_completed(futures), start=1):
            key = futures[future]
            try:
                lines[key] = future.result()
            except InvalidMusicError as error:
                log.warning("not shipped: %s", error)
            if on_progress:
                on_progress(done, len(futures), items[key][0])
    text = "".join(f"{key}\t{lines[key]}\n" for key in sorted(lines))
    path = preset_cache_path(steps_per_quarter)
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(path, gzip.compress(text.encode(), compresslevel=9, mtime=0))
    return path


def _parse_entry_text(data: bytes, name: str, steps_per_quarter: int) -> str:
    """Worker: one file's cache entry as compact JSON."""
    entry = parse_to_cache_entry(data, name=name, steps_per_quarter=steps_per_quarter)
    return json.dumps(entry, separators=(",", ":"), sort_keys=True)


def _is_cached(key: str) -> bool:
    return key in _shipped_entries() or (cache_dir("pieces") / f"{key}.json").exists()


def parse_to_cache_entry(data: bytes, *, name: str, steps_per_quarter: int) -> dict[str, Any]:
    """Parse a file into what the cache stores for it: its pieces, or its refusal.

    Raises:
        InvalidMusicError: a refusal that is never cached (see `_refusal_entry`).
    """
    try:
        pieces = read_music(data, name=name, steps_per_quarter=steps_per_quarter)
    except InvalidMusicError as error:
        if (entry := _refusal_entry(error, name=name)) is None:
            raise
        return entry
    return _pieces_entry(pieces, name=name)


def _pieces_entry(pieces: Sequence[Piece], *, name: str) -> dict[str, Any]:
    return {"name": name, "pieces": [p.to_dict() for p in pieces]}


# A kept refusal's key. Entries written before limits were told apart kept theirs under
# "error", limits among them (with the limit of then in the message): those are read as absent.
REFUSAL_KEY = "refusal"
LEGACY_REFUSAL_KEY = "error"


def _refusal_entry(error: InvalidMusicError, *, name: str) -> dict[str, Any] | None:
    """The refusal with the file's name as a placeholder; None when it is never cached: a
    refusal by a limit, or one whose message does not start with the name."""
    message = str(error)
    if isinstance(error, FileTooLargeError) or not message.startswith(name):
        return None
    return {REFUSAL_KEY: "{name}" + message[len(name) :]}


def _entry_to_pieces(entry: dict[str, Any], *, name: str) -> list[Piece]:
    if REFUSAL_KEY in entry:
        raise InvalidMusicError(entry[REFUSAL_KEY].replace("{name}", name))
    return [_renamed(Piece.from_dict(d), entry["name"], name) for d in entry["pieces"]]


def _read_cached_entry(key: str) -> dict[str, Any] | None:
    path = cache_dir("pieces") / f"{key}.json"
    if path.exists():
        with contextlib.suppress(OSError):
            os.utime(path)  # used now: the cache is trimmed least recently used first
        try:
            entry: dict[str, Any] = json.loads(path.read_text())
        except (OSError, ValueError) as error:
            log.warning("ignoring a corrupt cache entry %s (%s)", path.name, error)
        else:
            if not isinstance(entry, dict) or LEGACY_REFUSAL_KEY not in entry:
                return entry
    shipped = _shipped_entries().get(key)
    if shipped is None:
        return None
    try:
        return dict(json.loads(shipped))
    except (ValueError, TypeError) as error:
        log.warning("ignoring a corrupt shipped cache entry %s (%s)", key, error)
        return None


def read_music_cached(
    data: bytes, *, name: str, steps_per_quarter: int, use_cache: bool = True
) -> list[Piece]:
    """`read_music` with a cache keyed by content hash and grid: the on-disk one, then the
    shipped one of the built-in collections. Refusals are cached too, except those by a limit."""
    key = _cache_key(data, steps_per_quarter, name)
    path = cache_dir("pieces") / f"{key}.json"
    if use_cache and (entry := _read_cached_entry(key)) is not None:
        try:
            return _entry_to_pieces(entry, name=name)
        except (ValueError, KeyError, TypeError) as error:
            if isinstance(error, InvalidMusicError):
                raise
            log.warning("ignoring a corrupt cache entry %s (%s)", path.name, error)
    try:
        pieces = read_music(data, name=name, steps_per_quarter=steps_per_quarter)
    except InvalidMusicError as error:
        if use_cache and (refusal := _refusal_entry(error, name=name)) is not None:
            _write_cache(path, refusal)
        raise
    if use_cache:
        _write_cache(path, _pieces_entry(pieces, name=name))
    return pieces


def _write_cache(path: Path, entry: dict[str, Any]) -> None:
    """The cache only saves time: a full or read-only disk must not refuse the music."""
    try:
        atomic_write_json(path, entry)
    except OSError as error:
        log.warning("the parse cache was not written (%s)", error.strerror or error)


def _renamed(piece: Piece, cached_file: str, file: str) -> Piece:
    """Cached pieces are named after the file that filled the cache; use this file's name."""
    old, new = Path(cached_file).stem, Path(file).stem
    if old == new or not piece.name.startswith(old):
        return piece
    return replace(piece, name=new + piece.name[len(old) :])


PARSE_WORKERS_ENV = "TUNESMITH_PARSE_WORKERS"  # default and range: core.settings
PARALLEL_MIN_FILES = 8  # below this, starting worker processes costs more than it saves


def parse_workers() -> int:
    """Processes for cold parsing (`TUNESMITH_PARSE_WORKERS`; default: CPUs, at most 4)."""
    return setting_count(PARSE_WORKERS_ENV)


def _fill_cache(data: bytes, name: str, steps_per_quarter: int) -> None:
    """Worker: parse one file into the cache (a refusal too, unless it is by a limit)."""
    with contextlib.suppress(InvalidMusicError):
        read_music_cached(data, name=name, steps_per_quarter=steps_per_quarter)


def fill_cache_in_parallel(
    items: Sequence[tuple[str, bytes]],
    *,
    steps_per_quarter: int,
    on_progress: ProgressCallback[str] | None,
) -> None:
    """Parse the files missing from the cache in worker processes (music21 is CPU-bound).

    Workers are spawned, not forked: the parent may hold TensorFlow or Streamlit threads.
    """
    missing = [
        (name, data)
        for name, data in items
        if not _is_cached(_cache_key(data, steps_per_quarter, name))
    ]
    workers = min(parse_workers(), len(missing))
    if len(missing) < PARALLEL_MIN_FILES or workers < 2:
        return
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        futures = {
            pool.submit(_fill_cache, data, name, steps_per_quarter): name for name, data in missing
        }
        for done, future in enumerate(as_completed(futures), start=1):
            future.result()
            if on_progress:
                on_progress(done, len(missing), f"{futures[future]} (parsing)")
