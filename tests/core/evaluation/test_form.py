"""core/evaluation/form: the bar-recurrence profile, its words, and the stuck share.

Grid: 4 steps per quarter note, a 4/4 bar is 16 steps. A note is Note(onset, pitch, duration).
"""

from __future__ import annotations

import math
import re
from dataclasses import replace
from pathlib import Path

import pytest

from core.evaluation.form import (
    DISTANCES_BARS,
    bar_patterns,
    bar_steps_for,
    collection_form_profile,
    form_profile,
    form_sentence,
    stuck_share,
    top_line,
)
from core.music.files import read_music
from core.music.piece import Piece
from tests.core._evaluation_fixtures import piece

Bar = list[tuple[int, int, int]]

# Four different 4/4 bars of quarter notes (a different interval pattern each).
A1: Bar = [(0, 60, 4), (4, 62, 4), (8, 64, 4), (12, 65, 4)]
A2: Bar = [(0, 67, 4), (4, 65, 4), (8, 64, 4), (12, 62, 4)]
B1: Bar = [(0, 69, 8), (8, 67, 4), (12, 65, 4)]
B2: Bar = [(0, 64, 4), (4, 62, 2), (6, 60, 2), (8, 60, 8)]


def up(bar: Bar, semitones: int) -> Bar:
    return [(o, p + semitones, d) for o, p, d in bar]


def bars_of(*contents: Bar | None, bar_steps: int = 16) -> Piece:
    """Bars in a row; None is an empty bar."""
    notes = [
        (bar_steps * i + o, p, d)
        for i, bar in enumerate(contents)
        if bar is not None
        for o, p, d in bar
    ]
    return piece("bars", notes)


def test_aabb_of_two_bar_strains() -> None:
    # A1 A2 | A1 A2 | B1 B2 | B1 B2: the second A and the second B restate theirs 2 bars on;
    # the first B bars are new (they differ from the A bars 2 and 4 bars before).
    profile = form_profile(bars_of(A1, A2, A1, A2, B1, B2, B1, B2))
    assert profile == {1: 0.0, 2: 4 / 6, 4: 0.0, 8: None}


def test_a_transposed_restatement_counts() -> None:
    profile = form_profile(bars_of(A1, A2, up(A1, 5), up(A2, 5)))
    assert profile[2] == 1.0
    assert profile[1] == 0.0


def test_one_changed_note_is_not_a_restatement() -> None:
    changed = [*A1[:3], (12, 67, 4)]
    assert form_profile(bars_of(A1, A2, changed, A2))[2] == 1 / 2


def test_durations_do_not_matter_rhythm_does() -> None:
    shorter = [(o, p, 1) for o, p, _ in A1]
    later = [(o + 1, p, d) for o, p, d in A1[:3]]
    assert form_profile(bars_of(A1, shorter))[1] == 1.0
    assert form_profile(bars_of(A1, later))[1] == 0.0


def test_all_different_bars_give_zero() -> None:
    different = [[(0, 60, 4), (4, 60 + i, 4)] for i in range(1, 10)]
    profile = form_profile(bars_of(*different))
    assert profile == dict.fromkeys(DISTANCES_BARS, 0.0)


def test_empty_bars_neither_recur_nor_count() -> None:
    # A1 _ A1 _ A1: no two non-empty bars lie 1 or 3 bars apart.
    profile = form_profile(bars_of(A1, None, A1, None, A1))
    assert profile == {1: None, 2: 1.0, 4: 1.0, 8: None}
    # a bar where the melody only holds the note begun in the bar before is empty too
    held = bars_of([(0, 60, 32)], None, [(0, 60, 32)])
    assert bar_patterns(held) == [((0,), (0,)), None, ((0,), (0,))]
    assert form_profile(held)[1] is None


def test_a_piece_without_notes_has_no_figures() -> None:
    assert form_profile(piece("empty", [])) == dict.fromkeys(DISTANCES_BARS)


