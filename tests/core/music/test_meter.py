"""Meters (core.music.meter) and the meter a piece keeps (core.music.piece)."""

import math

import pytest

from core.music.meter import Meter, meter_text, parse_meter
from core.music.piece import BEATS_PER_BAR, Note, Piece, steps_per_bar


@pytest.mark.parametrize(
    "text, quarters, beats, compound",
    [
        ("4/4", 4.0, 4, False),
        ("3/4", 3.0, 3, False),
        ("2/4", 2.0, 2, False),
        ("2/2", 4.0, 2, False),
        ("6/8", 3.0, 2, True),
        ("9/8", 4.5, 3, True),
        ("12/8", 6.0, 4, True),
        ("3/8", 1.5, 3, False),  # one beat of three eighths: counted simple
        ("6/4", 6.0, 6, False),
        ("5/16", 1.25, 5, False),
    ],
)
def test_a_meter_knows_its_bar_and_its_beats(text, quarters, beats, compound):
    meter = Meter.parse(text)
    assert str(meter) == text
    assert meter.quarters_per_bar == quarters
    assert meter.beats == beats
    assert meter.is_compound is compound


@pytest.mark.parametrize(
    "text, steps_per_quarter, steps",
    [("4/4", 4, 16), ("6/8", 4, 12), ("9/8", 4, 18), ("3/4", 3, 9), ("6/8", 3, 9), ("5/16", 4, 5),
     ("9/8", 12, 54)],
)
def test_a_bar_in_grid_steps(text, steps_per_quarter, steps):
    assert Meter.parse(text).bar_steps(steps_per_quarter) == steps
    assert steps_per_bar(steps_per_quarter, text) == steps


@pytest.mark.parametrize("text, steps_per_quarter", [("9/8", 3), ("3/8", 3), ("7/32", 4)])
def test_a_bar_that_is_no_whole_number_of_steps_is_refused(text, steps_per_quarter):
    with pytest.raises(ValueError, match=f"a bar of {text} lasts .* not a whole number of steps"):
        Meter.parse(text).bar_steps(steps_per_quarter)


@pytest.mark.parametrize(
    "text", ["", "6", "6/", "/8", "six/eight", "0/4", "33/4", "3/3", "3/64", "-3/4", "4/4/4",
             "1" * 5000 + "/4"],
)
def test_what_is_no_meter_is_refused(text):
    with pytest.raises(ValueError):
        Meter.parse(text)


def test_old_callers_still_get_a_four_four_bar():
    assert BEATS_PER_BAR == 4
    assert steps_per_bar(4) == 16 and steps_per_bar(3) == 12
    assert steps_per_bar(4, "") == steps_per_bar(4, None) == 16
    assert steps_per_bar(4, Meter(6, 8)) == 12
    assert parse_meter("") == Meter(4, 4)


def test_a_file_s_meter_out_of_bounds_is_not_stated():
    assert meter_text(6, 8) == "6/8"
    assert meter_text(4, 64) == "" and meter_text(0, 4) == "" and meter_text(99, 4) == ""


def test_a_piece_carries_its_meter_through_its_dict():
    piece = Piece("jig", (Note(0, 62, 3),), 4, 110.0, "D major", meter=" 6/8 ")
    assert piece.meter == "6/8"  # kept in its plain spelling
    assert Piece.from_dict(piece.to_dict()) == piece
    old = {k: v for k, v in piece.to_dict().items() if k != "meter"}  # written before meters
    assert Piece.from_dict(old).meter == ""
    with pytest.raises(ValueError, match="not a meter"):
        Piece("bad", (), meter="fast")
    with pytest.raises(ValueError, match="not a meter"):
        Piece.from_dict({**piece.to_dict(), "meter": "7"})


def test_the_same_music_moved_keeps_its_meter():
    from core.music.keys import normalize_key
    from core.music.piece import transpose_piece

    piece = Piece("waltz", tuple(Note(i * 4, p, 4) for i, p in enumerate((67, 71, 74, 71))),
                  4, 120.0, "G major", meter="3/4")
    assert transpose_piece(piece, 2).meter == "3/4"
    assert normalize_key(piece).meter == "3/4"


def test_bar_grid_counts_bars_from_the_pickup() -> None:
    from core.music.meter import BarGrid

    jig = BarGrid(12, pickup_steps=2)  # 6/8 on sixteenths, an eighth before the first bar line
    assert jig.phase_steps == 10
    assert [jig.bar_of(s) for s in (0, 1, 2, 13, 14)] == [0, 0, 1, 1, 2]
    assert [jig.bar_start(b) for b in (0, 1, 2)] == [0, 2, 14]
    plain = BarGrid(16)
    assert plain.phase_steps == 0 and plain.bar_of(15) == 0 and plain.bar_start(2) == 32
    for bad in ((12, 12), (12, -1), (0, 0)):
        with pytest.raises(ValueError):
            BarGrid(*bad)


def test_a_piece_keeps_its_meter_and_pickup_through_its_record() -> None:
    from core.music.piece import bar_grid, meter_bar_grid

    jig = Piece("jig", (Note(0, 60, 2), Note(2, 62, 12)), 4, meter="6/8", pickup_steps=2)
    assert bar_grid(jig) == meter_bar_grid(4, "6/8", pickup_steps=2)
    assert Piece.from_dict(jig.to_dict()) == jig
    old = {k: v for k, v in Piece("p", (Note(0, 60, 4),)).to_dict().items()}
    assert "pickup_steps" not in old  # a piece without one writes what it always wrote
    assert Piece.from_dict(old).pickup_steps == 0
    with pytest.raises(ValueError, match="pickup"):
        Piece("long", (), 4, meter="6/8", pickup_steps=12)  # a pickup is shorter than a bar
    # a bar between the grid's steps (9/8 on eighth triplets): counted in 4/4 bars
    assert meter_bar_grid(3, "9/8", pickup_steps=5).bar_steps == 12
    assert meter_bar_grid(4, "6/8", pickup_steps=14).pickup_steps == 2  # modulo the bar


def test_notes_over_a_bar_line_are_counted_in_each_pieces_own_bars():
    from core.music.piece import over_bar_line_share

    jig = Piece("jig", (Note(0, 60, 6), Note(6, 62, 12)), meter="6/8")  # the second crosses
    common = Piece("reel", (Note(0, 60, 16), Note(16, 62, 4)))  # none crosses a 4/4 bar line
    assert over_bar_line_share([jig]) == 0.5
    assert over_bar_line_share([jig, common]) == 0.25
    upbeat = Piece("upbeat", (Note(0, 60, 4),), meter="6/8", pickup_steps=2)
    assert over_bar_line_share([upbeat]) == 1.0
    assert math.isnan(over_bar_line_share([]))
