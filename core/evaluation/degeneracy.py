"""Degenerate output: one token, one note or one bar over and over.

- the share of the most frequent token among the piece's tokens (BOS/EOS left out);
- the longest run of one repeated note: consecutive onsets that each start the same pitches
  (one note, or one chord, struck again and again);
- the longest run of one repeated bar: consecutive non-empty bars of the piece's meter (4/4
  when it states none; `core.music.piece.bar_grid`) with exactly the same notes at the same
  places.
A piece is flagged when a run reaches the limits below; real music stays well under them.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from core.music.piece import Piece, bar_grid
from core.tokens.scheme import BOS, EOS

FLAG_BAR_REPEATS = 4  # the same bar four times in a row
FLAG_NOTE_REPEATS = 16  # the same note (or chord) struck sixteen times in a row
FLAG_TOKEN_SHARE = 0.5  # one token is half of the piece


@dataclass(frozen=True)
class Degeneracy:
    name: str
    top_token: str
    top_token_share: float
    longest_note_run: int  # onsets in a row that start the same pitches
    longest_bar_run: int  # bars in a row with the same notes (1: no bar repeats)

    @property
    def flagged(self) -> bool:
        return (
            self.longest_bar_run >= FLAG_BAR_REPEATS
            or self.longest_note_run >= FLAG_NOTE_REPEATS
            or self.top_token_share >= FLAG_TOKEN_SHARE
        )

    def to_dict(self) -> dict[str, Any]:
        return {**self.__dict__, "flagged": self.flagged}


def _longest_run(items: Sequence[object]) -> int:
    best = run = 0
    previous: object = None
    for item in items:
        run = run + 1 if run and item == previous else 1
        best = max(best, run)
        previous = item
    return best


def longest_note_run(piece: Piece) -> int:
    chords: dict[int, set[int]] = {}
    for note in piece.notes:
        chords.setdefault(note.onset_step, set()).add(note.pitch)
    return _longest_run([frozenset(chords[t]) for t in sorted(chords)])


def longest_bar_run(piece: Piece) -> int:
    """Consecutive bars with identical content; empty bars break a run."""
    grid = bar_grid(piece)
    bars: dict[int, set[tuple[int, int, int]]] = {}
    for note in piece.notes:
        index, position = divmod(note.onset_step + grid.phase_steps, grid.bar_steps)
        bars.setdefault(index, set()).add((position, note.pitch, note.duration_steps))
    if not bars:
        return 0
    contents = [frozenset(bars[i]) if i in bars else None for i in range(max(bars) + 1)]
    best = run = 0
    for i, content in enumerate(contents):
        if content is None:
            run = 0
            continue
        run = run + 1 if run and content == contents[i - 1] else 1
        best = max(best, run)
    return best


def degeneracy(piece: Piece, tokens: Sequence[str]) -> Degeneracy:
    """The piece's figures; `tokens` is its encoding (BOS/EOS are ignored)."""
    body = [t for t in tokens if t not in (BOS, EOS)]
    top, count = Counter(body).most_common(1)[0] if body else ("", 0)
    return Degeneracy(
        name=piece.name,
        top_token=top,
        top_token_share=count / len(body) if body else 0.0,
        longest_note_run=longest_note_run(piece),
        longest_bar_run=longest_bar_run(piece),
    )
