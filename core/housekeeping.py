"""Keeping the data directory bounded: idle workspaces and the least recently used parse cache.

- A workspace nobody has touched for `TUNESMITH_WORKSPACE_IDLE_DAYS` (default 30) is deleted,
  unless one of its training jobs is waiting or running. "Touched" is the newest modification
  time of anything in it (uploads, models, jobs) or of the folder itself (the app touches it
  whenever a session opens it). Never one touched within `MIN_IDLE_DAYS` (1 day), whatever the
  setting or the caller asks, and each deletion is logged.
- The parse cache is trimmed to `TUNESMITH_MAX_CACHE_MB` (default 500): the entries used
  longest ago go first (reading an entry marks it used).
Published pieces (core.library.published) older than `TUNESMITH_PUBLISHED_DAYS` go too.
The app runs this once per server process in the background; `python -m core clean` runs it by
hand. Deleting is per folder and per file, so an interrupted clean-up leaves nothing half-done.
"""

from __future__ import annotations

import logging
import math
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

from core.settings import MIN_WORKSPACE_IDLE_DAYS, setting_value
from core.storage.files import cache_dir, data_dir

log = logging.getLogger(__name__)

IDLE_DAYS_ENV = "TUNESMITH_WORKSPACE_IDLE_DAYS"
DEFAULT_IDLE_DAYS = 30.0
MAX_CACHE_MB_ENV = "TUNESMITH_MAX_CACHE_MB"
DEFAULT_MAX_CACHE_MB = 500.0
SECONDS_PER_DAY = 86_400
# No workspace younger than this is deleted, whatever idle time is asked for (a nan, 0 or
# negative one once deleted every workspace): the settings' lowest value, core.settings.
MIN_IDLE_DAYS = MIN_WORKSPACE_IDLE_DAYS


@dataclass(frozen=True)
class CleanUp:
    workspaces_deleted: int
    cache_files_deleted: int
    cache_mb_after: float
    published_deleted: int = 0  # shared copies past TUNESMITH_PUBLISHED_DAYS


def last_touched(path: Path) -> float:
    """The newest modification time of a folder or anything in it."""
    newest = path.stat().st_mtime
    for item in path.rglob("*"):
        try:
            newest = max(newest, item.stat().st_mtime)
        except OSError:  # removed while we looked
            continue
    return newest


def _has_active_job(workspace: Path) -> bool:
    from core import jobs

    return any(s.state.active for s in jobs.list_jobs(workspace))


def _idle_days_at_least_the_floor(idle_days: float) -> float:
    if math.isnan(idle_days) or idle_days < MIN_IDLE_DAYS:
        log.warning(
            "asked to delete workspaces idle for %r days; using the floor of %g days",
            idle_days,
            MIN_IDLE_DAYS,
        )
        return MIN_IDLE_DAYS
    return idle_days


def delete_idle_workspaces(*, idle_days: float | None = None) -> int:
    """Delete workspaces untouched for `idle_days` (the setting when None, never under
    `MIN_IDLE_DAYS`) with no job waiting or running. Returns how many were deleted."""
    if idle_days is None:
        idle_days = setting_value(IDLE_DAYS_ENV)
    idle_days = _idle_days_at_least_the_floor(idle_days)
    now = time.time()
    root = data_dir() / "workspaces"
    deleted = 0
    for workspace in sorted(root.iterdir()) if root.is_dir() else []:
        try:
            idle_s = now - last_touched(workspace) if workspace.is_dir() else 0.0
        except OSError:  # gone while we looked
            continue
        if idle_s < idle_days * SECONDS_PER_DAY or _has_active_job(workspace):
            continue
        shutil.rmtree(workspace, ignore_errors=True)
        deleted += 1
        log.warning(
            "deleted workspace %s: untouched for %.1f days (the limit is %g days)",
            workspace.name,
            idle_s / SECONDS_PER_DAY,
            idle_days,
        )
    return deleted


def trim_parse_cache(*, max_mb: float | None = None) -> tuple[int, float]:
    """Delete the least recently used cache entries until the cache fits `max_mb`.

    Returns (files deleted, megabytes left)."""
    max_mb = setting_value(MAX_CACHE_MB_ENV) if max_mb is None else max_mb
    entries = []
    for path in cache_dir("pieces").glob("*.json"):
        try:
            stat = path.stat()
        except OSError:
            continue
        entries.append((max(stat.st_atime, stat.st_mtime), stat.st_size, path))
    total = sum(size for _, size, _ in entries)
    deleted = 0
    for _, size, path in sorted(entries):
        if total <= max_mb * 1e6:
            break
        path.unlink(missing_ok=True)
        total -= size
        deleted += 1
    return deleted, total / 1e6


def clean_up() -> CleanUp:
    """All three, with the settings' limits: idle workspaces, the parse cache, and published
    pieces past their days."""
    from core.library import delete_expired

    workspaces = delete_idle_workspaces()
    files, left = trim_parse_cache()
    return CleanUp(workspaces, files, round(left, 1), delete_expired())
