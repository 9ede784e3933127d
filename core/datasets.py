"""Datasets: named lists of pieces from built-in music21 corpora or the user's files.

Parsing with music21 is slow (about half a second per chorale), so every parsed file is cached
on disk, keyed by the file's content hash and the grid, and a second build takes seconds.
The built-in collections' entries for the default grid also ship with the code
(`core/preset_cache/`, written by scripts/build_preset_cache.py), so a fresh server parses none.
Train and validation are split by piece, deterministically for a seed.
"""

from __future__ import annotations

import contextlib
import functools
import gzip
import hashlib
import json
import logging
import math
import multiprocessing
import os
from collections.abc import Callable, Collection, Iterable, Sequence
from concurrent.futures import (
    Executor,
    ProcessPoolExecutor,
    ThreadPoolExecutor,
    as_completed,
)
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from core.encoding import (
    EncodingConfig,
    Piece,
    Vocabulary,
    piece_to_tokens,
    prepare_piece,
    transpose_tokens,
)
from core.errors import InvalidMusicError
from core.music_io import EXTENSIONS, read_music
from core.storage import atomic_write_bytes, atomic_write_json, atomic_write_text, cache_dir
from core.user_music import names_for

log = logging.getLogger(__name__)

DEFAULT_SEED = 1234  # the one split seed: `dataset --export`, `train` and the app all use it
DEFAULT_VALID_FRACTION = 0.1
DEFAULT_MIN_COUNT = 1
# Bump when reading changes in a way that makes cached pieces stale.
PARSER_VERSION = 2  # 2: pieces above the length and note limits are refused

ProgressCallback = Callable[[int, int, str], None]


# ---------------------------------------------------------------- presets


@dataclass(frozen=True)
class Preset:
    name: str
    title: str
    description: str
    corpus_globs: tuple[str, ...] = ()
    chorales: bool = False

    def files(self) -> list[Path]:
        """The preset's files inside music21's bundled corpus, in a stable order."""
        root = _corpus_root()
        if self.chorales:
            from music21 import corpus

            # The Riemenschneider list names some chorales twice; a piece must be on one side
            # of the split only, so each file is taken once.
            chorale_files: dict[Path, None] = {}
            for name in corpus.chorales.Iterator(returnType="filename"):
                path = root / f"{name}.mxl"
                if not path.exists():  # a few are stored as bwv69.6.xml or bwv18.5-lz.mxl
                    path = next(iter(sorted(root.glob(f"{name}*.*ml"))), path)
                if path.exists():
                    chorale_files[path] = None
            return list(chorale_files)
        files: list[Path] = []
        for pattern in self.corpus_globs:
            files.extend(sorted(root.glob(pattern)))
        return files


def _corpus_root() -> Path:
    import music21.corpus

    return Path(music21.corpus.__file__).parent


PRESETS: dict[str, Preset] = {
    p.name: p
    for p in (
        Preset(
            "bach-chorales",
            "Bach chorales",
            "The four-part chorales of J. S. Bach (Riemenschneider's collection, each once).",
            chorales=True,
        ),
        Preset(
            "folk-tunes",
            "Irish folk tunes",
            "Dance tunes from O'Neill's 1850 and Ryan's Mammoth Collection (ABC tune books).",
            corpus_globs=("oneills1850/*.abc", "ryansMammoth/*.abc"),
        ),
        Preset(
            "oneills-1850",
            "O'Neill's 1850",
            "The 1,850 Irish melodies of O'Neill's 1903 collection (some in several parts).",
            corpus_globs=("oneills1850/*.abc",),
        ),
    )
}
DEFAULT_PRESET = "bach-chorales"
# The collections the base model (models/base, scripts/train_base_model.py) learned from, each
# split alone with DEFAULT_SEED. Any built-in music is held out where these splits hold it out
# (`collection_heldout_names`), so a model fine-tuned from the base is never judged on a piece
# the base trained on.
BASE_COLLECTIONS = ("bach-chorales", "folk-tunes")


