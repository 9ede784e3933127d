"""A user's file name is only ever displayed: no folders, no control characters, bounded."""

from pathlib import Path

import pytest

from core.data.user_music import MAX_DISPLAY_NAME_CHARS, display_name


@pytest.mark.parametrize(
    "name, expected",
    [
        ("../../etc/passwd.mid", "passwd.mid"),
        ("C:\\music\\song.mid", "song.mid"),
        ("a\x00b\n.abc", "ab.abc"),
        ("", "untitled"),
        ("   ", "untitled"),
    ],
)
def test_names_lose_folders_and_control_characters(name, expected):
    assert display_name(name) == expected


def test_long_names_are_cut_keeping_the_extension():
    for name in ("x" * 300 + ".mid", "é" * 300 + ".musicxml"):
        shown = display_name(name)
        assert len(shown) <= MAX_DISPLAY_NAME_CHARS and Path(shown).suffix == Path(name).suffix
