"""Add each training opening's meter and pickup to the bundled models' `primers.json`.

The bundled models were trained before pieces kept their meter; their `primers.json` holds the
openings of their first training pieces, without one. This rebuilds each model's training split
as its training script did (scripts/train_bundled_models.py, scripts/train_base_model.py), checks
that its openings are the very ones shipped, token for token, and writes them again with their
pieces' meters (from the parse cache) and pickups (the upbeat before the first bar line, read
from the files with music21: `core.data.pickups`). The tokens do not change, so neither does
any piece made from them but for its meter. No retraining; deterministic.

    .venv/bin/python scripts/write_primer_meters.py
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.data.datasets import SPLIT_SEED, Dataset, load_dataset
from core.data.pickups import opening_pickups
from core.generation.generator import Generator
from core.generation.primers import (
    DEFAULT_PRIMER_PIECES,
    DEFAULT_PRIMER_TOKENS_PER_PIECE,
    PRIMERS_FILE,
    TrainingOpening,
    read_primers,
    write_training_primers,
)
from core.model.bundled import BASE, STYLES
from core.music.piece import (
    DEFAULT_STEPS_PER_QUARTER,
    Piece,
    meter_bar_grid,
    over_bar_line_share,
)
from core.tokens.scheme import tokens_to_piece

BASE_COLLECTIONS = ("bach-chorales", "folk-tunes")  # scripts/train_base_model.PRESETS


def training_split(collections: tuple[str, ...], generator: Generator) -> Dataset:
    """The collections, each split as the app splits it alone, joined side by side (one
    collection: what `load_dataset` gives)."""
    parts = [
        load_dataset([c], config=generator.encoding, vocab=generator.vocab, seed=SPLIT_SEED)
        for c in collections
    ]
    return Dataset(
        name="+".join(collections),
        config=generator.encoding,
        pieces=tuple(p for d in parts for p in d.pieces),
        train=tuple(p for d in parts for p in d.train),
        valid=tuple(p for d in parts for p in d.valid),
        vocab=generator.vocab,
    )


def main() -> int:
    for model, collections in (
        *((m, (m.name,)) for m in STYLES.values()),
        (BASE, BASE_COLLECTIONS),
    ):
        path = model.path / PRIMERS_FILE
        shipped = json.loads(path.read_text())
        generator = Generator.from_folder(model.path)
        dataset = training_split(collections, generator)
        openings = [
            list(p.tokens[:DEFAULT_PRIMER_TOKENS_PER_PIECE])
            for p in dataset.train[:DEFAULT_PRIMER_PIECES]
        ]
        if openings != shipped["sequences"]:
            print(f"{model.name}: the training split's openings are not the shipped ones; skipped")
            return 1
        meters = dataset.train_meters()
        pickups = opening_pickups(dataset, collections=collections, pieces=DEFAULT_PRIMER_PIECES)
        write_training_primers(
            model.path,
            [p.tokens for p in dataset.train],
            source=shipped["source"],
            meters=meters,
            pickups=pickups,
        )
        written = read_primers(model.path)
        assert [list(o.tokens) for o in written] == shipped["sequences"], "tokens moved"
        pieces = [
            tokens_to_piece(o.tokens, generator.encoding, name=str(i))
            for i, o in enumerate(written)
        ]
        placed = [
            Piece(p.name, p.notes, p.steps_per_quarter, meter=o.meter, pickup_steps=_pickup(o))
            for p, o in zip(pieces, written, strict=True)
        ]
        unplaced = [Piece(p.name, p.notes, p.steps_per_quarter, meter=p.meter) for p in placed]
        counts = Counter(o.meter or "none" for o in written)
        print(
            f"{model.name}: {len(written)} openings, tokens unchanged; meters "
            f"{dict(counts.most_common())}; {sum(1 for o in written if o.pickup_steps)} start "
            f"on an upbeat; notes over a bar line {over_bar_line_share(placed):.3f} "
            f"(from the first note: {over_bar_line_share(unplaced):.3f})"
        )
    return 0


def _pickup(opening: TrainingOpening) -> int:
    return meter_bar_grid(
        DEFAULT_STEPS_PER_QUARTER, opening.meter, pickup_steps=opening.pickup_steps
    ).pickup_steps


if __name__ == "__main__":
    raise SystemExit(main())
