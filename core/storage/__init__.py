"""Where the app keeps its files (atomic writes, workspaces, the data directory) and how much
it may keep (quotas)."""

from core.storage.files import (
    atomic_write_bytes,
    atomic_write_json,
    new_workspace_id,
    saving,
    storage_error,
    storage_fault,
    workspace_dir,
)
from core.storage.quotas import check_room

__all__ = [
    "atomic_write_bytes",
    "atomic_write_json",
    "check_room",
    "new_workspace_id",
    "saving",
    "storage_error",
    "storage_fault",
    "workspace_dir",
]
