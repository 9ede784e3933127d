"""My dataset: generated stored names, true outcomes per file, batch and disk limits, faults."""

from __future__ import annotations

import errno
import json
import os
import re
from pathlib import Path

import pytest

from core.data.datasets import load_sources
from core.data.user_music import NAMES_FILE, add_file, add_music_files, stored_files
from core.errors import QuotaError, StorageError
from core.model.folder import delete_model_folder
from core.storage import files as storage
from core.storage.files import storage_error, workspace_dir
from tests.conftest import MUSIC_FIXTURES

GENERATED = re.compile(r"^[0-9a-f]{16}\.(mid|abc|xml|mxl|musicxml|midi|kar)$")


@pytest.fixture
def workspace(isolated_data_dir) -> Path:
    return workspace_dir("a" * 32)


def _fixture(name: str) -> tuple[str, bytes]:
    return name, (MUSIC_FIXTURES / name).read_bytes()


def test_files_are_stored_under_generated_names_and_shown_under_theirs(workspace):
    folder = workspace / "music"
    hostile = [
        ("../../etc/passwd.mid", _fixture("scale.mid")[1]),
        ("x" * 300 + ".mid", _fixture("triplets.mid")[1]),
        ("[click](https:evil.example) <b>.abc", _fixture("tunes.abc")[1]),
    ]
    outcomes = add_music_files(workspace, folder, hostile, steps_per_quarter=4)
    assert [o.added for o in outcomes] == [True, True, True]
    stored = stored_files(folder)
    assert all(GENERATED.match(f.path.name) for f in stored)
    names = {f.name for f in stored}
    assert "passwd.mid" in names  # no folders, ever
    assert "[click](https:evil.example) <b>.abc" in names  # displayed as given
    assert max(len(n) for n in names) <= 200
    assert {p.name for p in folder.iterdir()} == {f.path.name for f in stored} | {NAMES_FILE}


def test_pieces_of_my_dataset_carry_the_user_s_names(workspace):
    folder = workspace / "music"
    add_music_files(workspace, folder, [_fixture("scale.mid")], steps_per_quarter=4)
    result = load_sources([str(folder)], steps_per_quarter=4)
    assert [p.name for p in result.pieces] == ["scale"]


def test_a_batch_reports_every_file_s_true_outcome_in_order(workspace, monkeypatch):
    monkeypatch.setenv("TUNESMITH_MAX_FILES_PER_BATCH", "3")
    files = [
        _fixture("truncated.mid"),
        _fixture("scale.mid"),
        ("notes.txt", b"hello"),
        _fixture("tunes.abc"),
        _fixture("empty.mid"),
    ]
    outcomes = add_music_files(workspace, workspace / "music", files, steps_per_quarter=4)
    assert [(o.name, o.added) for o in outcomes] == [
        ("truncated.mid", False),
        ("scale.mid", True),
        ("notes.txt", False),
        ("tunes.abc", False),
        ("empty.mid", False),
    ]
    assert all(o.message.startswith(o.name) for o in outcomes)
    assert "at most 3 files" in outcomes[3].message
    assert [f.name for f in stored_files(workspace / "music")] == ["scale.mid"]


def test_the_same_name_again_replaces_the_file(workspace):
    folder = workspace / "music"
    add_file(workspace, folder, "tune.mid", _fixture("scale.mid")[1])
    add_file(workspace, folder, "tune.mid", _fixture("triplets.mid")[1])
    stored = stored_files(folder)
    assert [f.name for f in stored] == ["tune.mid"]
    assert stored[0].path.read_bytes() == _fixture("triplets.mid")[1]
    assert len([p for p in folder.iterdir() if p.name != NAMES_FILE]) == 1


def test_a_full_workspace_refuses_the_file_by_name_and_keeps_the_rest(workspace, monkeypatch):
    folder = workspace / "music"
    add_file(workspace, folder, "first.mid", _fixture("scale.mid")[1])
    monkeypatch.setenv("TUNESMITH_WORKSPACE_QUOTA_MB", "0.0001")  # 100 bytes
    outcomes = add_music_files(workspace, folder, [_fixture("triplets.mid")], steps_per_quarter=4)
    assert not outcomes[0].added
    assert outcomes[0].message.startswith("triplets.mid does not fit in your space")
    assert "Delete models or music files" in outcomes[0].message
    assert [f.name for f in stored_files(folder)] == ["first.mid"]


def test_a_full_data_directory_refuses_with_a_server_message(workspace, monkeypatch):
    monkeypatch.setenv("TUNESMITH_DATA_DIR_LIMIT_MB", "0")
    with pytest.raises(QuotaError, match="server's storage is full"):
        add_file(workspace, workspace / "music", "a.mid", _fixture("scale.mid")[1])
    assert stored_files(workspace / "music") == []


@pytest.mark.parametrize(
    ("code", "words"),
    [(errno.ENOSPC, "storage is full"), (errno.EROFS, "read-only"), (errno.EACCES, "may not")],
)
def test_a_failing_disk_leaves_nothing_half_written(workspace, monkeypatch, code, words):
    folder = workspace / "music"
    add_file(workspace, folder, "kept.mid", _fixture("scale.mid")[1])
    before = sorted(p.name for p in folder.iterdir())
    names_before = (folder / NAMES_FILE).read_text()

    def failing_replace(src, dst):
        raise OSError(code, os.strerror(code), str(dst))

    monkeypatch.setattr(storage.os, "replace", failing_replace)
    outcomes = add_music_files(workspace, folder, [_fixture("triplets.mid")], steps_per_quarter=4)
    assert not outcomes[0].added
    assert words in outcomes[0].message and outcomes[0].message.startswith("triplets.mid")
    assert str(workspace) not in outcomes[0].message  # no server paths
    assert sorted(p.name for p in folder.iterdir()) == before  # no temporary files either
    assert (folder / NAMES_FILE).read_text() == names_before


def test_a_read_only_data_directory_still_opens_a_workspace(isolated_data_dir, monkeypatch):
    path = workspace_dir("b" * 32)

    def read_only(*args, **kwargs):
        raise OSError(errno.EROFS, "Read-only file system")

    monkeypatch.setattr(storage.os, "utime", read_only)
    assert workspace_dir("b" * 32) == path


def test_a_deleted_data_directory_is_made_again(isolated_data_dir):
    import shutil

    workspace_dir("c" * 32)
    shutil.rmtree(isolated_data_dir)
    assert workspace_dir("c" * 32).is_dir()


def test_storage_errors_are_plain_sentences_without_paths():
    error = storage_error(OSError(errno.ENOSPC, "No space left", "/srv/data/x"), "tune.mid")
    assert isinstance(error, StorageError)
    assert str(error).startswith("tune.mid: not saved, the server's storage is full")
    assert "/srv" not in str(error)


def test_a_model_is_deleted_all_at_once(tmp_path, monkeypatch):
    model = tmp_path / "models" / "mine"
    model.mkdir(parents=True)
    (model / "model.keras").write_bytes(b"x")
    (model / "metrics.json").write_text(json.dumps({}))
    delete_model_folder(model)
    assert list((tmp_path / "models").iterdir()) == []
