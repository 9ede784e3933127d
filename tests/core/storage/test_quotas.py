"""core/storage/quotas: a workspace's quota and the data directory's limit refuse, with a message,
what would pass them, before anything is written."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.errors import QuotaError
from core.storage import quotas
from core.storage.quotas import check_room, data_dir_bytes, folder_bytes


@pytest.fixture
def workspace(isolated_data_dir: Path) -> Path:
    path = isolated_data_dir / "workspaces" / "0123456789abcdef"
    (path / "music").mkdir(parents=True)
    (path / "music" / "tune.mid").write_bytes(b"x" * 600_000)
    (path / "notes.json").write_bytes(b"y" * 400_000)
    return path  # 1 MB used


def listing(root: Path) -> list[tuple[str, int]]:
    return sorted((str(p.relative_to(root)), p.stat().st_size) for p in root.rglob("*"))


def test_folder_bytes_counts_every_file_below(workspace: Path, tmp_path: Path) -> None:
    assert folder_bytes(workspace) == 1_000_000
    assert folder_bytes(tmp_path / "nowhere") == 0
    (workspace / "link").symlink_to(workspace / "music")  # not followed: counted once
    assert folder_bytes(workspace) == 1_000_000


def test_room_left_in_the_quota_is_granted(workspace: Path, monkeypatch) -> None:
    monkeypatch.setenv(quotas.WORKSPACE_QUOTA_MB_ENV, "2")
    check_room(workspace, incoming_bytes=1_000_000, what="tune.mid")  # exactly full


def test_a_full_workspace_refuses_with_its_figures_and_writes_nothing(
    workspace: Path, monkeypatch
) -> None:
    monkeypatch.setenv(quotas.WORKSPACE_QUOTA_MB_ENV, "3")
    before = listing(workspace)
    with pytest.raises(QuotaError) as error:
        check_room(workspace, incoming_bytes=2_000_001, what="big.mid")
    message = str(error.value)
    assert message.startswith("big.mid does not fit in your space: 1 MB of your 3 MB are used "
                              "and it needs about 2.0 MB.")
    assert "Delete models or music files you no longer need" in message
    assert str(workspace) not in message  # no server paths
    assert listing(workspace) == before


def test_a_full_data_directory_refuses_with_a_server_message(
    workspace: Path, isolated_data_dir: Path, monkeypatch
) -> None:
    monkeypatch.setenv(quotas.DATA_DIR_LIMIT_MB_ENV, "1")  # all used
    before = listing(isolated_data_dir)
    with pytest.raises(QuotaError) as error:
        check_room(workspace, incoming_bytes=1, what="A new model")
    assert str(error.value) == (
        "A new model cannot be saved now: the server's storage is full (1 MB of 1 MB). "
        "Please try again later"
    )
    assert listing(isolated_data_dir) == before
    check_room(workspace, incoming_bytes=0)  # exactly full is not over


def test_the_data_directory_total_is_reused_for_a_while(workspace: Path, monkeypatch) -> None:
    assert data_dir_bytes(fresh=True) == 1_000_000
    (workspace / "more.bin").write_bytes(b"z" * 500)
    assert data_dir_bytes() == 1_000_000  # measured less than DATA_DIR_SIZE_TTL_S ago
    assert data_dir_bytes(fresh=True) == 1_000_500
    monkeypatch.setattr(quotas, "DATA_DIR_SIZE_TTL_S", 0.0)
    (workspace / "more.bin").unlink()
    assert data_dir_bytes() == 1_000_000
