"""Keep the good bars and make it longer: what is kept is exactly the original."""

from __future__ import annotations

from dataclasses import replace

import pytest

from core.evaluation.features import scale_consistency_in
from core.generation.continuation import (
    BEATS_PER_BAR,
    MAX_CONTINUED_TOKENS,
    bar_count,
    first_bars,
    keep_bars,
    keep_bars_primer,
    make_longer,
    steps_per_bar,
)
from core.generation.generator import Generator
from core.generation.primers import piece_to_primer
from core.generation.result import GenerationResult
from core.generation.settings import SamplingSettings
from core.music.piece import Note, Piece, seconds_to_steps
from core.tokens.scheme import BOS, EOS
from tests.core._generation_fixtures import make_tiny_model_folder

LOCKED = SamplingSettings(length_tokens=300, key=2, scale="blues", lock_scale=True)


@pytest.fixture(scope="module")
def chorales() -> Generator:
    return Generator.from_folder("bach-chorales")


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Generator:
    return Generator.from_folder(make_tiny_model_folder(tmp_path_factory.mktemp("m") / "tiny"))


def tune_in_e() -> Piece:
    pitches = [64, 68, 71, 76, 75, 73, 71, 69, 68, 66, 64, 71, 68, 64]
    return Piece("in E", tuple(Note(i * 4, p, 4) for i, p in enumerate(pitches)), 4, 100.0)


def originals(gen: Generator) -> list[GenerationResult]:
    """A plain piece, one in a chosen key with the scale locked, and one that continues a tune
    in E (moved by the primer's key normalization for a key-normalized model)."""
    tune = piece_to_primer(tune_in_e(), gen.encoding)
    return [
        gen.generate(SamplingSettings(length_tokens=300), seed=3),
        gen.generate(LOCKED, seed=4),
        gen.generate(SamplingSettings(length_tokens=300), seed=5, primer=tune),
    ]


def test_bars_of_a_piece() -> None:
    assert BEATS_PER_BAR == 4 and steps_per_bar(4) == 16 and steps_per_bar(12) == 48
    notes = (Note(0, 60, 4), Note(14, 62, 8), Note(16, 64, 4), Note(40, 65, 30))
    piece = Piece("p", notes, 4, 120.0)
    assert bar_count(piece) == 3  # the last note starts in bar 3 (held into bar 5: no bar)
    assert bar_count(Piece("empty", ())) == 0
    assert first_bars(piece, 1).notes == notes[:2]  # the held note keeps its length
    assert first_bars(piece, 2).notes == notes[:3]
    assert first_bars(piece, 3).notes == notes


@pytest.mark.parametrize("model", ["chorales", "tiny"])
def test_keeping_bars_keeps_them_exactly(model: str, request: pytest.FixtureRequest) -> None:
    gen: Generator = request.getfixturevalue(model)
    for original in originals(gen):
        total = bar_count(original)
        assert total >= 4, total
        for bars in sorted({1, 2, total - 1}):
            variations = keep_bars(gen, original, bars, seed=7, count=2)
            assert len(variations) == 2
            kept = first_bars(original.piece, bars).notes
            for variation in variations:
                assert first_bars(variation.piece, bars).notes == kept, (bars, original.settings)
                assert variation.seam_step == bars * steps_per_bar(4)
                assert (variation.tonic, variation.scale) == (original.tonic, original.scale)
                assert variation.transpose_semitones == original.transpose_semitones
                assert variation.piece.duration_s >= original.piece.duration_s
            assert variations[0].midi_bytes != variations[1].midi_bytes


def test_the_same_seed_gives_the_same_variations(chorales: Generator) -> None:
    original = chorales.generate(LOCKED, seed=2)
    first = keep_bars(chorales, original, 3, seed=40, count=3)
    again = keep_bars(chorales, original, 3, seed=40, count=3)
    assert [v.midi_bytes for v in first] == [v.midi_bytes for v in again]
    assert [v.seed for v in first] == [40, 41, 42]


def test_kept_bars_in_a_locked_scale_stay_locked(chorales: Generator) -> None:
    original = chorales.generate(LOCKED, seed=6)
    for variation in keep_bars(chorales, original, 2, seed=1, count=2):
        assert variation.key_label == "D blues"
        assert scale_consistency_in(variation.piece, 2, "blues") == 1.0


def test_other_settings_can_be_given_but_the_key_stays(chorales: Generator) -> None:
    original = chorales.generate(SamplingSettings(length_tokens=300), seed=8)
    calm = SamplingSettings(temperature=0.5, key=7, scale="major", lock_scale=True)
    (variation,) = keep_bars(chorales, original, 2, seed=1, count=1, settings=calm)
    assert variation.settings.temperature == 0.5
    assert variation.transpose_semitones == 0  # the original's key: nothing moved
    assert first_bars(variation.piece, 2).notes == first_bars(original.piece, 2).notes


