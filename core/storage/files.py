"""Where the app keeps its files, and how it writes them so a crash never leaves half a file."""

from __future__ import annotations

import contextlib
import errno
import json
import os
import re
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from core.errors import StorageError
from core.settings import text_setting

REPO_DIR = Path(__file__).resolve().parents[2]
DATA_DIR_ENV = "TUNESMITH_DATA_DIR"
DEFAULT_DATA_DIR = REPO_DIR / ".data"


def data_dir() -> Path:
    """The app's data directory (caches, workspaces, jobs); `TUNESMITH_DATA_DIR` overrides it.

    An empty or relative value is never used (it would be the folder the server was started
    in, where a clean-up would delete folders): the start check refuses it, and here the
    default is used instead (core.settings).
    """
    path = Path(text_setting(DATA_DIR_ENV) or DEFAULT_DATA_DIR)
    path.mkdir(parents=True, exist_ok=True)
    return path


def cache_dir(kind: str) -> Path:
    path = data_dir() / "cache" / kind
    path.mkdir(parents=True, exist_ok=True)
    return path


def new_workspace_id() -> str:
    """An unguessable id for one browser session's workspace."""
    return uuid.uuid4().hex


def workspace_dir(workspace_id: str) -> Path:
    """One browser session's private folder. The id must be one `new_workspace_id` made."""
    if not workspace_id.isalnum() or len(workspace_id) != 32:
        raise ValueError(f"not a workspace id: {workspace_id!r}")
    path = data_dir() / "workspaces" / workspace_id
    path.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(OSError):  # a read-only data directory still serves what it has
        os.utime(path)  # in use: idle workspaces are cleaned up (core.housekeeping)
    return path


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write `data` to `path` through a temporary file in the same folder, then rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_text(path: Path, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_json(path: Path, obj: Any) -> None:
    atomic_write_text(path, json.dumps(obj, indent=2, sort_keys=True) + "\n")


@contextmanager
def atomic_dir(path: Path) -> Iterator[Path]:
    """Build a folder under a temporary name and move it to `path` only when the block succeeds.

    An existing folder at `path` is replaced. On error the temporary folder is removed, so a
    half-written model folder never appears under its real name.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp"))
    try:
        yield tmp
        if path.exists():
            old = path.with_name(f".{path.name}.old-{uuid.uuid4().hex[:8]}")
            os.replace(path, old)
            os.replace(tmp, path)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, path)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


_FAULTS = {
    errno.EROFS: "the server's storage is read-only",
    errno.EACCES: "the server may not write to its storage",
    errno.EPERM: "the server may not write to its storage",
    errno.ENOSPC: "the server's storage is full",
    errno.EDQUOT: "the server's storage is full",
    errno.ENOENT: "the server's storage folder has gone",
    errno.ENOTDIR: "the server's storage folder is not a folder",
}


_ERRNO_TEXT = re.compile(r"\[Errno (\d+)\]")


def storage_fault(error: OSError | shutil.Error) -> str:
    """What went wrong with the data directory, in words, without server paths.

    shutil.Error (copytree's) has no errno of its own, only its files' errors as text
    ("[Errno 28] No space left on device: ..."): the first one found there is the fault.
    """
    code = error.errno if isinstance(error, OSError) else None
    if code is None and (found := _ERRNO_TEXT.search(str(error))):
        code = int(found.group(1))
    return _FAULTS.get(code or 0, "the server could not write its storage")


def storage_error(error: OSError | shutil.Error, what: str) -> StorageError:
    """An OSError from the data directory as one plain sentence, without server paths."""
    return StorageError(
        f"{what}: not saved, {storage_fault(error)}. Nothing was changed; please try again later."
    )


@contextmanager
def saving(what: str) -> Iterator[None]:
    """Turn a failing write inside the block into a StorageError that names `what`.

    The writes themselves are atomic (above), so a failure leaves nothing half-written.
    """
    try:
        yield
    except StorageError:
        raise
    except (OSError, shutil.Error) as error:
        raise storage_error(error, what) from error
