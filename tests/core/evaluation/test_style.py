"""core/evaluation/style: a set of pieces against real music, on constructed sets.

Grid: 4 steps per quarter note, a bar is 16 steps (4/4). A note is Note(onset, pitch, duration).
"""

from __future__ import annotations

import pytest

from core.errors import EvaluationError
from core.evaluation.style import compare_style
from core.music.piece import Piece
from tests.core._evaluation_fixtures import piece, random_pitch_pieces, real_pieces_in_c_major


@pytest.fixture(scope="module")
def real_pieces() -> list[Piece]:
    return real_pieces_in_c_major()


@pytest.fixture(scope="module")
def random_pieces() -> list[Piece]:
    return random_pitch_pieces()


def test_a_set_against_itself_matches_everywhere(real_pieces: list[Piece]) -> None:
    report = compare_style(real_pieces, real_pieces)
    assert set(report.overlaps) == {
        "pitch_class_histogram",
        "pitch_range",
        "note_length_histogram",
        "inter_onset_interval",
        "polyphony",
        "notes_per_beat",
    }
    for name, o in report.overlaps.items():
        assert o.generated == pytest.approx(1.0, abs=1e-6), name
        assert 0.0 < o.reference <= 1.0 + 1e-9, name
    for name, m in report.metrics.items():
        assert m.generated == pytest.approx(m.real, abs=1e-12), name
    assert report.metrics["scale_consistency"].real == pytest.approx(1.0)  # white keys only


def test_random_pitches_are_told_from_music_in_a_key(
    real_pieces: list[Piece], random_pieces: list[Piece]
) -> None:
    report = compare_style(random_pieces, real_pieces)
    scale = report.metrics["scale_consistency"]
    assert scale.real == pytest.approx(1.0)
    assert scale.generated < 0.75, scale
    entropy = report.metrics["pitch_class_entropy"]
    assert entropy.generated > entropy.real + 0.5, entropy  # 12 classes against 7
    histogram = report.overlaps["pitch_class_histogram"]
    assert histogram.generated < 0.5, histogram
    assert histogram.reference > 0.7, histogram
    assert histogram.ratio < 0.6, histogram
    assert len(report.to_dict()["per_piece"]) == len(random_pieces)


def test_short_real_pieces_are_left_out_and_too_few_give_no_overlaps(
    real_pieces: list[Piece], random_pieces: list[Piece]
) -> None:
    tiny = piece("tiny real", [(0, 60, 4), (4, 62, 4)])
    report = compare_style(random_pieces, [*real_pieces, tiny])
    assert len(report.real) == len(real_pieces)
    few = compare_style(random_pieces[:2], real_pieces[:3])
    assert few.overlaps == {}
    assert "3 held-out real piece(s)" in few.note and "at least 4" in few.note
    assert few.metrics["scale_consistency"].real == pytest.approx(1.0)


def test_empty_sets_are_refused(real_pieces: list[Piece]) -> None:
    with pytest.raises(EvaluationError, match="no generated pieces"):
        compare_style([], real_pieces)
    with pytest.raises(EvaluationError, match="no real pieces"):
        compare_style(real_pieces, [])
