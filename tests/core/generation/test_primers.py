"""Primers (core.generation.primers): a snippet of training music carries its piece's meter and
where its bar lines fall; `primers.json` from before meters still loads."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from core.generation.primers import (
    PRIMERS_FILE,
    Primer,
    TrainingOpening,
    excerpt_primer,
    piece_to_primer,
    primer_bar_grid,
    read_primers,
    write_training_primers,
)
from core.music.piece import Note, Piece
from core.tokens.config import EncodingConfig
from core.tokens.scheme import BOS, EOS, TokenKind, token_kind, token_value

# A jig's opening on sixteenths: an eighth's upbeat (2 steps), then bars of 12 steps.
JIG_TOKENS = (BOS, "P60", "D2", "T2", *(t for i in range(12) for t in (f"P{62 + i}", "D2", "T2")))


def test_an_excerpt_of_a_6_8_opening_is_in_6_8_with_its_bar_lines() -> None:
    opening = TrainingOpening(JIG_TOKENS, "6/8", pickup_steps=2)
    rng = np.random.default_rng(0)
    for _ in range(30):
        primer = excerpt_primer([opening], rng, length_tokens=12, steps_per_quarter=4)
        assert primer.meter == "6/8"
        # the excerpt starts `skipped` steps into the opening: the bar line that was at step
        # 2 + 12k is now at 2 + 12k - skipped
        body = [t for t in JIG_TOKENS if t != BOS]
        start = next(
            i for i in range(len(body)) if tuple(body[i : i + len(primer.tokens)]) == primer.tokens
        )
        skipped = sum(token_value(t) for t in body[:start] if token_kind(t) is TokenKind.SHIFT)
        assert primer.pickup_steps == (2 - skipped) % 12
        assert 0 <= primer.pickup_steps < 12


def test_plain_sequences_and_openings_without_a_grid_carry_no_meter() -> None:
    rng = np.random.default_rng(1)
    assert excerpt_primer([list(JIG_TOKENS)], rng, steps_per_quarter=4).meter == ""
    opening = TrainingOpening(JIG_TOKENS, "6/8", 2)
    assert excerpt_primer([opening], rng).meter == ""  # no grid given: no bars to place


def test_primers_json_keeps_meters_and_pickups(tmp_path: Path) -> None:
    sequences = [[*JIG_TOKENS, EOS], [BOS, "P60", "D4", EOS]]
    write_training_primers(tmp_path, sequences, source="s", meters=["6/8", ""], pickups=[2, 0])
    data = json.loads((tmp_path / PRIMERS_FILE).read_text())
    assert data["meters"] == ["6/8", ""] and data["pickups"] == [2, 0]
    assert read_primers(tmp_path) == (
        TrainingOpening(tuple(sequences[0]), "6/8", 2),
        TrainingOpening(tuple(sequences[1]), "", 0),
    )


def test_an_old_primers_json_without_meters_still_loads(tmp_path: Path) -> None:
    (tmp_path / PRIMERS_FILE).write_text(json.dumps({"source": "old", "sequences": [JIG_TOKENS]}))
    (opening,) = read_primers(tmp_path)
    assert opening == TrainingOpening(JIG_TOKENS)  # no meter: 4/4 from a bar line
    primer = excerpt_primer([opening], np.random.default_rng(0), steps_per_quarter=4)
    assert primer.meter == "" and primer.pickup_steps == 0


def test_a_bad_meter_in_primers_json_drops_only_that_meter(tmp_path: Path) -> None:
    data = {
        "source": "x",
        "sequences": [JIG_TOKENS, JIG_TOKENS],
        "meters": ["7/7", "3/4"],
        "pickups": [0, 4],
    }
    (tmp_path / PRIMERS_FILE).write_text(json.dumps(data))
    assert [(o.meter, o.pickup_steps) for o in read_primers(tmp_path)] == [("", 0), ("3/4", 4)]


def test_a_tune_of_ones_own_carries_its_meter() -> None:
    waltz = Piece("waltz", tuple(Note(4 * i, 60 + i, 4) for i in range(9)), 4, meter="3/4")
    primer = piece_to_primer(waltz, EncodingConfig())
    assert primer.meter == "3/4" and primer.pickup_steps == 0
    assert piece_to_primer(Piece("plain", waltz.notes, 4), EncodingConfig()).meter == ""


def test_primer_bar_grid() -> None:
    assert primer_bar_grid(None, steps_per_quarter=4).bar_steps == 16
    jig = Primer(("P60", "D2"), meter="6/8", pickup_steps=2)
    assert primer_bar_grid(jig, steps_per_quarter=4).bar_steps == 12
    assert primer_bar_grid(jig, steps_per_quarter=4).pickup_steps == 2
