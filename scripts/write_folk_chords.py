"""Write the folk style's chord tables (`core/harmonize/folk_chords.json`) from the built-in
folk tunes: the training side of the app's split only, never a held-out tune
(`collection_heldout_names`), each tune's chart estimated by local fit
(`core.harmonize.chord_fit.estimate_states`) and counted (`core.harmonize.chord_tables`).

Nothing in it is random (no seed to set): a second run writes the same file. About 30 s.

    .venv/bin/python scripts/write_folk_chords.py
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.data.datasets import collection_heldout_names, load_sources
from core.errors import InvalidMusicError
from core.harmonize.chord_tables import FOLK_CHORDS_PATH, learn_tables, write_tables
from core.harmonize.melody import Melody, melody_from_piece
from core.music.piece import DEFAULT_STEPS_PER_QUARTER

COLLECTION = "folk-tunes"


def training_melodies() -> list[Melody]:
    spq = DEFAULT_STEPS_PER_QUARTER
    held_out = collection_heldout_names(COLLECTION, steps_per_quarter=spq)
    melodies = []
    for piece in load_sources([COLLECTION], steps_per_quarter=spq).pieces:
        if piece.name in held_out:
            continue
        try:
            melodies.append(melody_from_piece(piece, top_line=True))
        except InvalidMusicError as error:
            print(f"skipped {piece.name}: {error}")
    return melodies


def main() -> int:
    melodies = training_melodies()
    tables, tunes = learn_tables(melodies)
    source = f"{COLLECTION}: the {len(melodies)} tunes of the training side, charts by local fit"
    write_tables(FOLK_CHORDS_PATH, tables, source=source, tunes=tunes)
    print(f"wrote {FOLK_CHORDS_PATH} from {len(melodies)} tunes ({tunes})")
    for mode, table in tables.items():
        stay = sum(table.into_bar[i, i] for i in range(len(table.chords))) / len(table.chords)
        print(f"{mode}: chords {' '.join(table.chords)}; mean P(same chord next bar) {stay:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