# ---------------------------------------------------------------- parsing with a cache


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
    presets: Iterable[str],
    *,
    steps_per_quarter: int,
    workers: int = 1,
    on_progress: ProgressCallback | None = None,
) -> Path:
    """Parse every file of the built-in presets afresh and write the shipped cache file.

    The same files give the same bytes: lines sorted by key, no time stamp in the gzip header.
    A file whose refusal is never cached gets no line (it is parsed on use, as today).
    """
    items: dict[str, tuple[str, bytes]] = {}
    for file in source_files(list(presets)):
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


def _refusal_entry(error: InvalidMusicError, *, name: str) -> dict[str, Any] | None:
    """The refusal with the file's name as a placeholder; None when it does not start with it."""
    message = str(error)
    return {"error": "{name}" + message[len(name) :]} if message.startswith(name) else None


def _entry_to_pieces(entry: dict[str, Any], *, name: str) -> list[Piece]:
    if "error" in entry:
        raise InvalidMusicError(entry["error"].replace("{name}", name))
    return [_renamed(Piece.from_dict(d), entry["name"], name) for d in entry["pieces"]]


def _read_cached_entry(key: str) -> dict[str, Any] | None:
    path = cache_dir("pieces") / f"{key}.json"
    if path.exists():
        with contextlib.suppress(OSError):
            os.utime(path)  # used now: the cache is trimmed least recently used first
        try:
            entry: dict[str, Any] = json.loads(path.read_text())
            return entry
        except (OSError, ValueError) as error:
            log.warning("ignoring a corrupt cache entry %s (%s)", path.name, error)
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
    shipped one of the built-in collections. Refusals are cached too."""
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
    return Piece(
        new + piece.name[len(old) :],
        piece.notes,
        piece.steps_per_quarter,
        piece.tempo_bpm,
        piece.key,
    )


@dataclass(frozen=True)
class LoadResult:
    pieces: tuple[Piece, ...]
    errors: tuple[str, ...]  # one line per refused file, starting with its name


PARALLEL_MIN_FILES = 8  # below this, starting worker processes costs more than it saves


def parse_workers() -> int:
    """Processes for cold parsing (`TUNESMITH_PARSE_WORKERS`; default: CPUs, at most 4)."""
    default = min(os.cpu_count() or 1, 4)
    return max(1, int(os.environ.get("TUNESMITH_PARSE_WORKERS", default)))


def _fill_cache(data: bytes, name: str, steps_per_quarter: int) -> None:
    """Worker: parse one file into the cache (a refusal is cached too)."""
    with contextlib.suppress(InvalidMusicError):
        read_music_cached(data, name=name, steps_per_quarter=steps_per_quarter)


def _fill_cache_in_parallel(
    items: Sequence[tuple[str, bytes]],
    *,
    steps_per_quarter: int,
    on_progress: ProgressCallback | None,
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


def load_files(
    files: Sequence[Path | tuple[str, bytes]],
    *,
    steps_per_quarter: int,
    on_progress: ProgressCallback | None = None,
    use_cache: bool = True,
) -> LoadResult:
    """Read many files (paths or (name, bytes) uploads); a bad file is reported, never fatal.

    Files missing from the cache are parsed in parallel first when there are many of them.
    """
    errors: list[str] = []
    items: list[tuple[str, bytes]] = []
    seen: set[str] = set()  # content hashes: the same file twice would leak across the split
    shown: dict[Path, dict[str, str]] = {}  # folder → its display names (core.user_music)
    for item in files:
        if isinstance(item, tuple):
            name, data = item
        else:
            if item.parent not in shown:
                shown[item.parent] = names_for(item.parent)
            name = shown[item.parent].get(item.name, item.name)
            try:
                data = item.read_bytes()
            except OSError as error:
                errors.append(f"{name}: cannot be read ({error.strerror or error})")
                continue
        digest = hashlib.sha256(data).hexdigest()
        if digest in seen:
            log.info("%s: skipped, the same content was already loaded", name)
            continue
        seen.add(digest)
        items.append((name, data))
    if use_cache:
        _fill_cache_in_parallel(items, steps_per_quarter=steps_per_quarter, on_progress=on_progress)
    pieces: list[Piece] = []
    for done, (name, data) in enumerate(items, start=1):
        try:
            pieces.extend(
                read_music_cached(
                    data, name=name, steps_per_quarter=steps_per_quarter, use_cache=use_cache
                )
            )
        except InvalidMusicError as error:
            errors.append(str(error))
            log.info("refused %s", error)
        if on_progress:
            on_progress(done, len(items), name)
    return LoadResult(tuple(_unique_names(pieces)), tuple(errors))


def _unique_names(pieces: Iterable[Piece]) -> list[Piece]:
    seen: dict[str, int] = {}
    out = []
    for piece in pieces:
        count = seen.get(piece.name, 0) + 1
        seen[piece.name] = count
        if count > 1:
            piece = Piece(
                f"{piece.name} ({count})",
                piece.notes,
                piece.steps_per_quarter,
                piece.tempo_bpm,
                piece.key,
            )
        out.append(piece)
    return out


def source_files(sources: Sequence[str | Path]) -> list[Path]:
    """Preset names, files and folders (searched for music files) → a list of files."""
    files: list[Path] = []
    for source in sources:
        if isinstance(source, str) and source in PRESETS:
            files.extend(PRESETS[source].files())
            continue
        path = Path(source)
        if path.is_dir():
            files.extend(sorted(p for p in path.rglob("*") if p.suffix.lower() in EXTENSIONS))
        else:
            files.append(path)  # a missing file is reported by load_files
    return files


def load_sources(
    sources: Sequence[str | Path],
    *,
    steps_per_quarter: int,
    limit: int | None = None,
    on_progress: ProgressCallback | None = None,
) -> LoadResult:
    """Load presets, files and folders. `limit` keeps only the first N files (for quick runs)."""
    files = source_files(sources)
    if limit is not None:
        files = files[:limit]
    result = load_files(files, steps_per_quarter=steps_per_quarter, on_progress=on_progress)
    for source in sources:
        path = Path(source)
        if not (isinstance(source, str) and source in PRESETS) and not path.exists():
            result = LoadResult(result.pieces, (*result.errors, f"{path.name}: no such file"))
    return result


# ---------------------------------------------------------------- datasets


@dataclass(frozen=True)
class EncodedPiece:
    name: str
    tokens: tuple[str, ...]


@dataclass(frozen=True)
class DatasetSummary:
    pieces: int
    train_pieces: int
    valid_pieces: int
    notes: int
    tokens: int
    vocab_size: int
    heldout_coverage: float  # share of validation tokens the training vocabulary knows
    pitch_min: int
    pitch_max: int
    duration_s: float

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass(frozen=True)
class Dataset:
    """Pieces, their tokens split by piece, and the vocabulary built from the training side."""

    name: str
    config: EncodingConfig
    pieces: tuple[Piece, ...]
    train: tuple[EncodedPiece, ...]
    valid: tuple[EncodedPiece, ...]
    vocab: Vocabulary
    errors: tuple[str, ...] = field(default=())

    def summary(self) -> DatasetSummary:
        pitches = [n.pitch for p in self.pieces for n in p.notes]
        valid_tokens = [t for piece in self.valid for t in piece.tokens]
        return DatasetSummary(
            pieces=len(self.pieces),
            train_pieces=len(self.train),
            valid_pieces=len(self.valid),
            notes=sum(len(p.notes) for p in self.pieces),
            tokens=sum(len(p.tokens) for p in (*self.train, *self.valid)),
            vocab_size=len(self.vocab),
            heldout_coverage=round(self.vocab.coverage(valid_tokens), 6),
            pitch_min=min(pitches, default=0),
            pitch_max=max(pitches, default=0),
            duration_s=round(sum(p.duration_s for p in self.pieces), 1),
        )

    def train_ids(self) -> list[list[int]]:
        return [self.vocab.encode(p.tokens) for p in self.train]

    def valid_ids(self) -> list[list[int]]:
        return [self.vocab.encode(p.tokens) for p in self.valid]


def split_names(
    names: Sequence[str],
    *,
    seed: int = DEFAULT_SEED,
    valid_fraction: float = DEFAULT_VALID_FRACTION,
) -> tuple[list[int], list[int]]:
    """Indices (train, valid), split by piece: a piece is on one side only.

    The order comes from a hash of seed and name, so it does not depend on load order and
    adding a piece does not move the others. Two or more pieces always give a validation piece.
    """
    order = sorted(
        range(len(names)),
        key=lambda i: hashlib.sha256(f"{seed}:{names[i]}".encode()).hexdigest(),
    )
    n_valid = math.ceil(len(names) * valid_fraction) if len(names) >= 2 else 0
    valid = sorted(order[:n_valid])
    train = sorted(order[n_valid:])
    return train, valid


def build_dataset(
    pieces: Sequence[Piece],
    *,
    name: str,
    config: EncodingConfig,
    seed: int = DEFAULT_SEED,
    valid_fraction: float = DEFAULT_VALID_FRACTION,
    min_count: int = DEFAULT_MIN_COUNT,
    errors: Sequence[str] = (),
    vocab: Vocabulary | None = None,
    valid_names: Collection[str] | None = None,
) -> Dataset:
    """Encode pieces, split them by piece and build the vocabulary from the training side.

    With `config.transpose_semitones`, the vocabulary also holds every transposition the
    training pipeline may produce. A given `vocab` (a base model's) is used as it is.
    `valid_names`: exactly these pieces are held out (instead of `split_names`).
    """
    prepared = [prepare_piece(p, config) for p in pieces]
    encoded = [EncodedPiece(p.name, tuple(piece_to_tokens(p, config))) for p in prepared]
    if valid_names is None:
        train_idx, valid_idx = split_names(
            [p.name for p in prepared], seed=seed, valid_fraction=valid_fraction
        )
    else:
        held = set(valid_names)
        valid_idx = [i for i, p in enumerate(prepared) if p.name in held]
        train_idx = [i for i, p in enumerate(prepared) if p.name not in held]
    train = tuple(encoded[i] for i in train_idx)
    if vocab is None:
        vocab_source: list[Sequence[str]] = [p.tokens for p in train]
        for shift in range(-config.transpose_semitones, config.transpose_semitones + 1):
            if shift:
                vocab_source.extend(
                    t for p in train if (t := transpose_tokens(p.tokens, shift, config)) is not None
                )
        vocab = Vocabulary.build(vocab_source, min_count=min_count)
    return Dataset(
        name=name,
        config=config,
        pieces=tuple(prepared),
        train=train,
        valid=tuple(encoded[i] for i in valid_idx),
        vocab=vocab,
        errors=tuple(errors),
    )


def load_dataset(
    sources: Sequence[str | Path],
    *,
    config: EncodingConfig | None = None,
    name: str | None = None,
    seed: int = DEFAULT_SEED,
    valid_fraction: float = DEFAULT_VALID_FRACTION,
    limit: int | None = None,
    on_progress: ProgressCallback | None = None,
    vocab: Vocabulary | None = None,
) -> Dataset:
    """Presets and/or files → a Dataset. Bad files are listed in `errors`, never fatal.

    `vocab`: use this vocabulary (a base model's) instead of building one from the data.

    Raises:
        InvalidMusicError: not a single piece could be loaded.
    """
    config = config or EncodingConfig()
    result = load_sources(
        sources, steps_per_quarter=config.steps_per_quarter, limit=limit, on_progress=on_progress
    )
    if not result.pieces:
        reasons = "; ".join(result.errors) or "no music files found"
        raise InvalidMusicError(f"no usable pieces in {', '.join(map(str, sources))}: {reasons}")
    return dataset_from_loaded(
        result,
        sources,
        name=name or "+".join(Path(str(s)).name for s in sources),
        config=config,
        seed=seed,
        valid_fraction=valid_fraction,
        limit=limit,
        vocab=vocab,
    )


def dataset_from_loaded(
    loaded: LoadResult,
    sources: Sequence[str | Path],
    *,
    name: str,
    config: EncodingConfig,
    seed: int = DEFAULT_SEED,
    valid_fraction: float = DEFAULT_VALID_FRACTION,
    limit: int | None = None,
    vocab: Vocabulary | None = None,
) -> Dataset:
    """`build_dataset` on what `load_sources(sources, limit=limit)` read, split as training
    splits it (the Data page and `dataset --export` show the same split as a run uses)."""
    valid_names = None
    builtin = all(isinstance(s, str) and s in PRESETS for s in sources)
    as_the_base = len(sources) == 1 and sources[0] in BASE_COLLECTIONS and seed == DEFAULT_SEED
    if builtin and (limit is not None or not as_the_base):
        loaded, valid_names = _base_consistent_split(
            loaded,
            sources,
            steps_per_quarter=config.steps_per_quarter,
            valid_fraction=valid_fraction,
        )
    return build_dataset(
        loaded.pieces,
        name=name,
        config=config,
        seed=seed,
        valid_fraction=valid_fraction,
        errors=loaded.errors,
        vocab=vocab,
        valid_names=valid_names,
    )


@functools.lru_cache(maxsize=8)
def collection_heldout_names(collection: str, *, steps_per_quarter: int) -> frozenset[str]:
    """The names of the pieces a base collection holds out, split alone with the app's seed
    (as the base script and the app split it)."""
    pieces = load_sources([collection], steps_per_quarter=steps_per_quarter).pieces
    _, valid = split_names([p.name for p in pieces], seed=DEFAULT_SEED)
    return frozenset(pieces[i].name for i in valid)


def _base_consistent_split(
    loaded: LoadResult,
    sources: Sequence[str | Path],
    *,
    steps_per_quarter: int,
    valid_fraction: float,
) -> tuple[LoadResult, frozenset[str] | None]:
    """Built-in music other than one whole base collection split the app's way (its first N
    files, another split seed, a collection that shares pieces with one): held out where the
    base's collections hold it out.

    Split among themselves, the first 5 chorales held out one the base had trained on, and the
    Train page's scores flattered the base (2.12 held out where its honest figure is 2.84).
    When none of the loaded pieces is held out there, the first held-out pieces of the same
    collections are added (`valid_fraction` of the loaded count, at least one), so a run is
    still judged on music it never saw.
    """
    files = set(source_files(sources))
    shared = [c for c in BASE_COLLECTIONS if files & set(PRESETS[c].files())]
    if not shared:  # music the base never saw any of: split among itself
        return loaded, None
    heldout = frozenset().union(
        *(collection_heldout_names(c, steps_per_quarter=steps_per_quarter) for c in shared)
    )
    pieces = list(loaded.pieces)
    if len(pieces) >= 2 and not any(p.name in heldout for p in pieces):
        wanted = max(1, math.ceil(len(pieces) * valid_fraction))
        have = {p.name for p in pieces}
        whole = load_sources(sources, steps_per_quarter=steps_per_quarter).pieces
        pieces += [p for p in whole if p.name in heldout and p.name not in have][:wanted]
    return LoadResult(tuple(pieces), loaded.errors), heldout


def export_dataset(dataset: Dataset, out_dir: Path) -> None:
    """`vocab.json` (token → id), `train.jsonl`, `valid.jsonl` ({"name", "ids"} per line) and
    `encoding.json`, each written atomically."""
    out_dir.mkdir(parents=True, exist_ok=True)
    dataset.vocab.save(out_dir / "vocab.json")
    dataset.config.save(out_dir / "encoding.json")
    for split, items in (("train", dataset.train), ("valid", dataset.valid)):
        lines = (json.dumps({"name": p.name, "ids": dataset.vocab.encode(p.tokens)}) for p in items)
        atomic_write_text(out_dir / f"{split}.jsonl", "".join(line + "\n" for line in lines))
