"""Is a generated piece original, or copied from the training music?

Notes are compared as the melody of their sorted order (onset, then pitch), transposition- and
time-invariantly: each note is described by its step from the previous one, (pitch interval,
onset gap). A passage is copied when that sequence appears note for note in one training piece.

The index hashes every 8-note window (7 steps) of the training notes once per model; a query
looks each window of a generated piece up with a binary search and follows runs of matching
windows on the same diagonal (consecutive windows of one training piece), so it never scans the
corpus. The longest run is checked step by step against the stored notes, so a hash collision
can never report a copy that is not there.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from core.music.piece import Note, Piece, bar_grid, steps_per_bar

log = logging.getLogger(__name__)

WINDOW_NOTES = 8
COPY_FLAG_BARS = 2.0  # a copied passage this long (or longer) is flagged
MAX_GAP_STEPS = (1 << 24) - 1  # onset gaps are capped here inside the codes
GAP_CODES = MAX_GAP_STEPS + 1  # a code is (interval + INTERVAL_OFFSET) * GAP_CODES + gap
INTERVAL_OFFSET = 128  # pitch intervals -127..127 become 1..255
# A model's notes file is read whole: its arrays may say they hold this much at most (the
# bundled models' hold a few MB; 200 MB is the notes of some 20 million notes).
MAX_TRAINING_NOTES_BYTES = 200_000_000
_NO_STEP = np.int64(-1)  # between pieces: no window may span it
HASH_BASE = np.uint64(0x9E3779B97F4A7C15)


def step_codes(onsets: np.ndarray, pitches: np.ndarray) -> np.ndarray:
    """One int64 per note after the first: (pitch interval, onset gap) packed together."""
    intervals = np.diff(pitches.astype(np.int64)) + INTERVAL_OFFSET
    gaps = np.minimum(np.diff(onsets.astype(np.int64)), MAX_GAP_STEPS)
    return np.asarray(intervals * GAP_CODES + gaps, dtype=np.int64)


def window_hashes(codes: np.ndarray) -> np.ndarray:
    """A uint64 hash of every run of WINDOW_NOTES - 1 consecutive codes."""
    steps = WINDOW_NOTES - 1
    count = len(codes) - steps + 1
    if count <= 0:
        return np.zeros(0, dtype=np.uint64)
    values = codes.astype(np.uint64)
    hashes = np.zeros(count, dtype=np.uint64)
    with np.errstate(over="ignore"):
        for k in range(steps):
            hashes = hashes * HASH_BASE + values[k : k + count]
    return hashes


@dataclass(frozen=True)
class TrainingNotes:
    """The notes of every training piece, flat, in each piece's sorted order."""

    names: tuple[str, ...]
    offsets: np.ndarray  # (pieces + 1,) int64: piece p holds notes offsets[p]:offsets[p + 1]
    onsets: np.ndarray  # int64 grid steps
    pitches: np.ndarray  # int64
    durations: np.ndarray  # int64 grid steps
    steps_per_quarter: int

    @classmethod
    def from_pieces(cls, pieces: Sequence[Piece], *, steps_per_quarter: int) -> TrainingNotes:
        notes = [sorted(p.notes) for p in pieces]
        sizes = [len(n) for n in notes]
        flat = [note for piece_notes in notes for note in piece_notes]
        return cls(
            names=tuple(p.name for p in pieces),
            offsets=np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64),
            onsets=np.array([n.onset_step for n in flat], dtype=np.int64),
            pitches=np.array([n.pitch for n in flat], dtype=np.int64),
            durations=np.array([n.duration_steps for n in flat], dtype=np.int64),
            steps_per_quarter=steps_per_quarter,
        )

    def pieces(self) -> list[Piece]:
        """The training pieces again, one per name (tempo and key are not kept)."""
        return [
            Piece(
                name=name,
                notes=tuple(
                    Note(int(o), int(p), int(d))
                    for o, p, d in zip(
                        self.onsets[begin:end],
                        self.pitches[begin:end],
                        self.durations[begin:end],
                        strict=True,
                    )
                ),
                steps_per_quarter=self.steps_per_quarter,
            )
            for name, begin, end in zip(
                self.names, self.offsets[:-1], self.offsets[1:], strict=True
            )
        ]

    def save(self, path: Path) -> None:
        """Write as .npz (no pickled objects) through a temporary file."""
        import io

        from core.storage.files import atomic_write_bytes

        buffer = io.BytesIO()
        np.savez_compressed(
            buffer,
            names=np.array(self.names, dtype=str),
            offsets=self.offsets,
            onsets=self.onsets.astype(np.int32),
            pitches=self.pitches.astype(np.int8),
            durations=self.durations.astype(np.int32),
            steps_per_quarter=np.array(self.steps_per_quarter),
        )
        atomic_write_bytes(Path(path), buffer.getvalue())

    @classmethod
    def load(cls, path: Path) -> TrainingNotes:
        """Raises ValueError (or OSError) when the file is not a valid training-notes file."""
        import zipfile
        import zlib

        try:
            _check_array_sizes(Path(path))
            with np.load(Path(path), allow_pickle=False) as data:
                notes = cls(
                    names=tuple(str(n) for n in data["names"]),
                    offsets=data["offsets"].astype(np.int64),
                    onsets=data["onsets"].astype(np.int64),
                    pitches=data["pitches"].astype(np.int64),
                    durations=data["durations"].astype(np.int64),
                    steps_per_quarter=int(data["steps_per_quarter"]),
                )
        except (
            zipfile.BadZipFile,
            zlib.error,
            EOFError,
            KeyError,
            TypeError,
            MemoryError,
        ) as error:
            # a truncated or foreign file: np.load raises these rather than ValueError
            raise ValueError(f"not a training-notes file ({error})") from error
        total = len(notes.onsets)
        if (
            len(notes.offsets) != len(notes.names) + 1
            or notes.offsets[0] != 0
            or notes.offsets[-1] != total
            or np.any(np.diff(notes.offsets) < 0)
            or len(notes.pitches) != total
            or len(notes.durations) != total
        ):
            raise ValueError("inconsistent training notes")
        return notes

    def piece_of(self, note_index: int) -> int:
        return int(np.searchsorted(self.offsets, note_index, side="right") - 1)

    def excerpt(self, start: int, count: int, *, name: str = "") -> Piece:
        """Notes start..start+count (flat indices) as a piece starting at time 0."""
        stop = start + count
        base = int(self.onsets[start])
        notes = tuple(
            sorted(
                Note(int(o) - base, int(p), int(d))
                for o, p, d in zip(
                    self.onsets[start:stop],
                    self.pitches[start:stop],
                    self.durations[start:stop],
                    strict=True,
                )
            )
        )
        return Piece(name=name, notes=notes, steps_per_quarter=self.steps_per_quarter)


