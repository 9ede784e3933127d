"""Keys and scales: names in and out, pitch classes, the key plan, and scale consistency."""

from __future__ import annotations

import math

import pytest

from core.evaluation.features import piece_to_muspy, scale_consistency_in
from core.music.piece import Note, Piece
from core.music.scales import (
    TONIC_NAMES,
    KeyPlan,
    Scale,
    check_tonic,
    key_label,
    nearest_shift,
    parse_scale,
    parse_tonic,
    plan_key,
    scale_pitch_classes,
    tonic_name,
)


def test_every_scale_has_its_pitch_classes() -> None:
    assert scale_pitch_classes(0, Scale.MAJOR) == {0, 2, 4, 5, 7, 9, 11}
    assert scale_pitch_classes(2, Scale.MAJOR) == {2, 4, 6, 7, 9, 11, 1}
    assert scale_pitch_classes(9, Scale.NATURAL_MINOR) == scale_pitch_classes(0, Scale.MAJOR)
    assert scale_pitch_classes(9, Scale.HARMONIC_MINOR) == {9, 11, 0, 2, 4, 5, 8}
    assert scale_pitch_classes(0, Scale.MAJOR_PENTATONIC) == {0, 2, 4, 7, 9}
    assert scale_pitch_classes(9, Scale.MINOR_PENTATONIC) == {9, 0, 2, 4, 7}
    assert scale_pitch_classes(9, Scale.BLUES) == {9, 0, 2, 3, 4, 7}  # + the flat fifth, Eb
    assert scale_pitch_classes(11, "blues") == {11, 2, 4, 5, 6, 9}
    sizes = {s: len(scale_pitch_classes(0, s)) for s in Scale}
    assert sizes == {
        Scale.MAJOR: 7,
        Scale.NATURAL_MINOR: 7,
        Scale.HARMONIC_MINOR: 7,
        Scale.MAJOR_PENTATONIC: 5,
        Scale.MINOR_PENTATONIC: 5,
        Scale.BLUES: 6,
    }


def test_minor_scales_say_so() -> None:
    minor = {s for s in Scale if s.is_minor}
    assert minor == {
        Scale.NATURAL_MINOR,
        Scale.HARMONIC_MINOR,
        Scale.MINOR_PENTATONIC,
        Scale.BLUES,
    }


@pytest.mark.parametrize(
    ("text", "pitch_class"),
    [
        ("C", 0),
        ("c", 0),
        ("C#", 1),
        ("Db", 1),
        ("D-", 1),
        ("db", 1),
        ("Eb", 3),
        ("F#", 6),
        (" f# ", 6),
        ("Bb", 10),
        ("B-", 10),
        ("bb", 10),
        ("B", 11),
        ("Cb", 11),
        ("E#", 5),
    ],
)
def test_key_names_are_read_with_sharps_and_flats_in_any_case(text: str, pitch_class: int) -> None:
    assert parse_tonic(text) == pitch_class


@pytest.mark.parametrize("text", ["", "H", "C##", "Do", "C major", "12", "#"])
def test_other_text_is_not_a_key_name(text: str) -> None:
    with pytest.raises(ValueError, match=r"not a key name; use C, C#, Db, \.\.\. B"):
        parse_tonic(text)


def test_key_names_round_trip() -> None:
    assert len(TONIC_NAMES) == 12
    assert [parse_tonic(tonic_name(pc)) for pc in range(12)] == list(range(12))
    assert tonic_name(3) == "Eb" and tonic_name(6) == "F#" and tonic_name(10) == "Bb"


def test_scale_names_are_read_in_their_usual_spellings() -> None:
    assert parse_scale("major") is Scale.MAJOR
    assert parse_scale("minor") is Scale.NATURAL_MINOR
    assert parse_scale("Natural Minor") is Scale.NATURAL_MINOR
    assert parse_scale("natural-minor") is Scale.NATURAL_MINOR
    assert parse_scale("major_pentatonic") is Scale.MAJOR_PENTATONIC
    assert parse_scale("HARMONIC_MINOR") is Scale.HARMONIC_MINOR
    assert parse_scale(Scale.BLUES) is Scale.BLUES
    assert all(parse_scale(s.value) is s for s in Scale)


def test_an_unknown_scale_is_refused_with_the_choices() -> None:
    with pytest.raises(ValueError, match="'dorian' is not a scale; choose one of: major, natural"):
        parse_scale("dorian")


def test_key_labels() -> None:
    assert key_label(2, Scale.MAJOR) == "D major"
    assert key_label(6, Scale.BLUES) == "F# blues"
    assert key_label(9, "minor") == "A natural minor"


def test_a_tonic_is_a_whole_pitch_class() -> None:
    assert check_tonic(11) == 11 and check_tonic(2.0) == 2
    for bad in (12, -1, 2.5, True, "D", None):
        with pytest.raises(ValueError, match=r"key must be a pitch class 0\.\.11"):
            check_tonic(bad, name="key")


