"""The shipped parse cache of the built-in collections (core/data/preset_cache/): current, faithful,
and enough for a fresh server to parse nothing."""

import gzip
import json

import pytest

import core.data.parse_cache as parse_cache
from core.data.datasets import COLLECTIONS, load_files, load_sources, source_files
from core.data.parse_cache import (
    PARSER_VERSION,
    parse_to_cache_entry,
    preset_cache_path,
    read_music_cached,
    write_preset_cache,
)
from core.errors import FileTooLargeError, InvalidMusicError, MusicLimitError
from core.music.files import read_music
from core.tokens.config import EncodingConfig

SPQ = EncodingConfig().steps_per_quarter
REBUILD = "rerun scripts/build_preset_cache.py"


@pytest.fixture
def shipped_dir(tmp_path, monkeypatch):
    """A shipped-cache folder of this test's own, read afresh."""
    monkeypatch.setattr(parse_cache, "PRESET_CACHE_DIR", tmp_path / "preset_cache")
    parse_cache._shipped_entries.cache_clear()
    yield tmp_path / "preset_cache"
    parse_cache._shipped_entries.cache_clear()


@pytest.fixture
def no_parsing(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("parsed with music21, not read from the shipped cache")

    monkeypatch.setattr(parse_cache, "read_music", refuse)


def test_the_shipped_cache_is_current():
    path = preset_cache_path(SPQ)
    assert path.exists(), f"no shipped cache for PARSER_VERSION {PARSER_VERSION}: {REBUILD}"
    shipped = parse_cache._shipped_entries()
    for preset in COLLECTIONS.values():
        missing = [
            f.name
            for f in preset.files()
            if parse_cache._cache_key(f.read_bytes(), SPQ, f.name) not in shipped
        ]
        assert not missing, f"{preset.name}: {len(missing)} files not shipped ({REBUILD})"


def test_shipped_entries_equal_a_fresh_parse():
    shipped = parse_cache._shipped_entries()
    chorales = COLLECTIONS["bach-chorales"].files()
    tunes = COLLECTIONS["folk-tunes"].files()
    sample = [chorales[0], chorales[-1], min(tunes, key=lambda f: f.stat().st_size)]
    for file in sample:
        data = file.read_bytes()
        fresh = parse_to_cache_entry(data, name=file.name, steps_per_quarter=SPQ)
        key = parse_cache._cache_key(data, SPQ, file.name)
        assert json.loads(shipped[key]) == json.loads(json.dumps(fresh)), file.name


@pytest.mark.parametrize("preset", ["bach-chorales", "folk-tunes"])
def test_a_fresh_server_parses_no_built_in_collection(preset, isolated_data_dir, no_parsing):
    result = load_sources([preset], steps_per_quarter=SPQ)
    assert result.pieces and not result.errors
    assert not list((isolated_data_dir / "cache" / "pieces").glob("*.json"))  # nothing written


def test_shipped_pieces_are_the_parsed_pieces(isolated_data_dir, monkeypatch):
    file = COLLECTIONS["bach-chorales"].files()[0]
    parsed = read_music(file.read_bytes(), name=file.name, steps_per_quarter=SPQ)
    monkeypatch.setattr(parse_cache, "read_music", None)  # calling it would fail
    shipped = read_music_cached(file.read_bytes(), name=file.name, steps_per_quarter=SPQ)
    assert shipped == parsed
    renamed = read_music_cached(file.read_bytes(), name="mine.mxl", steps_per_quarter=SPQ)
    assert [p.name for p in renamed] == ["mine"]


def test_written_cache_is_deterministic_and_read_back(
    music_fixture, shipped_dir, isolated_data_dir, tmp_path, monkeypatch
):
    folder = tmp_path / "collection"
    folder.mkdir()
    files = [folder / "scale.mid", folder / "no_notes.mid", folder / "tunes.abc"]
    for file in files:
        file.write_bytes(music_fixture(file.name).read_bytes())
    path = write_preset_cache(source_files([str(folder)]), steps_per_quarter=SPQ)
    first = path.read_bytes()
    assert write_preset_cache(files, steps_per_quarter=SPQ).read_bytes() == first
    lines = gzip.decompress(first).decode().splitlines()
    assert lines == sorted(lines)
    expected = load_files(files, steps_per_quarter=SPQ, use_cache=False)
    parse_cache._shipped_entries.cache_clear()
    monkeypatch.setattr(parse_cache, "read_music", None)  # from now on, the shipped file only
    assert load_files(files, steps_per_quarter=SPQ) == expected  # pieces and refusal alike


def test_a_stale_shipped_file_is_not_read(music_fixture, shipped_dir):
    data = music_fixture("scale.mid").read_bytes()
    key = parse_cache._cache_key(data, SPQ, "scale.mid")
    shipped_dir.mkdir()
    stale = shipped_dir / f"presets.spq{SPQ}.v{PARSER_VERSION - 1}.jsonl.gz"
    stale.write_bytes(gzip.compress(f'{key}\t{{"name": "x", "pieces": []}}\n'.encode()))
    assert parse_cache._shipped_entries() == {}


def test_a_corrupt_shipped_file_is_ignored(shipped_dir):
    shipped_dir.mkdir()
    preset_cache_path(SPQ).write_bytes(b"not gzip")
    assert parse_cache._shipped_entries() == {}


# ---------------------------------------------------------------- which refusals are kept


def test_a_refusal_by_the_size_limit_is_not_kept(music_fixture, isolated_data_dir, monkeypatch):
    data = music_fixture("scale.mid").read_bytes()
    monkeypatch.setenv("TUNESMITH_MAX_MUSIC_FILE_MB", "0.0001")  # 100 bytes
    with pytest.raises(FileTooLargeError, match=r"^scale\.mid: the file is .* above the 0 MB"):
        read_music_cached(data, name="scale.mid", steps_per_quarter=SPQ)
    assert not list((isolated_data_dir / "cache" / "pieces").glob("*.json"))
    monkeypatch.setenv("TUNESMITH_MAX_MUSIC_FILE_MB", "20")
    assert read_music_cached(data, name="scale.mid", steps_per_quarter=SPQ)[0].notes


def test_a_refusal_by_the_note_limit_is_not_kept(music_fixture, isolated_data_dir, monkeypatch):
    from core.music import midi

    data = music_fixture("scale.mid").read_bytes()
    limit = midi.MAX_MIDI_NOTES
    monkeypatch.setattr(midi, "MAX_MIDI_NOTES", 2)
    with pytest.raises(MusicLimitError, match=r"^scale\.mid: .* than the 2 note limit"):
        read_music_cached(data, name="scale.mid", steps_per_quarter=SPQ)
    monkeypatch.setattr(midi, "MAX_MIDI_NOTES", limit)
    assert read_music_cached(data, name="scale.mid", steps_per_quarter=SPQ)[0].notes


def test_a_refusal_by_the_file_itself_is_kept(music_fixture, isolated_data_dir, monkeypatch):
    data = music_fixture("no_notes.mid").read_bytes()
    with pytest.raises(InvalidMusicError, match=r"^silent\.mid: the file contains no notes"):
        read_music_cached(data, name="silent.mid", steps_per_quarter=SPQ)
    monkeypatch.setattr(parse_cache, "read_music", None)  # from now on, the cache only
    with pytest.raises(InvalidMusicError, match=r"^again\.mid: the file contains no notes"):
        read_music_cached(data, name="again.mid", steps_per_quarter=SPQ)


def test_a_refusal_kept_before_limits_were_told_apart_is_read_again(
    music_fixture, isolated_data_dir
):
    """Such an entry may hold a limit's refusal, with the limit of then in its message."""
    data = music_fixture("scale.mid").read_bytes()
    key = parse_cache._cache_key(data, SPQ, "scale.mid")
    path = isolated_data_dir / "cache" / "pieces" / f"{key}.json"
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps({"error": "{name}: the file is 0.0 MB, above the 0 MB limit"}))
    assert read_music_cached(data, name="scale.mid", steps_per_quarter=SPQ)[0].notes
    assert "pieces" in json.loads(path.read_text())  # and replaced by what it holds
