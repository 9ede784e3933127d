"""The folk style's chord habits: which chord starts a tune, follows another, ends it.

Learned by counting the charts `chord_fit.estimate_states` gives the built-in folk tunes
(training side only), per mode, in C major / A minor, with `SMOOTHING_COUNT` added to every
count so a change never seen is unlikely, not impossible. Stored as `folk_chords.json` beside
this module, written by `scripts/write_folk_chords.py`.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from core.harmonize.chord_fit import KEY_CHORDS, ChordsPer, analyse, estimate_states
from core.harmonize.melody import Melody
from core.storage.files import atomic_write_json

FOLK_CHORDS_PATH = Path(__file__).with_name("folk_chords.json")
FOLK_CHORDS_VERSION = 1
SMOOTHING_COUNT = 0.5
DIGITS = 6


@dataclass(frozen=True)
class ChordTables:
    """The learned probabilities of one mode, over `chords` (C major / A minor names)."""

    chords: tuple[str, ...]
    start: np.ndarray  # (chords,)
    into_bar: np.ndarray  # (from, to): the change at a bar line
    within_bar: np.ndarray  # (from, to): the change inside a bar (half bar, a 9/8 beat)
    end: np.ndarray  # (chords,): the chart's last chord

    def to_dict(self) -> dict[str, object]:
        return {
            "chords": list(self.chords),
            "start": _rounded(self.start),
            "into_bar": _rounded(self.into_bar),
            "within_bar": _rounded(self.within_bar),
            "end": _rounded(self.end),
        }

    @classmethod
    def from_dict(cls, data: dict[str, object]) -> ChordTables:
        def array(key: str) -> np.ndarray:
            return np.asarray(data[key], dtype=float)

        chords = tuple(str(c) for c in data["chords"])  # type: ignore[attr-defined]
        return cls(chords, array("start"), array("into_bar"), array("within_bar"), array("end"))


def _rounded(values: np.ndarray) -> list:
    return np.round(values, DIGITS).tolist()


@functools.lru_cache(maxsize=1)
def folk_tables() -> dict[str, ChordTables]:
    """The bundled tables, by mode ("major", "minor").

    Raises:
        ValueError: the file is of another version or for other chords than `KEY_CHORDS`.
    """
    return read_tables(FOLK_CHORDS_PATH)


def read_tables(path: Path) -> dict[str, ChordTables]:
    data = json.loads(path.read_text())
    if data.get("version") != FOLK_CHORDS_VERSION:
        raise ValueError(f"{path.name}: version {data.get('version')}, not {FOLK_CHORDS_VERSION}")
    tables = {mode: ChordTables.from_dict(data["modes"][mode]) for mode in KEY_CHORDS}
    for mode, table in tables.items():
        if table.chords != KEY_CHORDS[mode]:
            raise ValueError(f"{path.name}: its {mode} chords are not those of KEY_CHORDS")
    return tables


def _normalized(counts: np.ndarray) -> np.ndarray:
    counts = counts + SMOOTHING_COUNT
    return counts / counts.sum(axis=-1, keepdims=True)


def learn_tables(melodies: Iterable[Melody]) -> tuple[dict[str, ChordTables], dict[str, int]]:
    """The tables counted from `melodies`' estimated charts, and how many tunes each mode had."""
    counts: dict[str, dict[str, np.ndarray]] = {}
    tunes = dict.fromkeys(KEY_CHORDS, 0)
    for mode, names in KEY_CHORDS.items():
        n = len(names)
        counts[mode] = {
            "start": np.zeros(n),
            "into_bar": np.zeros((n, n)),
            "within_bar": np.zeros((n, n)),
            "end": np.zeros(n),
        }
    for melody in melodies:
        analysis = analyse(melody, per=ChordsPer.AUTO)
        states = estimate_states(analysis.fit, analysis.grid, analysis.spans)
        table = counts[analysis.mode]
        tunes[analysis.mode] += 1
        table["start"][states[0]] += 1
        table["end"][states[-1]] += 1
        bars = [analysis.grid.bar_index(start) for start, _ in analysis.spans]
        for t in range(1, len(states)):
            kind = "into_bar" if bars[t] != bars[t - 1] else "within_bar"
            table[kind][states[t - 1], states[t]] += 1
    tables = {
        mode: ChordTables(
            KEY_CHORDS[mode],
            _normalized(c["start"]),
            _normalized(c["into_bar"]),
            _normalized(c["within_bar"]),
            _normalized(c["end"]),
        )
        for mode, c in counts.items()
    }
    return tables, tunes


def write_tables(
    path: Path, tables: dict[str, ChordTables], *, source: str, tunes: dict[str, int]
) -> None:
    atomic_write_json(
        path,
        {
            "version": FOLK_CHORDS_VERSION,
            "source": source,
            "tunes": tunes,
            "modes": {mode: table.to_dict() for mode, table in tables.items()},
        },
    )
