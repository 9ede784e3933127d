"""core/evaluation/degeneracy: loops, stuck notes and one token over and over.

Grid: 4 steps per quarter note, a bar is 16 steps (4/4). A note is Note(onset, pitch, duration).
"""

from __future__ import annotations

import pytest

from core.evaluation.degeneracy import (
    FLAG_BAR_REPEATS,
    degeneracy,
    longest_bar_run,
    longest_note_run,
)
from core.music.piece import Piece
from core.tokens.config import EncodingConfig
from core.tokens.scheme import piece_to_tokens
from tests.core._evaluation_fixtures import piece, real_pieces_in_c_major


@pytest.fixture(scope="module")
def real_pieces() -> list[Piece]:
    return real_pieces_in_c_major()


ONE_BAR = [(0, 60, 4), (4, 64, 4), (8, 67, 4), (12, 64, 4)]


def bars_of(*contents: list[tuple[int, int, int]] | None) -> Piece:
    """Bars in a row; None is an empty bar."""
    notes = [
        (16 * i + o, p, d) for i, bar in enumerate(contents) if bar is not None for o, p, d in bar
    ]
    return piece("bars", notes)


def test_a_one_bar_loop_is_flagged() -> None:
    loop = bars_of(*[ONE_BAR] * 8)
    d = degeneracy(loop, piece_to_tokens(loop, EncodingConfig()))
    assert d.longest_bar_run == 8 and d.longest_note_run == 1
    assert d.flagged
    other = [(0, 62, 8), (8, 65, 8)]
    assert longest_bar_run(bars_of(ONE_BAR, ONE_BAR, ONE_BAR, other, ONE_BAR)) == 3
    assert FLAG_BAR_REPEATS == 4
    assert not degeneracy(bars_of(*[ONE_BAR] * 3, other), []).flagged
    assert degeneracy(bars_of(*[ONE_BAR] * 4, other), []).flagged
    # an empty bar breaks a run
    assert longest_bar_run(bars_of(ONE_BAR, ONE_BAR, None, ONE_BAR, ONE_BAR)) == 2


def test_a_varied_piece_is_not_flagged(real_pieces: list[Piece]) -> None:
    for p in real_pieces[:4]:
        d = degeneracy(p, piece_to_tokens(p, EncodingConfig()))
        assert not d.flagged, d
        assert d.longest_bar_run == 1 and d.longest_note_run < 6


def test_one_pitch_struck_twenty_times_is_flagged() -> None:
    # D4, E4, then C4 twenty times every 3 steps (so no two bars look alike), then F4.
    notes = [(0, 62, 2), (3, 64, 2)] + [(6 + 3 * i, 60, 2) for i in range(20)] + [(66, 65, 2)]
    stuck = piece("stuck", notes)
    d = degeneracy(stuck, piece_to_tokens(stuck, EncodingConfig()))
    assert d.longest_note_run == 20 and d.longest_bar_run == 1
    assert d.flagged
    # a chord struck again counts as the same "note": C-E-G three times, then C-E
    chords = piece("c", [(o, p, 4) for o in (0, 4, 8) for p in (60, 64, 67)] + [(12, 60, 4)])
    assert longest_note_run(chords) == 3


def test_top_token_share_by_hand() -> None:
    p = piece("t", [(0, 60, 4)])
    # Without BOS/EOS: P60 x3, D4 x2, T4 x2, D2 x1 of 8 tokens -> P60, 3/8.
    tokens = ["BOS", "P60", "D4", "T4", "P60", "D4", "T4", "P60", "D2", "EOS"]
    d = degeneracy(p, tokens)
    assert (d.top_token, d.top_token_share) == ("P60", 3 / 8)
    assert not d.flagged
    # T1 is 5 of 9 tokens: over half, flagged
    stuck = degeneracy(p, ["BOS", "T1", "T1", "T1", "T1", "T1", "P60", "D1", "P62", "D1", "EOS"])
    assert (stuck.top_token, stuck.top_token_share) == ("T1", 5 / 9) and stuck.flagged
    empty = degeneracy(p, ["BOS", "EOS"])
    assert (empty.top_token, empty.top_token_share) == ("", 0.0)


def test_repeated_bars_are_counted_in_the_piece_s_meter() -> None:
    from dataclasses import replace

    jig_bar = [(0, 60, 4), (4, 64, 4), (8, 67, 4)]  # one 6/8 bar of 12 sixteenths
    notes = [(12 * i + o, p, d) for i in range(4) for o, p, d in jig_bar]
    jig = replace(piece("jig", notes), meter="6/8")
    assert longest_bar_run(jig) == 4  # four identical bars of 6/8
    assert longest_bar_run(replace(jig, meter="")) == 1  # read in 4/4 bars they all differ
    shifted = replace(piece("jig", [(o + 8, p, d) for o, p, d in notes]), meter="6/8",
                      pickup_steps=8)  # the same bars after an upbeat of 8 steps
    assert longest_bar_run(shifted) == 4
