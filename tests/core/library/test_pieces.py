"""core/library/pieces: a workspace keeps every piece made, titled apart, renamed, deleted with
undo, within its named limit and its quota (the oldest offered for removal), written whole."""

from __future__ import annotations

import json
import os
import time

import pytest

from core.errors import InvalidSettingError, QuotaError, StorageError
from core.library import Kind, Library, spoken_key
from core.library.pieces import (
    MAX_PIECES_ENV,
    TRASH_KEEP_DAYS,
    key_of,
    max_pieces,
)
from core.settings import SETTINGS
from core.storage import quotas
from tests.core.library.conftest import FAKE_AUDIO, keep, make_piece


def test_a_kept_piece_reads_back_as_it_was_made(library: Library, folk) -> None:
    result = make_piece(folk, 7)
    record = keep(library, result)
    assert [r.id for r in library.pieces()] == [record.id]
    assert library.result(record.id) == result
    assert library.audio(record.id) == FAKE_AUDIO
    assert record.key == key_of(result) and record.key  # estimated when none was asked for
    assert record.title.endswith(f"in {spoken_key(record.key)}")
    assert record.duration_s == pytest.approx(result.piece.duration_s, abs=1e-3)
    assert library.model_path(record) == folk.path
    assert Library(library.workspace).pieces() == [record]  # another session, the same list


def test_titles_never_collide_and_a_longer_version_says_so(library: Library, folk) -> None:
    result = make_piece(folk, 7)
    first, again = keep(library, result), keep(library, result)
    assert again.title == f"{first.title} 2"
    longer = keep(library, make_piece(folk, 8), kind=Kind.LONGER, parent_id=first.id)
    ending = keep(library, make_piece(folk, 9), kind=Kind.KEPT_BARS, parent_id=first.id)
    assert longer.title == f"{first.title}, longer"
    assert ending.title == f"{first.title}, new ending"
    assert len({r.title for r in library.pieces()}) == 4


def test_rename_cleans_numbers_and_refuses_nothing_readable(library: Library, folk) -> None:
    one, two = keep(library, make_piece(folk, 1)), keep(library, make_piece(folk, 2))
    assert library.rename(one.id, "  Morning\nsong ").title == "Morning song"
    assert library.rename(two.id, "morning song").title == "morning song 2"
    with pytest.raises(InvalidSettingError):
        library.rename(two.id, "  ")
    with pytest.raises(StorageError, match="not in your pieces"):
        library.rename("0" * 16, "x")
    with pytest.raises(StorageError):
        library.get("../../x")


def test_delete_moves_to_the_trash_and_undo_brings_it_back(library: Library, folk) -> None:
    record = keep(library, make_piece(folk, 1))
    library.delete(record.id)
    assert library.pieces() == [] and [r.id for r in library.trash()] == [record.id]
    with pytest.raises(StorageError):
        library.result(record.id)
    assert library.restore(record.id) == record
    assert library.pieces() == [record] and library.trash() == []
    with pytest.raises(StorageError, match="not in the trash"):
        library.restore(record.id)


def test_a_restored_piece_whose_title_was_taken_meanwhile_is_numbered(library, folk) -> None:
    result = make_piece(folk, 1)
    record = keep(library, result)
    library.delete(record.id)
    keep(library, result)  # the same seed: the same title, free again
    assert library.restore(record.id).title == f"{record.title} 2"


def test_the_trash_is_emptied_after_a_week(library: Library, folk) -> None:
    old, recent = keep(library, make_piece(folk, 1)), keep(library, make_piece(folk, 2))
    library.delete(old.id)
    library.delete(recent.id)
    week_ago = time.time() - TRASH_KEEP_DAYS * 86_400 - 60
    os.utime(library.trash_root / old.id, (week_ago, week_ago))
    library.pieces()  # listing empties it
    assert [r.id for r in library.trash()] == [recent.id]


def test_the_named_limit_on_pieces_refuses_and_names_the_oldest(library, folk, monkeypatch):
    assert SETTINGS[MAX_PIECES_ENV].default_value() == max_pieces() == 200
    monkeypatch.setenv(MAX_PIECES_ENV, "2")
    oldest = keep(library, make_piece(folk, 1))
    keep(library, make_piece(folk, 2))
    with pytest.raises(QuotaError, match="the most this server keeps"):
        keep(library, make_piece(folk, 3))
    room = library.room_for(10_000)
    assert room.enough and [r.id for r in room.oldest] == [oldest.id]
    library.delete_for_good([r.id for r in room.oldest])
    keep(library, make_piece(folk, 3))  # room made
    assert len(library.pieces()) == 2


def test_a_full_quota_refuses_writes_nothing_and_counts_the_trash_first(library, folk,
                                                                        monkeypatch) -> None:
    big = b"OggS" + bytes(400_000)
    first = keep(library, make_piece(folk, 1), audio=big)
    second = keep(library, make_piece(folk, 2), audio=big)
    library.delete(first.id)
    monkeypatch.setenv(quotas.WORKSPACE_QUOTA_MB_ENV, "1")
    before = sorted(p.name for p in library.root.iterdir())
    with pytest.raises(QuotaError, match="does not fit in your space"):
        keep(library, make_piece(folk, 3), audio=big)
    assert sorted(p.name for p in library.root.iterdir()) == before  # nothing half-written
    room = library.room_for(450_000)
    assert [r.id for r in room.trash] == [first.id] and room.enough
    assert [r.id for r in library.room_for(900_000).oldest] == [second.id]
    assert not library.room_for(5_000_000).enough  # more than all the pieces hold


def test_a_damaged_record_is_left_out_of_the_list_not_fatal(library: Library, folk) -> None:
    good, bad = keep(library, make_piece(folk, 1)), keep(library, make_piece(folk, 2))
    (library.root / bad.id / "record.json").write_text(json.dumps({"format": 1, "id": bad.id}))
    (library.root / "not-a-piece").mkdir()
    assert library.pieces() == [good]
    (library.root / good.id / "result.json").write_text("[]")
    with pytest.raises(StorageError, match="cannot be read"):
        library.result(good.id)


def test_audio_is_rendered_again_when_it_was_not_kept(library: Library, folk) -> None:
    record = keep(library, make_piece(folk, 1), audio=None)
    audio = library.audio(record.id)
    assert audio[:4] == b"OggS" and (library.root / record.id / "audio.ogg").read_bytes() == audio


def test_a_model_of_ones_own_is_found_only_inside_the_workspace(library: Library, folk) -> None:
    record = keep(library, make_piece(folk, 1), style="My model: reels", style_name="",
                  model_folder="reels")
    assert library.model_path(record) is None  # not there (yet)
    (library.workspace / "models" / "reels").mkdir(parents=True)
    assert library.model_path(record) == library.workspace / "models" / "reels"
    sneaky = keep(library, make_piece(folk, 2), style="x", style_name="", model_folder="../..")
    assert library.model_path(sneaky) is None
