"""The data directory: `TUNESMITH_DATA_DIR` when it can be used, the default otherwise; never the
folder the server was started in."""

from __future__ import annotations

from pathlib import Path

import pytest

from core import settings
from core.storage import files


@pytest.fixture
def default_dir(tmp_path, monkeypatch) -> Path:
    """The default data directory, moved under tmp_path (a test never writes the real one)."""
    monkeypatch.setattr(files, "DEFAULT_DATA_DIR", tmp_path / "default")
    monkeypatch.setattr(settings, "_reported", set())
    (tmp_path / "cwd").mkdir()
    monkeypatch.chdir(tmp_path / "cwd")  # where the server was started
    return tmp_path / "default"


def test_the_setting_names_the_data_directory(default_dir, tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("TUNESMITH_DATA_DIR", str(tmp_path / "mine"))
    assert files.data_dir() == tmp_path / "mine" and (tmp_path / "mine").is_dir()
    monkeypatch.delenv("TUNESMITH_DATA_DIR")
    assert files.data_dir() == default_dir


@pytest.mark.parametrize("value", ["", "  ", "data", ".", "nan"])
def test_an_empty_or_relative_setting_gives_the_default_never_the_current_folder(
    default_dir, tmp_path, monkeypatch, caplog, value
) -> None:
    monkeypatch.setenv("TUNESMITH_DATA_DIR", value)
    assert files.data_dir() == default_dir
    assert list((tmp_path / "cwd").iterdir()) == []  # nothing made where the server started
    workspace = files.workspace_dir(files.new_workspace_id())
    assert workspace.parent == default_dir / "workspaces"
    assert caplog.records[0].getMessage().startswith(f"TUNESMITH_DATA_DIR={value!r} cannot be")


def test_a_copytree_error_names_the_fault_of_its_files_without_their_paths():
    """shutil.Error carries no errno, only its files' errors as text."""
    import shutil

    from core.errors import StorageError
    from core.storage.files import saving, storage_fault

    error = shutil.Error([("/srv/x/a", "/srv/y/a", "[Errno 28] No space left on device: '/srv'")])
    assert storage_fault(error) == "the server's storage is full"
    with pytest.raises(StorageError) as raised, saving("Your model"):
        raise error
    assert "/srv" not in str(raised.value)
    assert str(raised.value).startswith("Your model: not saved, the server's storage is full")