def test_keep_bars_primer_ends_on_the_bar_line(chorales: Generator) -> None:
    original = chorales.generate(LOCKED, seed=4)
    primer = keep_bars_primer(original, 3)
    assert primer.tokens[0] != BOS and EOS not in primer.tokens
    assert sum(int(t[1:]) for t in primer.tokens if t[0] == "T") == 3 * steps_per_bar(4)
    assert primer.transpose_semitones == -original.transpose_semitones
    assert (primer.tonic, primer.scale) == (2, "blues")


def test_bars_out_of_range_are_refused(chorales: Generator) -> None:
    original = chorales.generate(SamplingSettings(length_tokens=200), seed=1)
    total = bar_count(original)
    for bars in (0, -1, total, total + 3):
        with pytest.raises(ValueError, match=f"keep between 1 and {total - 1} bars"):
            keep_bars(chorales, original, bars, seed=0, count=1)
    for count in (0, 5):
        with pytest.raises(ValueError, match="make 1 to 4 variations"):
            keep_bars(chorales, original, 1, seed=0, count=count)
    one_bar = replace(original, piece=first_bars(original.piece, 1))
    with pytest.raises(ValueError, match="no bar to keep"):
        keep_bars_primer(one_bar, 1)


@pytest.mark.parametrize("model", ["chorales", "tiny"])
def test_a_longer_piece_starts_with_the_original(
    model: str, request: pytest.FixtureRequest
) -> None:
    gen: Generator = request.getfixturevalue(model)
    for original in originals(gen):
        longer = make_longer(gen, original, 6.0, seed=9)
        assert longer.piece.notes[: len(original.piece.notes)] == original.piece.notes
        # 6 s of new music: its last onset lies at least that far past the seam (the
        # original's last note may ring on past the seam by up to a whole note).
        new_steps = max(n.onset_step for n in longer.piece.notes) - longer.seam_step
        assert new_steps >= seconds_to_steps(
            6.0, tempo_bpm=longer.settings.tempo_bpm, steps_per_quarter=4
        )
        assert longer.piece.duration_s > original.piece.duration_s
        assert longer.seam_step == sum(int(t[1:]) for t in original.tokens if t[0] == "T")
        assert longer.key_label == original.key_label
        assert make_longer(gen, original, 6.0, seed=9).midi_bytes == longer.midi_bytes
    locked = make_longer(gen, gen.generate(LOCKED, seed=4), 6.0, seed=2)
    assert scale_consistency_in(locked.piece, 2, "blues") == 1.0


def test_make_longer_refuses_bad_lengths_and_too_long_pieces(chorales: Generator) -> None:
    original = chorales.generate(SamplingSettings(length_tokens=100), seed=1)
    for seconds in (0.0, -2.0, 601.0):
        with pytest.raises(ValueError, match="add between 0 and 600 seconds"):
            make_longer(chorales, original, seconds, seed=0)
    body = original.tokens[1:-1]
    huge = replace(original, tokens=(BOS, *body * (MAX_CONTINUED_TOKENS // len(body) + 1), EOS))
    with pytest.raises(ValueError, match=f"too long to continue.*limit is {MAX_CONTINUED_TOKENS}"):
        make_longer(chorales, huge, 5.0, seed=0)



# ---------------------------------------------------------------- bars of the piece's meter


def test_bars_of_a_jig_are_its_6_8_bars() -> None:
    notes = (Note(0, 60, 4), Note(11, 62, 2), Note(12, 64, 4), Note(30, 65, 8))
    jig = Piece("jig", notes, 4, 120.0, meter="6/8")
    assert bar_count(jig) == 3  # bars of 12 sixteenths: onsets in bars 1, 1, 2, 3
    assert first_bars(jig, 1).notes == notes[:2] and first_bars(jig, 2).notes == notes[:3]
    upbeat = replace(jig, pickup_steps=2)  # bar lines at 2, 14, 26: the pickup is bar 1
    assert bar_count(upbeat) == 4 and first_bars(upbeat, 1).notes == notes[:1]
    assert first_bars(upbeat, 2).notes == notes[:3]


def test_keeping_bars_of_a_jig_cuts_at_its_bar_lines(tiny: Generator) -> None:
    from core.generation.primers import Primer

    jig = Primer(("P60", "D2", "T2", "P62", "D2", "T2", "P64", "D2"), meter="6/8", pickup_steps=2)
    original = tiny.generate(SamplingSettings(length_tokens=300), seed=5, primer=jig)
    assert original.piece.meter == "6/8" and bar_count(original) >= 4
    for bars in (1, 3):
        primer = keep_bars_primer(original, bars)
        end = 2 + (bars - 1) * 12  # the pickup, then 12-sixteenth bars
        assert sum(int(t[1:]) for t in primer.tokens if t[0] == "T") == end
        assert (primer.meter, primer.pickup_steps) == ("6/8", 2)
        (variation,) = keep_bars(tiny, original, bars, seed=7, count=1)
        assert variation.seam_step == end
        assert (variation.piece.meter, variation.piece.pickup_steps) == ("6/8", 2)
        assert first_bars(variation.piece, bars).notes == first_bars(original.piece, bars).notes