@dataclass(frozen=True)
class CopiedPassage:
    """The longest passage of a generated piece found note for note in one training piece."""

    notes: int
    bars: float
    start_note: int  # in the generated piece's sorted notes
    start_bar: int  # 1-based bars of the generated piece
    end_bar: int
    source: str
    source_start_note: int  # in the source piece's sorted notes
    source_start_bar: int
    source_end_bar: int

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass(frozen=True)
class Originality:
    """One generated piece against the training music."""

    name: str
    windows: int  # 8-note windows in the piece
    windows_found: int  # of them, found anywhere in the training music
    longest: CopiedPassage | None  # None: not even one 8-note window is copied

    @property
    def found_share(self) -> float:
        return self.windows_found / self.windows if self.windows else 0.0

    @property
    def longest_bars(self) -> float:
        return self.longest.bars if self.longest else 0.0

    @property
    def longest_notes(self) -> int:
        return self.longest.notes if self.longest else 0

    @property
    def flagged(self) -> bool:
        return self.longest_bars >= COPY_FLAG_BARS

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "windows": self.windows,
            "windows_found": self.windows_found,
            "found_share": self.found_share,
            "longest_notes": self.longest_notes,
            "longest_bars": self.longest_bars,
            "flagged": self.flagged,
            "longest": self.longest.to_dict() if self.longest else None,
        }


