"""A melody to harmonize: one line of notes, checked before any model runs.

A tune is a single line when no two of its notes sound together. Two kinds of overlap are
told apart: a note held a little into the next one (legato playing, a transcription's release)
is cut where the next one starts; two notes that start together, or one that sounds over a
whole other note, make a chord, and the melody is refused with the bar where that happens,
unless the caller asks for the top line (a library piece of several voices: its highest notes).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from core.errors import InvalidMusicError, MusicLimitError
from core.music.files import read_music
from core.music.keys import estimate_key, key_name
from core.music.piece import DEFAULT_STEPS_PER_QUARTER, Note, Piece, bar_grid
from core.music.piece import top_line as highest_line

# A harmonization is a few seconds of work per minute of music; these keep one request within
# what a page waits for (docs/limits.md). A hymn tune has 50-100 notes, a long folk tune 400.
MAX_MELODY_NOTES = 2_000
MAX_MELODY_BEATS = 4_000  # 33 minutes at 120 BPM
# A held note that runs into the next one by at most this share of a quarter note is legato,
# not a chord: it is cut where the next note starts (a sixteenth on the sixteenth grid).
LEGATO_QUARTERS = 0.25


@dataclass(frozen=True)
class Melody:
    """A single line of notes, in time order, none overlapping the next (`piece.notes`)."""

    piece: Piece

    @property
    def notes(self) -> tuple[Note, ...]:
        return self.piece.notes

    @property
    def name(self) -> str:
        return self.piece.name

    @property
    def tonic_and_mode(self) -> tuple[int, str]:
        """(tonic pitch class, "major" | "minor"), estimated from the notes."""
        return estimate_key(self.piece.notes)


def _bar_of(step: int, piece: Piece) -> int:
    """The bar number of a grid step as "keep bars" counts them: from 1, an upbeat being bar 1,
    in the piece's meter (4/4 when it states none)."""
    return bar_grid(piece).bar_of(step) + 1


def melody_from_piece(piece: Piece, *, name: str | None = None, top_line: bool = False) -> Melody:
    """The piece as a melody: its notes in time order, legato overlaps cut.

    `top_line`: take the highest note at each moment instead of refusing a piece with chords.

    Raises:
        InvalidMusicError: no notes, or (unless `top_line`) notes that sound together; the
            message starts with `name` (else the piece's name) and names the first bar.
        MusicLimitError: more than `MAX_MELODY_NOTES` notes or `MAX_MELODY_BEATS` beats.
    """
    label = name or piece.name
    if not piece.notes:
        raise InvalidMusicError(f"{label}: there are no notes to harmonize")
    beats = piece.length_steps / piece.steps_per_quarter
    if beats > MAX_MELODY_BEATS:
        raise MusicLimitError(
            f"{label}: it lasts {beats:,.0f} beats, above the {MAX_MELODY_BEATS:,} beat limit "
            "for a tune to harmonize"
        )
    if len(piece.notes) > MAX_MELODY_NOTES:
        raise MusicLimitError(
            f"{label}: it has {len(piece.notes):,} notes, above the {MAX_MELODY_NOTES:,} note "
            "limit for a tune to harmonize"
        )
    notes = sorted(piece.notes)
    if top_line:  # the highest note at each onset, none under a higher held note
        highest = highest_line(piece)
        kept = {n.onset_step: n for n in notes if highest.get(n.onset_step) == n.pitch}
        notes = sorted(kept.values())
    legato = max(1, round(LEGATO_QUARTERS * piece.steps_per_quarter))
    line: list[Note] = []
    for note in notes:
        if line:
            previous = line[-1]
            overlap = previous.end_step - note.onset_step
            if overlap > 0:
                chord = note.onset_step == previous.onset_step or overlap > legato
                if chord and not top_line:
                    bar = _bar_of(note.onset_step, piece)
                    raise InvalidMusicError(
                        f"{label}: in bar {bar} two or more notes sound together (a chord); "
                        "harmonizing needs a single line of notes, the tune alone"
                    )
                if note.onset_step == previous.onset_step:  # top line: the higher one stays
                    continue
                line[-1] = replace(previous, duration_steps=note.onset_step - previous.onset_step)
        line.append(note)
    tonic, mode = estimate_key(line)
    return Melody(replace(piece, name=piece.name, notes=tuple(line), key=key_name(tonic, mode)))


def read_melody(
    source: bytes | Path | str,
    *,
    name: str | None = None,
    steps_per_quarter: int = DEFAULT_STEPS_PER_QUARTER,
    top_line: bool = False,
) -> Melody:
    """The first piece of a MIDI/MusicXML/ABC file (bytes or a path) as a melody, with its
    score's upbeat (so its chords fall in its own bars).

    Raises:
        InvalidMusicError: the file cannot be read (see `core.music.files.read_music`) or its
            first piece is not a single line (see `melody_from_piece`).
    """
    label = name or (Path(source).name if not isinstance(source, bytes) else "upload")
    pieces = read_music(source, name=label, steps_per_quarter=steps_per_quarter, pickups=True)
    return melody_from_piece(pieces[0], name=label, top_line=top_line)
