"""Encoding benchmark: notes per second parsed and encoded, cold and cached; vocabulary coverage.

Cold: files parsed from scratch in one process, no cache (music21 for MusicXML). Cached: the
same files read back through the cache, as a fresh server reads them (the built-in collections
ship parsed, core/data/preset_cache/). Coverage: the share of held-out chorale tokens that the
vocabulary built from the other chorales knows, for our factorized scheme and for the tutorial's
scheme (one token per chord-with-duration, minimum count 3), to show why the scheme changed.
"""

from __future__ import annotations

import os
import tempfile
import time
from collections import Counter
from typing import Any

from core.data.datasets import COLLECTIONS, build_dataset, load_files, load_sources, split_names
from core.music.piece import Piece
from core.tokens.config import EncodingConfig
from core.tokens.scheme import piece_to_tokens

COLD_FILES = 24
TUTORIAL_MIN_COUNT = 3


def _encode_all(pieces: tuple[Piece, ...], config: EncodingConfig) -> int:
    return sum(len(piece_to_tokens(p, config)) for p in pieces)


def tutorial_tokens(piece: Piece) -> list[str]:
    """The tutorial's scheme: one token per onset, naming every pitch and the duration."""
    groups: dict[int, list[tuple[int, int]]] = {}
    for note in piece.notes:
        groups.setdefault(note.onset_step, []).append((note.pitch, note.duration_steps))
    return [
        ".".join(str(p) for p, _ in sorted(group)) + f"/{max(d for _, d in group)}"
        for _, group in sorted(groups.items())
    ]


def tutorial_heldout_coverage(pieces: tuple[Piece, ...]) -> float:
    train_idx, valid_idx = split_names([p.name for p in pieces])
    counts = Counter(t for i in train_idx for t in tutorial_tokens(pieces[i]))
    vocab = {t for t, c in counts.items() if c >= TUTORIAL_MIN_COUNT}
    held = [t for i in valid_idx for t in tutorial_tokens(pieces[i])]
    return sum(t in vocab for t in held) / max(len(held), 1)


def run() -> dict[str, Any]:
    config = EncodingConfig()
    files = COLLECTIONS["bach-chorales"].files()[:COLD_FILES]
    old = os.environ.get("TUNESMITH_DATA_DIR")
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["TUNESMITH_DATA_DIR"] = tmp  # an empty cache: truly cold
        try:
            start = time.perf_counter()
            # no cache at all (the built-in collections also ship parsed): music21 itself
            cold = load_files(files, steps_per_quarter=config.steps_per_quarter, use_cache=False)
            _encode_all(cold.pieces, config)
            cold_s = time.perf_counter() - start
            start = time.perf_counter()
            warm = load_files(files, steps_per_quarter=config.steps_per_quarter)
            _encode_all(warm.pieces, config)
            warm_s = time.perf_counter() - start
        finally:
            if old is None:
                os.environ.pop("TUNESMITH_DATA_DIR", None)
            else:
                os.environ["TUNESMITH_DATA_DIR"] = old
    notes = sum(len(p.notes) for p in cold.pieces)
    chorales = load_sources(["bach-chorales"], steps_per_quarter=config.steps_per_quarter)
    dataset = build_dataset(chorales.pieces, name="bach-chorales", config=config)
    summary = dataset.summary()
    return {
        "files": len(files),
        "notes": notes,
        "cold_notes_per_s": round(notes / cold_s),
        "cached_notes_per_s": round(notes / warm_s),
        "cached_speedup": round(cold_s / warm_s, 1),
        "bach_chorales_pieces": summary.pieces,
        "bach_chorales_vocab_size": summary.vocab_size,
        "bach_chorales_heldout_coverage": summary.heldout_coverage,
        "tutorial_scheme_heldout_coverage": round(tutorial_heldout_coverage(chorales.pieces), 4),
    }
