"""The piano roll (core.music.pianoroll): its bar lines follow the piece's meter and pickup."""

from core.music.pianoroll import bar_line_steps, piece_to_figure
from core.music.piece import Note, Piece


def test_bar_lines_follow_the_meter_and_the_pickup() -> None:
    notes = (Note(0, 60, 2), Note(2, 62, 24))
    assert bar_line_steps(Piece("jig", notes, 4, meter="6/8", pickup_steps=2)) == [2, 14, 26]
    assert bar_line_steps(Piece("plain", notes, 4)) == [16]  # 4/4 from the start
    figure = piece_to_figure(Piece("jig", notes, 4, 120.0, meter="6/8", pickup_steps=2))
    seconds_per_step = 60.0 / 120.0 / 4
    assert [s.x0 for s in figure.layout.shapes] == [
        2 * seconds_per_step,
        14 * seconds_per_step,
        26 * seconds_per_step,
    ]