class OriginalityIndex:
    """Every 8-note window of the training notes, hashed and sorted for binary search."""

    def __init__(self, notes: TrainingNotes) -> None:
        self.notes = notes
        codes = np.full(len(notes.onsets), _NO_STEP, dtype=np.int64)
        for p in range(len(notes.names)):
            start, stop = int(notes.offsets[p]), int(notes.offsets[p + 1])
            if stop - start >= 2:
                codes[start : stop - 1] = step_codes(
                    notes.onsets[start:stop], notes.pitches[start:stop]
                )
        self.codes = codes  # codes[g]: the step from note g to g + 1 (-1 at a piece's end)
        hashes = window_hashes(codes)
        steps = WINDOW_NOTES - 1
        broken = np.convolve((codes == _NO_STEP).astype(np.int64), np.ones(steps, np.int64))
        valid = broken[steps - 1 : steps - 1 + len(hashes)] == 0
        starts = np.flatnonzero(valid)
        order = np.argsort(hashes[starts], kind="stable")
        self.sorted_hashes = hashes[starts][order]
        self.sorted_starts = starts[order]  # the flat note index each window starts at

    @property
    def windows(self) -> int:
        return len(self.sorted_starts)

    def _lookup(self, hashes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        low = np.searchsorted(self.sorted_hashes, hashes, side="left")
        high = np.searchsorted(self.sorted_hashes, hashes, side="right")
        return low, high

    def query(self, piece: Piece) -> Originality:
        """The piece's longest copied passage and its share of copied 8-note windows."""
        ordered = sorted(piece.notes)
        onsets = np.array([n.onset_step for n in ordered], dtype=np.int64)
        pitches = np.array([n.pitch for n in ordered], dtype=np.int64)
        codes = step_codes(onsets, pitches) if len(ordered) >= 2 else np.zeros(0, np.int64)
        hashes = window_hashes(codes)
        low, high = self._lookup(hashes)
        found = high > low
        best = (0, -1, -1)  # (run of windows, query window, flat source start)
        previous = np.zeros(0, dtype=np.int64)
        previous_runs = np.zeros(0, dtype=np.int64)
        for q in range(len(hashes)):
            starts = np.sort(self.sorted_starts[low[q] : high[q]])
            runs = np.ones(len(starts), dtype=np.int64)
            if len(previous) and len(starts):
                at = np.searchsorted(previous, starts - 1)
                at_clipped = np.minimum(at, len(previous) - 1)
                hit = previous[at_clipped] == starts - 1
                runs[hit] += previous_runs[at_clipped[hit]]
            if len(runs):
                k = int(np.argmax(runs))
                if runs[k] > best[0]:
                    best = (int(runs[k]), q, int(starts[k]))
            previous, previous_runs = starts, runs
        longest = self._passage(piece, ordered, codes, *best) if best[0] else None
        return Originality(
            name=piece.name,
            windows=len(hashes),
            windows_found=int(found.sum()),
            longest=longest,
        )

    def _passage(
        self,
        piece: Piece,
        ordered: list[Note],
        codes: np.ndarray,
        run: int,
        last_window: int,
        last_source: int,
    ) -> CopiedPassage | None:
        first = last_window - run + 1
        source = last_source - run + 1
        count = run + WINDOW_NOTES - 1
        steps = count - 1
        if not np.array_equal(codes[first : first + steps], self.codes[source : source + steps]):
            log.warning("hash collision in the originality index; passage ignored")
            return None
        # In bars of the piece's meter, as the copy guard stops them (4/4 when it states none);
        # the training pieces' bars are 4/4 bars (the index keeps no meter).
        grid = bar_grid(piece)
        bar = steps_per_bar(piece.steps_per_quarter)
        passage = ordered[first : first + count]
        span = passage[-1].onset_step - passage[0].onset_step + passage[-1].duration_steps
        p = self.notes.piece_of(source)
        piece_start = int(self.notes.offsets[p])
        return CopiedPassage(
            notes=count,
            bars=span / grid.bar_steps,
            start_note=first,
            start_bar=grid.bar_of(passage[0].onset_step) + 1,
            end_bar=grid.bar_of(passage[-1].onset_step) + 1,
            source=self.notes.names[p],
            source_start_note=source - piece_start,
            source_start_bar=int(self.notes.onsets[source]) // bar + 1,
            source_end_bar=int(self.notes.onsets[source + count - 1]) // bar + 1,
        )

    def source_excerpt(self, passage: CopiedPassage) -> Piece:
        """The copied passage as it stands in its training piece, starting at time 0."""
        p = self.notes.names.index(passage.source)
        start = int(self.notes.offsets[p]) + passage.source_start_note
        return self.notes.excerpt(start, passage.notes, name=passage.source)


def passage_excerpt(piece: Piece, passage: CopiedPassage) -> Piece:
    """The copied passage as it stands in the generated piece, starting at time 0."""
    ordered = sorted(piece.notes)[passage.start_note : passage.start_note + passage.notes]
    base = ordered[0].onset_step
    notes = tuple(Note(n.onset_step - base, n.pitch, n.duration_steps) for n in ordered)
    return Piece(
        name=f"{piece.name}, bars {passage.start_bar}-{passage.end_bar}",
        notes=notes,
        steps_per_quarter=piece.steps_per_quarter,
        tempo_bpm=piece.tempo_bpm,
    )


def _check_array_sizes(path: Path) -> None:
    """Refuse a notes file whose arrays say they hold more than MAX_TRAINING_NOTES_BYTES.

    The file is a zip of .npy arrays, and numpy sets aside each array's memory from the shape
    its header states before reading a byte of it: a planted file (an uploaded model is anyone's
    zip) could ask for any amount. The headers are read first, a few hundred bytes each.
    """
    import zipfile

    total = 0
    with zipfile.ZipFile(path) as archive:
        for member in archive.infolist():
            with archive.open(member) as handle:
                version = np.lib.format.read_magic(handle)
                read_header = (
                    np.lib.format.read_array_header_1_0
                    if version == (1, 0)
                    else np.lib.format.read_array_header_2_0
                )
                shape, _, dtype = read_header(handle)
            total += int(np.prod(shape, dtype=np.float64)) * dtype.itemsize
            if total > MAX_TRAINING_NOTES_BYTES:
                raise ValueError(
                    f"the training notes hold more than {MAX_TRAINING_NOTES_BYTES // 10**6} MB"
                )