def test_six_eight_bars() -> None:
    # 6/8: bars of 12 steps (3 quarter notes), six eighths each; X Y X Y.
    x = [(2 * i, p, 2) for i, p in enumerate((60, 62, 64, 65, 67, 69))]
    y = [(2 * i, p, 2) for i, p in enumerate((72, 71, 69, 67, 65, 64))]
    jig = bars_of(x, y, x, y, bar_steps=12)
    assert form_profile(jig, quarters_per_bar=3.0) == {1: 0.0, 2: 1.0, 4: None, 8: None}
    # read in 4/4 bars, the same notes straddle the bar lines and nothing recurs
    assert form_profile(jig) == {1: 0.0, 2: 0.0, 4: None, 8: None}


def test_none_reads_bars_in_each_pieces_own_meter() -> None:
    x = [(2 * i, p, 2) for i, p in enumerate((60, 62, 64, 65, 67, 69))]
    y = [(2 * i, p, 2) for i, p in enumerate((72, 71, 69, 67, 65, 64))]
    jig = replace(bars_of(x, y, x, y, bar_steps=12), meter="6/8")
    unstated = bars_of(A1, A2, A1, A2)
    assert form_profile(jig, quarters_per_bar=None)[2] == 1.0
    assert form_profile(unstated, quarters_per_bar=None) == form_profile(unstated)
    assert collection_form_profile([jig, unstated], quarters_per_bar=None)[2] == 1.0


def test_bar_length_must_be_whole_grid_steps() -> None:
    assert bar_steps_for(piece("p", []), quarters_per_bar=2.5) == 10
    assert bar_steps_for(piece("p", [], steps_per_quarter=12), quarters_per_bar=1 / 3) == 4
    for quarters in (1 / 3, 0.0, -4.0, math.nan):
        with pytest.raises(ValueError, match="whole number of grid steps"):
            form_profile(piece("p", A1), quarters_per_bar=quarters)
    with pytest.raises(ValueError, match="at least 1 bar"):
        form_profile(piece("p", A1), distances=(0,))


def test_top_line_hears_the_melody_over_moving_inner_voices() -> None:
    # Soprano in half notes, the same in both bars; the alto moves in quarters, differently.
    soprano = [(0, 72, 8), (8, 74, 8)]
    bar0 = [*soprano, (0, 64, 4), (4, 65, 4), (8, 67, 4), (12, 65, 4)]
    bar1 = [*soprano, (0, 60, 4), (4, 62, 4), (8, 64, 4), (12, 62, 4)]
    chorale = bars_of(bar0, bar1)
    assert top_line(chorale) == {0: 72, 8: 74, 16: 72, 24: 74}
    assert form_profile(chorale)[1] == 1.0


def test_top_line_takes_the_highest_note_of_a_chord_and_a_note_above_a_held_one() -> None:
    notes = [(0, 60, 16), (0, 67, 4), (0, 64, 4), (4, 62, 4), (8, 72, 4)]
    # at onset 4 only the held 60 still sounds, lower than 62: 62 is the top line
    assert top_line(piece("p", notes)) == {0: 67, 4: 62, 8: 72}


def test_a_collection_pools_bars_so_long_pieces_count_more() -> None:
    aabb = bars_of(A1, A2, A1, A2, B1, B2, B1, B2)  # 4 of 6 bars recur 2 bars on
    new = bars_of(*[[(0, 60, 4), (4, 60 + i, 4)] for i in range(1, 5)])  # 0 of 2
    profile = collection_form_profile([aabb, new])
    assert profile[2] == 4 / 8  # not the mean of the pieces' figures, (2/3 + 0) / 2
    assert math.isnan(profile[8])
    assert math.isnan(collection_form_profile([])[1])


def test_stuck_share_is_the_degeneracy_checks_four_bar_loop() -> None:
    loop = bars_of(A1, A1, A1, A1)
    almost = bars_of(A1, A1, A1, A2)
    assert stuck_share([loop, almost]) == 0.5
    assert stuck_share([almost]) == 0.0
    assert math.isnan(stuck_share([]))


REAL = {1: 0.0, 2: 0.035, 4: 0.097, 8: 0.077}


