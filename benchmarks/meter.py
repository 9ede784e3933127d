"""Meters of the folk model's pieces: are they in the meters real tunes are, with bar lines that
fall where a reader of the sheet music expects them?

The models know no meter; a piece takes the one it starts from (docs/generation.md, "Meter").
So the pieces measured here start from a snippet of the training music, as "Start from: a
snippet" does (`Generator.excerpt_primer`, seeds 1-30, 101-130, 201-230 as `bundled_style`'s,
at the Evaluate page's default settings). Two figures, each beside the held-out real tunes':

- the share of pieces in each meter (the real tunes' from their files' meters);
- for the pieces in 6/8 (jigs), the share of notes that sound over a bar line (onset in one
  bar, end in the next: what sheet music writes as a note tied over the bar line), of the new
  notes (the model's, not the snippet's) and of the whole piece, read in the piece's meter
  from its pickup; the same pieces read as before meters (4/4 bars from their start) beside
  them. The real 6/8 tunes are read in their meter from their pickup (read from their files,
  `core.data.pickups`: two minutes of music21 parsing).

The sheet music of each generated 6/8 piece is checked to carry 6/8 (`piece_to_musicxml`).
Pieces from a blank page state no meter (4/4): their count is given too.
"""

from __future__ import annotations

import functools
from collections import Counter
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import numpy as np

from benchmarks.bundled_style import PIECES, SEED_RANGES
from core.data.datasets import SPLIT_SEED, load_dataset
from core.data.pickups import collection_pickups
from core.evaluation.report import evaluation_settings, piece_without_primer
from core.generation.generator import Generator
from core.model.bundled import STYLES
from core.model.model_data import read_heldout
from core.music.notation import piece_to_musicxml
from core.music.piece import Piece, bar_grid, over_bar_line_share

STYLE = "folk-tunes"
JIG = "6/8"
UNSTATED = "none (4/4)"
DIGITS = 3


@functools.lru_cache(maxsize=1)
def _generator() -> Generator:
    return Generator.from_folder(STYLES[STYLE].path)


def crossing_share(pieces: Sequence[Piece]) -> float:
    """`over_bar_line_share`, as the figures print it."""
    return round(over_bar_line_share(pieces), 4)


def meter_shares(meters: Sequence[str]) -> dict[str, float]:
    counts = Counter(m or UNSTATED for m in meters)
    return {m: round(n / len(meters), DIGITS) for m, n in counts.most_common()}


def real_tunes() -> list[Piece]:
    """The folk model's held-out tunes with their files' meters (the split training used)."""
    generator = _generator()
    dataset = load_dataset(
        [STYLE], config=generator.encoding, vocab=generator.vocab, seed=SPLIT_SEED
    )
    meters = {p.name: p.meter for p in dataset.pieces}
    return [replace(p, meter=meters.get(p.name, "")) for p in read_heldout(STYLES[STYLE].path)]


def with_pickups(pieces: Sequence[Piece]) -> list[Piece]:
    """The pieces with the pickups their files have (`core.data.pickups`)."""
    found = collection_pickups([p.name for p in pieces], collections=[STYLE], steps_per_quarter=4)
    placed = []
    for piece in pieces:
        pickup = found.get(piece.name, 0) % bar_grid(piece).bar_steps
        placed.append(replace(piece, pickup_steps=pickup))
    return placed


def _musicxml_meter(piece: Piece) -> str:
    """The first time signature of the piece's sheet music."""
    import music21

    score = music21.converter.parseData(piece_to_musicxml(piece), format="musicxml")
    first = score.recurse().getElementsByClass(music21.meter.TimeSignature).first()
    return first.ratioString if first is not None else ""


def run() -> dict[str, Any]:
    generator = _generator()
    settings = evaluation_settings()
    results = []
    blank_meters = []
    for start in SEED_RANGES:
        for seed in range(start, start + PIECES):
            primer = generator.excerpt_primer(np.random.default_rng(seed))
            results.append(generator.generate(settings, seed=seed, primer=primer))
            if start == SEED_RANGES[0]:
                blank_meters.append(generator.generate(settings, seed=seed).piece.meter)
    real = real_tunes()
    real_jigs = with_pickups([p for p in real if p.meter == JIG])
    jigs = [r for r in results if r.piece.meter == JIG]
    as_before = [replace(r.piece, meter="", pickup_steps=0) for r in jigs]
    sheet = Counter(_musicxml_meter(r.piece) for r in jigs)
    return {
        "style": STYLE,
        "generated_pieces": len(results),
        "real_pieces": len(real),
        "meter_share_generated": meter_shares([r.piece.meter for r in results]),
        "meter_share_real": meter_shares([p.meter for p in real]),
        "meter_share_shipped_openings": meter_shares([o.meter for o in generator.primers]),
        "meter_share_blank_page": meter_shares(blank_meters),
        "generated_6_8_pieces": len(jigs),
        "real_6_8_tunes": len(real_jigs),
        "over_bar_line_share_generated_6_8_new_notes": crossing_share(
            [piece_without_primer(r) for r in jigs]
        ),
        "over_bar_line_share_generated_6_8_whole": crossing_share([r.piece for r in jigs]),
        "over_bar_line_share_generated_6_8_read_in_4_4_from_start": crossing_share(as_before),
        "over_bar_line_share_real_6_8": crossing_share(real_jigs),
        "over_bar_line_share_real_6_8_from_first_note": crossing_share(
            [replace(p, pickup_steps=0) for p in real_jigs]
        ),
        "sheet_music_meters_of_generated_6_8": dict(sheet),
    }
