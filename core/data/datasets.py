"""Datasets: named lists of pieces from built-in music21 corpora or the user's files.

Files are read through the parse cache (`core.data.parse_cache`), so a second build takes seconds.
Train and validation are split by piece, deterministically for a seed.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import math
from collections import Counter
from collections.abc import Collection as CollectionOf
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from core.config import Config
from core.data.parse_cache import fill_cache_in_parallel, read_music_cached
from core.data.user_music import names_for
from core.errors import InvalidMusicError
from core.music.files import EXTENSIONS
from core.music.meter import Meter
from core.music.piece import BEATS_PER_BAR, Piece
from core.progress import ProgressCallback
from core.storage.files import atomic_write_text
from core.tokens.config import EncodingConfig
from core.tokens.scheme import piece_to_tokens, prepare_piece, transpose_tokens
from core.tokens.vocabulary import Vocabulary

log = logging.getLogger(__name__)

SPLIT_SEED = 1234  # the one split seed: `dataset --export`, `train` and the app all use it
DEFAULT_VALID_FRACTION = 0.1
DEFAULT_MIN_COUNT = 1


# ---------------------------------------------------------------- presets


@dataclass(frozen=True)
class Collection:
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


COLLECTIONS: dict[str, Collection] = {
    p.name: p
    for p in (
        Collection(
            "bach-chorales",
            "Bach chorales",
            "The four-part chorales of J. S. Bach (Riemenschneider's collection, each once).",
            chorales=True,
        ),
        Collection(
            "folk-tunes",
            "Irish folk tunes",
            "Dance tunes from O'Neill's 1850 and Ryan's Mammoth Collection (ABC tune books).",
            corpus_globs=("oneills1850/*.abc", "ryansMammoth/*.abc"),
        ),
        Collection(
            "oneills-1850",
            "O'Neill's 1850",
            "The 1,850 Irish melodies of O'Neill's 1903 collection (some in several parts).",
            corpus_globs=("oneills1850/*.abc",),
        ),
    )
}
DEFAULT_COLLECTION = "bach-chorales"
# The collections the base model (models/base, scripts/train_base_model.py) learned from, each
# split alone with SPLIT_SEED. Any built-in music is held out where these splits hold it out
# (`collection_heldout_names`), so a model fine-tuned from the base is never judged on a piece
# the base trained on.
BASE_COLLECTIONS = ("bach-chorales", "folk-tunes")


# ---------------------------------------------------------------- loading files


@dataclass(frozen=True)
class LoadResult:
    pieces: tuple[Piece, ...]
    errors: tuple[str, ...]  # one line per refused file, starting with its name


def load_files(
    files: Sequence[Path | tuple[str, bytes]],
    *,
    steps_per_quarter: int,
    on_progress: ProgressCallback[str] | None = None,
    use_cache: bool = True,
) -> LoadResult:
    """Read many files (paths or (name, bytes) uploads); a bad file is reported, never fatal.

    Files missing from the cache are parsed in parallel first when there are many of them.
    """
    errors: list[str] = []
    items: list[tuple[str, bytes]] = []
    seen: set[str] = set()  # content hashes: the same file twice would leak across the split
    shown: dict[Path, dict[str, str]] = {}  # folder → its display names (core.data.user_music)
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
        fill_cache_in_parallel(items, steps_per_quarter=steps_per_quarter, on_progress=on_progress)
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
            piece = replace(piece, name=f"{piece.name} ({count})")
        out.append(piece)
    return out


def source_files(sources: Sequence[str | Path]) -> list[Path]:
    """Collection names, files and folders (searched for music files) → a list of files."""
    files: list[Path] = []
    for source in sources:
        if isinstance(source, str) and source in COLLECTIONS:
            files.extend(COLLECTIONS[source].files())
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
    on_progress: ProgressCallback[str] | None = None,
) -> LoadResult:
    """Load presets, files and folders. `limit` keeps only the first N files (for quick runs)."""
    files = source_files(sources)
    if limit is not None:
        files = files[:limit]
    result = load_files(files, steps_per_quarter=steps_per_quarter, on_progress=on_progress)
    for source in sources:
        path = Path(source)
        if not (isinstance(source, str) and source in COLLECTIONS) and not path.exists():
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


# The music summary's percentiles: the texture's "most notes at once" ignores the rarest 1% of
# onsets (a stray double stop), the range its lowest and highest 2% of notes.
TEXTURE_PERCENTILE = 99.0
RANGE_PERCENTILES = (2.0, 98.0)
# A piece's own span (its highest pitch less its lowest), at this percentile of the pieces: a
# tune wanders over less than its collection's range (folk songs: 11 semitones each, 24 all
# together), and generation keeps a new piece within it.
SPAN_PERCENTILE = 75.0
# The summary's meters: the most common ones, at most this many (a collection has a handful;
# O'Neill's 1850 has 10). A meter is known when at least this share of the pieces states one.
MAX_SUMMARY_METERS = 16
METER_KNOWN_SHARE = 0.5


@dataclass(frozen=True)
class MusicSummary(Config):
    """What a set of pieces sounds like: tempo, meter, texture and range.

    A model folder keeps its training music's (`core.model.model_data`), and generation follows
    it. Pitches are as the model sees them (key-normalized when its encoding is).

    `meters` is the share of the pieces in each meter their files state ({"6/8": 0.45, "4/4":
    0.3}; the rest state none), None when none states one (and in files written before meters
    were kept). `beats_per_bar` is the beats felt in a bar of the most common one (6/8: 2, 3/4:
    3), 4 when none is stated; `meter_known` says that at least half the pieces state a meter.
    """

    tempo_bpm: float  # the median of the pieces' tempos
    chord_onset_share: float  # share of onsets with more than one note
    max_notes_per_onset: int  # at the TEXTURE_PERCENTILE-th percentile of onsets
    pitch_low: int  # RANGE_PERCENTILES of the notes' pitches
    pitch_high: int
    pieces: int
    beats_per_bar: int = BEATS_PER_BAR
    meter_known: bool = False  # False: beats_per_bar is assumed, not read
    pitch_span: int | None = None  # semitones one piece spans (SPAN_PERCENTILE); None: unknown
    onsets_per_beat: float | None = None  # the pieces' median; None: not recorded
    meters: dict[str, float] | None = None  # meter → share of the pieces; None: none stated
    notes_per_onset: float | None = None  # the mean chord size; None: not recorded

    def __post_init__(self) -> None:  # a model folder's file is anyone's JSON
        if not 0.0 < float(self.tempo_bpm) <= 1000.0 or not 0.0 <= self.chord_onset_share <= 1.0:
            raise ValueError("tempo_bpm or chord_onset_share out of range")
        if self.max_notes_per_onset < 1 or self.beats_per_bar < 1:
            raise ValueError("max_notes_per_onset and beats_per_bar must be positive")
        if not 0 <= self.pitch_low <= self.pitch_high <= 127:
            raise ValueError("pitch_low..pitch_high must be a MIDI pitch range")
        if self.pitch_span is not None and not 0 <= self.pitch_span <= 127:
            raise ValueError("pitch_span must be 0..127 semitones")
        if self.onsets_per_beat is not None and not 0.0 < self.onsets_per_beat <= 64.0:
            raise ValueError("onsets_per_beat must be above 0 and at most 64")
        if self.notes_per_onset is not None and not 1.0 <= self.notes_per_onset <= 128.0:
            raise ValueError("notes_per_onset must be from 1 to 128")
        if self.meters is not None:
            _check_meter_shares(self.meters)

    @property
    def single_line(self) -> bool:
        """One note at a time (a melody, not chords)."""
        return self.max_notes_per_onset <= 1

    @property
    def main_meter(self) -> str:
        """The most common stated meter ("6/8"), "" when none is stated."""
        meters = self.meters or {}
        return max(meters, key=meters.__getitem__, default="")


def _check_meter_shares(meters: object) -> None:
    if not isinstance(meters, dict) or len(meters) > MAX_SUMMARY_METERS:
        raise ValueError(f"meters must be an object of at most {MAX_SUMMARY_METERS} meters")
    for meter, share in meters.items():
        Meter.parse(meter)  # ValueError: not a meter
        if isinstance(share, bool) or not isinstance(share, int | float) or not 0 <= share <= 1:
            raise ValueError(f"the share of meter {meter} must be a number from 0 to 1")


def _meter_shares(pieces: Sequence[Piece]) -> dict[str, float] | None:
    """The share of `pieces` in each stated meter, the most common first (at most
    MAX_SUMMARY_METERS); None when none states one."""
    counts = Counter(p.meter for p in pieces if p.meter)
    ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:MAX_SUMMARY_METERS]
    return {meter: round(n / len(pieces), 4) for meter, n in ranked} or None


def summarize_music(pieces: Sequence[Piece]) -> MusicSummary | None:
    """The pieces' `MusicSummary`; None when they hold no notes."""
    import numpy as np

    with_notes = [p for p in pieces if p.notes]
    if not with_notes:
        return None
    sizes: list[int] = []
    for piece in with_notes:
        _, counts = np.unique([n.onset_step for n in piece.notes], return_counts=True)
        sizes.extend(int(c) for c in counts)
    pitches = [n.pitch for p in with_notes for n in p.notes]
    low, high = (int(np.percentile(pitches, q, method="nearest")) for q in RANGE_PERCENTILES)
    spans = [max(n.pitch for n in p.notes) - min(n.pitch for n in p.notes) for p in with_notes]
    paces = [
        len({n.onset_step for n in p.notes}) / max(p.length_steps / p.steps_per_quarter, 1.0)
        for p in with_notes
    ]
    meters = _meter_shares(with_notes)
    stated = sum(1 for p in with_notes if p.meter)
    return MusicSummary(
        tempo_bpm=round(float(np.median([p.tempo_bpm for p in with_notes])), 2),
        chord_onset_share=round(sum(s > 1 for s in sizes) / len(sizes), 4),
        max_notes_per_onset=int(np.percentile(sizes, TEXTURE_PERCENTILE, method="higher")),
        pitch_low=low,
        pitch_high=high,
        pieces=len(with_notes),
        beats_per_bar=Meter.parse(next(iter(meters))).beats if meters else BEATS_PER_BAR,
        meter_known=stated > 0 and stated >= METER_KNOWN_SHARE * len(with_notes),
        pitch_span=int(np.percentile(spans, SPAN_PERCENTILE, method="higher")),
        onsets_per_beat=round(float(np.median(paces)), 4),
        meters=meters,
        notes_per_onset=round(sum(sizes) / len(sizes), 4),
    )


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

    def music_summary(self) -> MusicSummary | None:
        """The training side's music (what the model learns from), as it is encoded."""
        names = {p.name for p in self.train}
        return summarize_music([p for p in self.pieces if p.name in names])

    def train_meters(self) -> list[str]:
        """Each training piece's meter, in `train`'s order ("" where its file states none)."""
        meters = {p.name: p.meter for p in self.pieces}
        return [meters.get(p.name, "") for p in self.train]

    def train_ids(self) -> list[list[int]]:
        return [self.vocab.encode(p.tokens) for p in self.train]

    def valid_ids(self) -> list[list[int]]:
        return [self.vocab.encode(p.tokens) for p in self.valid]


