"""The data directory stays bounded: idle workspaces go (never one with a live job, never one
touched within a day), and the parse cache is trimmed least recently used first."""

from __future__ import annotations

import json
import logging
import math
import os
import time
from pathlib import Path

import pytest

from core import housekeeping, jobs
from core.jobs.records import JobState, JobStatus
from core.storage.files import cache_dir, new_workspace_id, workspace_dir

DAY = 86_400


def _age(path: Path, days: float) -> None:
    old = time.time() - days * DAY
    for item in [path, *path.rglob("*")]:
        os.utime(item, (old, old))


def test_idle_workspaces_go_and_busy_or_recent_ones_stay(isolated_data_dir):
    idle, recent, busy = (workspace_dir(new_workspace_id()) for _ in range(3))
    (idle / "music").mkdir()
    (idle / "music" / "a.mid").write_bytes(b"x")
    job = jobs.job_dir(busy, "00000000000000b1")
    job.mkdir()
    jobs.write_status(job, JobStatus(job_id=job.name, state=JobState.RUNNING, pid=os.getpid(),
                                     created_at=time.time()))
    _age(idle, 40)
    _age(busy, 40)
    _age(recent, 5)
    assert housekeeping.delete_idle_workspaces(idle_days=30) == 1
    assert not idle.exists() and recent.exists() and busy.exists()
    workspace_dir(recent.name)  # opening a workspace marks it in use
    assert time.time() - recent.stat().st_mtime < 60


def _music_workspace(days_old: float) -> Path:
    workspace = workspace_dir(new_workspace_id())
    (workspace / "music").mkdir()
    (workspace / "music" / "a.mid").write_bytes(b"MThd")
    _age(workspace, days_old)
    return workspace


@pytest.mark.parametrize("idle_days", [0, -1, math.nan, -math.inf, 0.5])
def test_no_workspace_younger_than_the_floor_goes_whatever_is_asked(isolated_data_dir, caplog,
                                                                    idle_days):
    young = [_music_workspace(days) for days in (5 / (24 * 60), 0.9 * housekeeping.MIN_IDLE_DAYS)]
    older = _music_workspace(1.5 * housekeeping.MIN_IDLE_DAYS)
    assert housekeeping.delete_idle_workspaces(idle_days=idle_days) == 1
    assert all(w.exists() for w in young) and not older.exists()
    assert f"using the floor of {housekeeping.MIN_IDLE_DAYS:g} days" in caplog.text


def test_an_endless_idle_time_deletes_nothing(isolated_data_dir):
    old = _music_workspace(400)
    assert housekeeping.delete_idle_workspaces(idle_days=math.inf) == 0
    assert old.exists()


def test_each_deletion_is_logged_with_the_workspace_and_its_idle_time(isolated_data_dir, caplog):
    caplog.set_level(logging.INFO, logger="core.housekeeping")
    gone = [_music_workspace(40), _music_workspace(50)]
    assert housekeeping.delete_idle_workspaces(idle_days=30) == 2
    deletions = sorted(r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING)
    assert deletions == sorted(
        f"deleted workspace {w.name}: untouched for {days:.1f} days (the limit is 30 days)"
        for w, days in zip(gone, (40, 50), strict=True)
    )


def test_the_parse_cache_is_trimmed_least_recently_used_first(isolated_data_dir):
    folder = cache_dir("pieces")
    for index in range(5):
        path = folder / f"entry{index}.json"
        path.write_text(json.dumps({"name": "x", "pieces": [], "pad": "p" * 200_000}))
        stamp = time.time() - (10 - index) * DAY  # entry0 used longest ago
        os.utime(path, (stamp, stamp))
    deleted, left_mb = housekeeping.trim_parse_cache(max_mb=0.5)
    assert deleted == 3 and left_mb <= 0.5
    assert sorted(p.name for p in folder.glob("*.json")) == ["entry3.json", "entry4.json"]


def test_reading_a_cached_piece_marks_it_used(isolated_data_dir, music_fixture):
    from core.data.parse_cache import read_music_cached

    data = music_fixture("scale.mid").read_bytes()
    read_music_cached(data, name="scale.mid", steps_per_quarter=4)
    (entry,) = cache_dir("pieces").glob("*.json")
    os.utime(entry, (0, 0))
    read_music_cached(data, name="scale.mid", steps_per_quarter=4)  # from the cache
    assert time.time() - entry.stat().st_mtime < 60


def test_clean_command_reports_what_it_did(isolated_data_dir, capsys):
    from core.cli import main

    assert main(["clean", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result == {
        "workspaces_deleted": 0,
        "cache_files_deleted": 0,
        "cache_mb_after": 0.0,
        "published_deleted": 0,
    }
