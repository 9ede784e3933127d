"""Pieces and MIDI (core.music.midi): notes snap to the grid."""

from core.music.midi import quantize
from core.music.piece import Note


def test_quantize_snaps_to_the_grid_and_keeps_at_least_one_step():
    notes = quantize([(0.02, 0.49, 60), (1.01, 0.01, 62)], steps_per_quarter=4)
    assert notes == (Note(0, 60, 2), Note(4, 62, 1))