def split_names(
    names: Sequence[str],
    *,
    seed: int = SPLIT_SEED,
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
    seed: int = SPLIT_SEED,
    valid_fraction: float = DEFAULT_VALID_FRACTION,
    min_count: int = DEFAULT_MIN_COUNT,
    errors: Sequence[str] = (),
    vocab: Vocabulary | None = None,
    valid_names: CollectionOf[str] | None = None,
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
    seed: int = SPLIT_SEED,
    valid_fraction: float = DEFAULT_VALID_FRACTION,
    limit: int | None = None,
    on_progress: ProgressCallback[str] | None = None,
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
        # Sources by their last name only: a workspace's folder is a server path with its id.
        named = ", ".join(Path(str(source)).name or str(source) for source in sources)
        raise InvalidMusicError(f"no usable pieces in {named}: {reasons}")
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
    seed: int = SPLIT_SEED,
    valid_fraction: float = DEFAULT_VALID_FRACTION,
    limit: int | None = None,
    vocab: Vocabulary | None = None,
) -> Dataset:
    """`build_dataset` on what `load_sources(sources, limit=limit)` read, split as training
    splits it (the Data page and `dataset --export` show the same split as a run uses)."""
    valid_names = None
    builtin = all(isinstance(s, str) and s in COLLECTIONS for s in sources)
    as_the_base = len(sources) == 1 and sources[0] in BASE_COLLECTIONS and seed == SPLIT_SEED
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
    _, valid = split_names([p.name for p in pieces], seed=SPLIT_SEED)
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
    shared = [c for c in BASE_COLLECTIONS if files & set(COLLECTIONS[c].files())]
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
