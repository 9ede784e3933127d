"""core/library/titles: short titles a person can tell apart, the same for the same piece, and
file names that never collide within a library."""

from __future__ import annotations

import pytest

from core.errors import InvalidSettingError
from core.library.titles import (
    MAX_STEM_CHARS,
    MAX_TITLE_CHARS,
    clean_title,
    piece_title,
    title_to_stem,
    unique_title,
)


def test_a_title_names_the_style_and_the_key_and_follows_the_seed() -> None:
    assert piece_title(seed=0, style="folk-tunes", key="D major") == "Amber Reel in D major"
    assert piece_title(seed=64, style="folk-tunes", key="D major") == "Amber Jig in D major"
    assert piece_title(seed=1, style="bach-chorales", key="A natural minor") == (
        "Autumn Chorale in A minor"
    )
    assert piece_title(seed=0, style="my tunes") == "Amber Tune"  # own model, key unknown
    assert piece_title(seed=5, style="folk-tunes", key="G major") == piece_title(
        seed=5, style="folk-tunes", key="G major"
    )


def test_a_dance_is_named_for_its_meter() -> None:
    def nouns(meter: str, style: str = "folk-tunes") -> set[str]:
        return {piece_title(seed=s, style=style, meter=meter).split(" ", 1)[1]
                for s in range(0, 64 * 16, 64)}  # one adjective, every noun in turn

    assert nouns("") == {"Reel", "Jig", "Air", "Hornpipe", "Dance", "Polka", "Ballad", "Slide"}
    assert nouns("6/8") == {"Jig", "Air", "Dance", "Ballad"}  # never a reel in 6/8
    assert nouns("4/4") == {"Reel", "Air", "Hornpipe", "Dance", "Ballad"}
    assert nouns("3/4") == {"Air", "Dance", "Ballad", "Waltz", "Mazurka"}
    assert nouns("9/8") == {"Air", "Dance", "Ballad", "Slip Jig"}
    assert nouns("3/4", "bach-chorales") == nouns("", "bach-chorales")  # no dances: as before
    assert nouns("6/8", "my tunes") == nouns("", "my tunes")


def test_a_hundred_seeds_give_nearly_a_hundred_titles() -> None:
    titles = {piece_title(seed=s, style="folk-tunes", key="D major") for s in range(1000, 1100)}
    assert len(titles) >= 90


def test_a_title_taken_is_numbered_by_its_file_name() -> None:
    taken = ["Misty Reel in D major", "misty reel in d major!! 2"]
    assert unique_title("Misty Reel in D major", taken) == "Misty Reel in D major 3"
    assert unique_title("Misty Reel in G major", taken) == "Misty Reel in G major"
    long = "x" * MAX_TITLE_CHARS
    numbered = unique_title(long, [long])
    assert len(numbered) <= MAX_TITLE_CHARS and title_to_stem(numbered) != title_to_stem(long)


def test_file_names_are_plain_short_and_keep_their_number() -> None:
    assert title_to_stem("Misty Reel in F# major, longer") == "misty-reel-in-f-sharp-major-longer"
    assert title_to_stem("Émile’s song / ../../etc") == "emiles-song-etc"
    assert title_to_stem("♪♪♪") == "tunesmith-piece"
    many_sharps = "F#" * 40
    first, second = title_to_stem(many_sharps + " 2"), title_to_stem(many_sharps + " 3")
    assert len(first) <= MAX_STEM_CHARS and first != second and first.endswith("-2")


def test_a_name_typed_is_cleaned_and_an_empty_one_refused() -> None:
    assert clean_title("  My\tsong\n\u202e  ") == "My song"
    assert len(clean_title("a" * 500)) == MAX_TITLE_CHARS
    for empty in ("", "   ", "\n\t", "!!!"):
        with pytest.raises(InvalidSettingError, match="at least one letter or digit"):
            clean_title(empty)
