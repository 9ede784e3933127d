"""User file names are stored under safe names: no folders, not hidden, never too long."""

from pathlib import Path

import pytest

from core.storage import MAX_FILE_NAME_CHARS, safe_file_name


@pytest.mark.parametrize(
    "name, expected",
    [
        ("../../etc/passwd", "passwd"),
        ("C:\\music\\song.mid", "song.mid"),
        (".hidden.mid", "hidden.mid"),
        ("a\x00b\n.abc", "ab.abc"),
        ("", "untitled"),
        ("...", "untitled"),
    ],
)
def test_names_lose_folders_control_characters_and_leading_dots(name, expected):
    assert safe_file_name(name) == expected


def test_long_names_are_cut_keeping_the_extension_and_can_be_written(tmp_path):
    for name in ("x" * 300 + ".mid", "é" * 200 + ".musicxml"):
        safe = safe_file_name(name)
        assert len(safe) <= MAX_FILE_NAME_CHARS and Path(safe).suffix == Path(name).suffix
        (tmp_path / safe).write_bytes(b"ok")  # no ENAMETOOLONG
        assert (tmp_path / safe).read_bytes() == b"ok"