def test_the_nearest_shift_goes_at_most_half_an_octave() -> None:
    assert nearest_shift(0, 2) == 2
    assert nearest_shift(0, 7) == -5
    assert nearest_shift(0, 6) == -6
    assert nearest_shift(9, 2) == 5
    assert all(-6 <= nearest_shift(a, b) <= 5 for a in range(12) for b in range(12))


def test_nothing_asked_moves_only_the_tune_back() -> None:
    kwargs = {"key": None, "scale": None, "lock_scale": False}
    assert plan_key(**kwargs, normalized_model=True) == KeyPlan()
    assert plan_key(
        **kwargs,
        normalized_model=True,
        tune_transpose_semitones=-2,
        tune_tonic=2,
        tune_scale="major",
    ) == KeyPlan(2, 2, Scale.MAJOR)


def test_a_key_normalized_model_is_moved_from_c_major_or_a_minor() -> None:
    def plan(key: int | None, scale: str | None, lock: bool = False) -> KeyPlan:
        return plan_key(key=key, scale=scale, lock_scale=lock, normalized_model=True)

    assert plan(2, "major") == KeyPlan(2, 2, Scale.MAJOR)
    assert plan(2, None) == KeyPlan(2, 2, Scale.MAJOR)  # no scale: major
    assert plan(2, "natural minor") == KeyPlan(5, 2, Scale.NATURAL_MINOR)  # from A
    assert plan(6, "major") == KeyPlan(-6, 6, Scale.MAJOR)
    assert plan(None, "blues", True) == KeyPlan(0, 9, Scale.BLUES, True)  # the model's A
    assert plan(None, None, True) == KeyPlan(0, 0, Scale.MAJOR, True)
    assert plan(None, None, True).allowed_pitch_classes() == {0, 2, 4, 5, 7, 9, 11}
    assert plan(None, "blues").allowed_pitch_classes() is None  # no lock: nothing masked


def test_a_tune_keeps_its_key_unless_another_is_asked() -> None:
    def plan(key: int | None, scale: str | None = None, lock: bool = False) -> KeyPlan:
        return plan_key(
            key=key,
            scale=scale,
            lock_scale=lock,
            normalized_model=True,
            tune_transpose_semitones=-2,  # a tune in D, heard by the model in C
            tune_tonic=2,
            tune_scale="major",
        )

    assert plan(None, lock=True) == KeyPlan(2, 2, Scale.MAJOR, True)
    assert plan(2) == KeyPlan(2, 2, Scale.MAJOR)
    assert plan(5) == KeyPlan(5, 5, Scale.MAJOR)  # D → F: three more
    assert plan(0) == KeyPlan(0, 0, Scale.MAJOR)  # D → C: back down
    assert plan(None, "blues", True) == KeyPlan(2, 2, Scale.BLUES, True)


def test_a_model_without_key_normalization_is_never_moved_without_a_tune() -> None:
    plan = plan_key(key=7, scale="major", lock_scale=True, normalized_model=False)
    assert plan == KeyPlan(0, 7, Scale.MAJOR, True)
    plan = plan_key(key=None, scale="minor", lock_scale=True, normalized_model=False)
    assert plan == KeyPlan(0, 9, Scale.NATURAL_MINOR, True)


def g_major_piece_with_outsiders() -> Piece:
    # A G major melody (F#, no F) with two notes outside it: best key G major / E minor.
    pitches = [67, 71, 74, 66, 69, 72, 76, 79, 78, 74, 71, 67, 65, 63, 62, 67]
    notes = tuple(Note(i * 2, p, 2) for i, p in enumerate(pitches))
    return Piece("g", notes, 4, 120.0)


def test_scale_consistency_in_one_key_agrees_with_muspy() -> None:
    import muspy

    piece = g_major_piece_with_outsiders()
    music = piece_to_muspy(piece)
    for tonic in range(12):
        for scale, mode in ((Scale.MAJOR, "major"), (Scale.NATURAL_MINOR, "minor")):
            expected = muspy.pitch_in_scale_rate(music, tonic, mode)
            assert scale_consistency_in(piece, tonic, scale) == pytest.approx(expected, abs=1e-12)
    # MusPy's scale consistency is the best of those, here G major's
    assert scale_consistency_in(piece, 7, "major") == pytest.approx(
        muspy.scale_consistency(music), abs=1e-12
    )
    assert scale_consistency_in(piece, 7, "major") == pytest.approx(14 / 16)
    assert scale_consistency_in(piece, 7, Scale.MAJOR_PENTATONIC) < 14 / 16


def test_scale_consistency_of_no_notes_is_undefined() -> None:
    assert math.isnan(scale_consistency_in(Piece("empty", ()), 0, "major"))
