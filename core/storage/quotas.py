"""Disk quotas: how much one workspace, and the whole data directory, may hold.

Checked before anything is written (an upload, a transcription, a model, a training job), so a
full quota refuses the new thing with a message and never leaves half of it behind. Jobs per
workspace are limited in core.jobs; idle workspaces and the parse cache are cleaned up in
core.housekeeping.
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

from core.errors import QuotaError
from core.settings import setting_value
from core.storage.files import data_dir

WORKSPACE_QUOTA_MB_ENV = "TUNESMITH_WORKSPACE_QUOTA_MB"
DEFAULT_WORKSPACE_QUOTA_MB = 500.0  # about 50 trained models, or thousands of MIDI files
DATA_DIR_LIMIT_MB_ENV = "TUNESMITH_DATA_DIR_LIMIT_MB"
DEFAULT_DATA_DIR_LIMIT_MB = 20_000.0
# Walking the whole data directory costs time on a busy server; its total is reused this long
# (one workspace's size is always measured afresh: it is small and the user is waiting on it).
DATA_DIR_SIZE_TTL_S = 30.0


def folder_bytes(path: Path) -> int:
    """The size of every file under `path` (0 when it does not exist)."""
    total = 0
    stack = [Path(path)]
    while stack:
        try:
            entries = list(os.scandir(stack.pop()))
        except OSError:  # removed while we looked, or not a folder
            continue
        for entry in entries:
            try:
                if entry.is_dir(follow_symlinks=False):
                    stack.append(Path(entry.path))
                elif entry.is_file(follow_symlinks=False):
                    total += entry.stat(follow_symlinks=False).st_size
            except OSError:
                continue
    return total


_data_dir_size: dict[str, tuple[float, int]] = {}
_data_dir_lock = threading.Lock()


def data_dir_bytes(*, fresh: bool = False) -> int:
    """The data directory's total size, measured at most every `DATA_DIR_SIZE_TTL_S`."""
    root = data_dir()
    with _data_dir_lock:
        measured = _data_dir_size.get(str(root))
        if fresh or measured is None or time.monotonic() - measured[0] > DATA_DIR_SIZE_TTL_S:
            measured = (time.monotonic(), folder_bytes(root))
            _data_dir_size[str(root)] = measured
        return measured[1]


def workspace_quota_mb() -> float:
    return setting_value(WORKSPACE_QUOTA_MB_ENV)


def data_dir_limit_mb() -> float:
    return setting_value(DATA_DIR_LIMIT_MB_ENV)


def _mb(size_bytes: int) -> str:
    return f"{size_bytes / 1e6:.1f}" if size_bytes < 10e6 else f"{size_bytes / 1e6:.0f}"


def check_room(workspace: Path, *, incoming_bytes: int = 0, what: str = "This") -> None:
    """Refuse `incoming_bytes` more in `workspace` when either quota would be passed.

    `incoming_bytes` is all it will write at its peak (a training job's: its checkpoints and
    its model folder, `core.jobs.lifecycle.job_room_bytes`), so the quota holds while it is
    written too.

    Raises:
        QuotaError: with the figures and what to do about it.
    """
    used = folder_bytes(workspace)
    quota = workspace_quota_mb() * 1e6
    if used + incoming_bytes > quota:
        raise QuotaError(
            f"{what} does not fit in your space: {used / 1e6:.0f} MB of your "
            f"{quota / 1e6:.0f} MB are used and it needs about {_mb(incoming_bytes)} MB. "
            "Delete models or music files you no longer need"
        )
    total = data_dir_bytes()
    limit = data_dir_limit_mb() * 1e6
    if total + incoming_bytes > limit:
        raise QuotaError(
            f"{what} cannot be saved now: the server's storage is full "
            f"({total / 1e6:.0f} MB of {limit / 1e6:.0f} MB). Please try again later"
        )
