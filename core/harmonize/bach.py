"""Bach's chorales as four voices (soprano, alto, tenor, bass), split as the app splits them.

The app reads a chorale as one piece of notes (`core.music.files`); the harmonizer needs its
voices apart, so music21 parses each file again here and each part is taken as its own line.
Only chorales of exactly four parts, each a single line (no chords, no overlapping notes), are
taken. A chorale is held out (never trained on, used by the benchmark) exactly when the app's
split holds it out: `collection_heldout_names("bach-chorales")`, by name and by content.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core.data.datasets import COLLECTIONS, collection_heldout_names
from core.music.keys import estimate_key, key_name
from core.music.meter import meter_text
from core.music.midi import quantize
from core.music.piece import DEFAULT_STEPS_PER_QUARTER, Note, Piece
from core.storage.files import atomic_write_json, cache_dir

log = logging.getLogger(__name__)

CHORALE_COLLECTION = "bach-chorales"
CACHE_VERSION = 1  # raise when `read_chorale` changes what it reads


@dataclass(frozen=True)
class Chorale:
    """A chorale's four voices, top to bottom, each a Piece of one line on the same grid."""

    name: str
    voices: tuple[Piece, Piece, Piece, Piece]
    bar_shift_quarters: float  # quarters missing from the first bar (its upbeat), from the score

    @property
    def soprano(self) -> Piece:
        return self.voices[0]


def _is_single_line(notes: tuple[Note, ...]) -> bool:
    return all(a.end_step <= b.onset_step for a, b in itertools.pairwise(notes))


def read_chorale(
    path: Path, *, steps_per_quarter: int = DEFAULT_STEPS_PER_QUARTER
) -> Chorale | None:
    """A chorale file's four voices; None when it has not exactly four single-line parts."""
    import music21

    score = music21.converter.parse(path)
    if not isinstance(score, music21.stream.Score):
        return None
    parts = list(score.parts)
    if len(parts) != 4:
        return None
    first = score.recurse().getElementsByClass(music21.meter.TimeSignature).first()
    meter = meter_text(first.numerator, first.denominator) if first is not None else ""
    measures = parts[0].getElementsByClass(music21.stream.Measure)
    pickup = float(measures[0].paddingLeft) if measures else 0.0
    name = path.stem
    voices: list[Piece] = []
    for part in parts:
        events: list[tuple[float, float, int]] = []
        for element in part.stripTies(inPlace=False).flatten().notes:
            length = float(element.duration.quarterLength)
            if length <= 0 or element.duration.isGrace:
                continue
            if len(element.pitches) != 1:
                return None  # a chord in one part: not a single line
            events.append((float(element.offset), length, element.pitches[0].midi))
        notes = tuple(sorted(quantize(events, steps_per_quarter=steps_per_quarter)))
        if not notes or not _is_single_line(notes):
            return None
        tonic, mode = estimate_key(notes)
        voices.append(Piece(name, notes, steps_per_quarter, key=key_name(tonic, mode), meter=meter))
    soprano, alto, tenor, bass = voices
    return Chorale(name, (soprano, alto, tenor, bass), pickup)


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def chorale_files(*, heldout: bool) -> list[Path]:
    """The collection's files on one side of the app's split, in the collection's order.

    A file is held out when its piece name is, or when its content equals a held-out file's
    (the app reads a repeated file once, under the first name)."""
    files = COLLECTIONS[CHORALE_COLLECTION].files()
    names = collection_heldout_names(
        CHORALE_COLLECTION, steps_per_quarter=DEFAULT_STEPS_PER_QUARTER
    )
    digests = {path: _digest(path) for path in files}
    held_digests = {digests[p] for p in files if p.stem in names}
    held = [p for p in files if p.stem in names or digests[p] in held_digests]
    if heldout:
        seen: set[str] = set()
        unique = []
        for path in held:
            if digests[path] not in seen:
                seen.add(digests[path])
                unique.append(path)
        return [p for p in unique if p.stem in names]
    seen_train: set[str] = set()
    train = []
    for path in files:
        if path in held or digests[path] in seen_train:
            continue
        seen_train.add(digests[path])
        train.append(path)
    return train


def _chorale_to_dict(chorale: Chorale | None) -> dict[str, Any]:
    if chorale is None:
        return {"refused": True}
    return {
        "name": chorale.name,
        "voices": [v.to_dict() for v in chorale.voices],
        "bar_shift_quarters": chorale.bar_shift_quarters,
    }


def _chorale_from_dict(data: dict[str, Any]) -> Chorale | None:
    if data.get("refused"):
        return None
    s, a, t, b = (Piece.from_dict(v) for v in data["voices"])
    return Chorale(str(data["name"]), (s, a, t, b), float(data["bar_shift_quarters"]))


def read_chorale_cached(path: Path) -> Chorale | None:
    """`read_chorale`, kept in the app's cache folder by the file's content: music21 takes a
    third of a second a chorale, the cache a millisecond."""
    data = path.read_bytes()
    key = hashlib.sha256(data + f"{path.stem}:v{CACHE_VERSION}".encode()).hexdigest()[:32]
    cached = cache_dir("chorale_voices") / f"{key}.json"
    try:
        return _chorale_from_dict(json.loads(cached.read_text()))
    except (OSError, ValueError, KeyError, TypeError):
        pass
    chorale = read_chorale(path)
    atomic_write_json(cached, _chorale_to_dict(chorale))
    return chorale


def read_chorales(paths: list[Path]) -> list[Chorale]:
    """The four-voice chorales among `paths` (the others are logged and skipped)."""
    chorales = []
    for path in paths:
        try:
            chorale = read_chorale_cached(path)
        except Exception as error:  # music21 raises many unrelated types for odd files
            log.info("%s: skipped (%s)", path.name, error)
            continue
        if chorale is None:
            log.info("%s: skipped, not four single-line parts", path.name)
            continue
        chorales.append(chorale)
    return chorales


@dataclass(frozen=True)
class HarmonizerSplit:
    """The chorales the harmonizer's models learn from: the training side of the app's split
    cut again (by name, with the scripts' seed) into the ones fitted and the ones that choose
    when to stop; and the held-out ones, which only the benchmark reads."""

    fit: list[Chorale]
    valid: list[Chorale]
    heldout: list[Chorale]
    train_files: int  # training files read (some have no four single-line parts)
    heldout_files: int

    @property
    def train(self) -> list[Chorale]:
        return self.fit + self.valid


def harmonizer_split(*, seed: int, valid_fraction: float) -> HarmonizerSplit:
    """Both harmonizer scripts' chorales (scripts/train_harmonizer.py, train_chord_model.py)."""
    from core.data.datasets import split_names

    train_paths, heldout_paths = chorale_files(heldout=False), chorale_files(heldout=True)
    train = read_chorales(train_paths)
    fit, valid = split_names([c.name for c in train], seed=seed, valid_fraction=valid_fraction)
    return HarmonizerSplit(
        fit=[train[i] for i in fit],
        valid=[train[i] for i in valid],
        heldout=read_chorales(heldout_paths),
        train_files=len(train_paths),
        heldout_files=len(heldout_paths),
    )