@pytest.mark.parametrize(
    ("generated", "sentence"),
    [
        (
            {1: 0.0, 2: 0.0, 4: 0.0, 8: 0.0},
            "Its tunes never repeat an earlier bar; in real tunes, one bar in 10 comes back "
            "4 bars later.",
        ),
        (
            {4: 0.01},
            "Its tunes rarely repeat an earlier bar; in real tunes, one bar in 10 comes back "
            "4 bars later.",
        ),
        (
            {4: 0.05},
            "Its tunes repeat earlier bars less often than real tunes: one bar in 20 comes back "
            "4 bars later, against one in 10 in real tunes.",
        ),
        (
            {4: 0.09},
            "Its tunes come back to earlier bars about as often as real tunes do: one bar in 11 "
            "comes back 4 bars later, against one in 10 in real tunes.",
        ),
        (
            {4: 0.9},
            "Its tunes repeat earlier bars more often than real tunes: every bar comes back "
            "4 bars later, against one in 10 in real tunes.",
        ),
        (
            {4: None},
            "Its tunes are too short to tell whether bars come back 4 bars later; in real "
            "tunes, one bar in 10 comes back 4 bars later.",
        ),
    ],
)
def test_form_sentence(generated: dict[int, float | None], sentence: str) -> None:
    assert form_sentence(generated, REAL, noun="tunes") == sentence


def test_form_sentence_without_form_in_the_real_music() -> None:
    sentence = form_sentence({4: 0.1}, {1: 0.0, 2: math.nan, 4: None})
    assert sentence == (
        "Real pieces of this kind never bring a bar back, so there is no form to match."
    )


def test_form_sentence_on_too_little_real_music_says_so() -> None:
    """One held-out piece that brings no bar back says nothing of the music's form."""
    assert form_sentence({4: 0.1}, {1: 0.0, 4: 0.0}, real_pieces=1) == (
        "No bar comes back in the one real piece set aside to compare with, too little music "
        "to tell what form to match."
    )
    assert "the 3 real tunes" in form_sentence({4: 0.1}, {4: 0.0}, noun="tunes", real_pieces=3)
    assert form_sentence({4: 0.1}, {4: 0.0}, real_pieces=12).startswith("Real pieces")


def oneills_tune(index: int) -> Piece:
    """One tune of O'Neill's 1850 (music21's corpus), read as the app reads ABC files."""
    import music21.corpus

    book = Path(music21.corpus.__file__).parent / "oneills1850/0001-0050.abc"
    text = book.read_text(encoding="utf-8", errors="replace")
    tunes = [t for t in re.split(r"(?m)^(?=X:)", text) if t.startswith("X:")]
    return read_music(tunes[index].encode(), name=f"oneills{index + 1}.abc")[0]


def test_a_real_folk_tune_restates_its_strain() -> None:
    # "The Little Heathy Hill" (O'Neill's 3, 4/4, 16 bars written out): bars 2-4 come back as
    # bars 6-8 and again as bars 14-16, 8 bars after their second statement.
    profile = form_profile(oneills_tune(2))
    assert profile[8] is not None and profile[8] > 0.3
    assert profile[4] is not None and profile[4] > 0.1
    assert profile[1] == 0.0


def test_a_real_waltz_tune_is_heard_in_its_own_meter() -> None:
    # "The Red Haired Girl" (O'Neill's 12, 3/4): its second strain ends as its first did, 8
    # bars of 3/4 later; in 4/4 bars those bars fall across the bar lines.
    tune = oneills_tune(11)
    in_three = form_profile(tune, quarters_per_bar=3.0)[8]
    in_four = form_profile(tune)[8]
    assert in_three is not None and in_three > 0.5
    assert in_four is not None and in_four < in_three


def test_the_report_compares_its_pieces_form_with_real_pieces_of_their_length() -> None:
    from core.evaluation.report import form_figures

    # generated: 4 bars, the strain played twice; real: 8 bars, whose first 4 never restate
    generated = [bars_of(A1, A2, A1, A2)]
    real = [bars_of(A1, A2, B1, B2, A1, A2, B1, B2)]
    figures = form_figures(generated, real)
    assert figures["generated"][2] == 1.0
    assert figures["real"][2] == 0.0  # cut to 4 bars, the real tune's return is not heard yet
    assert math.isnan(figures["real"][8])
    assert form_figures([], real) == {}
