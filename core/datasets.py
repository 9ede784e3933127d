"""Datasets: named lists of pieces from built-in music21 corpora or the user's files.

Parsing with music21 is slow (about half a second per chorale), so every parsed file is cached
on disk, keyed by the file's content hash and the grid, and a second build takes seconds.
Train and validation are split by piece, deterministically for a seed.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import math
import multiprocessing
import os
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
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
from core.storage import atomic_write_json, atomic_write_text, cache_dir

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
            "About a thousand Irish melodies from Francis O'Neill's 1903 collection.",
            corpus_globs=("oneills1850/*.abc",),
        ),
    )
}
DEFAULT_PRESET = "bach-chorales"


# ---------------------------------------------------------------- parsing with a cache


def _cache_key(data: bytes, steps_per_quarter: int) -> str:
    digest = hashlib.sha256(data).hexdigest()
    return f"{digest}-spq{steps_per_quarter}-v{PARSER_VERSION}"


def read_music_cached(
    data: bytes, *, name: str, steps_per_quarter: int, use_cache: bool = True
) -> list[Piece]:
    """`read_music` with an on-disk cache keyed by content hash and grid. Errors are cached too."""
    path = cache_dir("pieces") / f"{_cache_key(data, steps_per_quarter)}.json"
    if use_cache and path.exists():
        try:
            with contextlib.suppress(OSError):
                os.utime(path)  # used now: the cache is trimmed least recently used first
            cached = json.loads(path.read_text())
            if "error" in cached:
                raise InvalidMusicError(cached["error"].replace("{name}", name))
            return [_renamed(Piece.from_dict(d), cached["name"], name) for d in cached["pieces"]]
        except (ValueError, KeyError) as error:
            if isinstance(error, InvalidMusicError):
                raise
            log.warning("ignoring a corrupt cache entry %s (%s)", path.name, error)
    try:
        pieces = read_music(data, name=name, steps_per_quarter=steps_per_quarter)
    except InvalidMusicError as error:
        message = str(error)
        if use_cache and message.startswith(name):
            atomic_write_json(path, {"error": "{name}" + message[len(name) :]})
        raise
    if use_cache:
        atomic_write_json(path, {"name": name, "pieces": [p.to_dict() for p in pieces]})
    return pieces


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
        if not (cache_dir("pieces") / f"{_cache_key(data, steps_per_quarter)}.json").exists()
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
    for item in files:
        if isinstance(item, tuple):
            name, data = item
        else:
            name = item.name
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
) -> Dataset:
    """Encode pieces, split them by piece and build the vocabulary from the training side.

    With `config.transpose_semitones`, the vocabulary also holds every transposition the
    training pipeline may produce. A given `vocab` (a base model's) is used as it is.
    """
    prepared = [prepare_piece(p, config) for p in pieces]
    encoded = [EncodedPiece(p.name, tuple(piece_to_tokens(p, config))) for p in prepared]
    train_idx, valid_idx = split_names(
        [p.name for p in prepared], seed=seed, valid_fraction=valid_fraction
    )
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
    return build_dataset(
        result.pieces,
        name=name or "+".join(Path(str(s)).name for s in sources),
        config=config,
        seed=seed,
        valid_fraction=valid_fraction,
        errors=result.errors,
        vocab=vocab,
    )


def export_dataset(dataset: Dataset, out_dir: Path) -> None:
    """`vocab.json` (token → id), `train.jsonl`, `valid.jsonl` ({"name", "ids"} per line) and
    `encoding.json`, each written atomically."""
    out_dir.mkdir(parents=True, exist_ok=True)
    dataset.vocab.save(out_dir / "vocab.json")
    dataset.config.save(out_dir / "encoding.json")
    for split, items in (("train", dataset.train), ("valid", dataset.valid)):
        lines = (json.dumps({"name": p.name, "ids": dataset.vocab.encode(p.tokens)}) for p in items)
        atomic_write_text(out_dir / f"{split}.jsonl", "".join(line + "\n" for line in lines))
