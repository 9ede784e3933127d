"""Where the built-in collections' pieces start in their bar: an upbeat (anacrusis) before the
first bar line, read from their files with music21.

Pieces keep their meter (`Piece.meter`) but not their pickup: a piece read from a file starts
at its first note, and the parse cache (`core.data.parse_cache`) keeps no pickup. Most folk
tunes start on an upbeat (an eighth before the bar line of a jig), so the openings a model
ships (`core.generation.primers`, `primers.json`) record it from here: a snippet's bar lines
then fall where its tune's do. Parsing is slow (seconds per tune book), so only the pieces
asked for are read.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from pathlib import Path

from core.data.datasets import COLLECTIONS, Dataset
from core.music.files import score_pickup_quarters

log = logging.getLogger(__name__)

SCORE_NUMBER_MARK = " #"  # read_music names the scores of a tune book "<file stem> #<n> <title>"


def collection_pickups(
    names: Iterable[str], *, collections: Sequence[str], steps_per_quarter: int
) -> dict[str, int]:
    """Piece name → the steps before its first bar line, for the named pieces of built-in
    `collections` (a piece not found there is left out: it starts on a bar line)."""
    import music21

    wanted = set(names)
    stems = {name.split(SCORE_NUMBER_MARK, 1)[0] for name in wanted}
    pickups: dict[str, int] = {}
    for collection in collections:
        for path in COLLECTIONS[collection].files():
            if path.stem not in stems:
                continue
            for name, score in _named_scores(music21.converter.parse(path), Path(path).stem):
                if name in wanted and name not in pickups:
                    pickups[name] = round(score_pickup_quarters(score) * steps_per_quarter)
    missing = len(wanted - set(pickups))
    if missing:
        log.info("%d of %d pieces not found in %s", missing, len(wanted), ", ".join(collections))
    return pickups


def _named_scores(parsed: object, stem: str) -> list[tuple[str, object]]:
    """The scores of a parsed file under the names `core.music.files.read_music` gives them."""
    import music21

    scores = list(parsed.scores) if isinstance(parsed, music21.stream.Opus) else [parsed]
    if len(scores) == 1:
        return [(stem, scores[0])]
    named = []
    for index, score in enumerate(scores, start=1):
        metadata = getattr(score, "metadata", None)
        title = (metadata.title if metadata else None) or ""
        named.append((f"{stem}{SCORE_NUMBER_MARK}{index}" + (f" {title}" if title else ""), score))
    return named


def opening_pickups(dataset: Dataset, *, collections: Sequence[str], pieces: int) -> list[int]:
    """The pickups of the first `pieces` training pieces of `dataset` (the openings a model
    ships), in `train`'s order; 0 for a piece not found in `collections`."""
    names = [p.name for p in dataset.train[:pieces]]
    found = collection_pickups(
        names, collections=collections, steps_per_quarter=dataset.config.steps_per_quarter
    )
    return [found.get(name, 0) for name in names]
