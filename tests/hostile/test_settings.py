"""Findings 2 and 7 of issue 29, replayed: a careless operator's TUNESMITH_* values.

Before: `TUNESMITH_WORKSPACE_IDLE_DAYS=nan`, `0` or negative deleted every workspace at the first
visit; `TUNESMITH_DATA_DIR=""` was the folder the server started in; non-numbers crashed pages.
Now each such value is named by the start check, which stops the server (streamlit_app.py, the
CLI and `./run.sh app`); at run time the readers use the defaults and nothing raises; and the
clean-up never deletes a workspace touched within a day, whatever it is asked.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from core import housekeeping, settings
from core.cli import main
from core.data.parse_cache import parse_workers
from core.data.user_music import max_files_per_batch
from core.jobs.lifecycle import max_jobs_per_workspace
from core.jobs.scheduler import max_jobs
from core.music.files import max_music_file_bytes
from core.settings import SETTINGS, check_settings
from core.storage import files
from core.storage.files import new_workspace_id, workspace_dir
from core.transcription.model import default_workers
from tests.conftest import REPO
from tests.hostile.conftest import within

BAD_VALUES = ["nan", "0", "-1", "inf", "abc", ""]
MINUTES_OLD = 5

# Each setting of the findings, and what reads it at run time.
READERS: dict[str, Callable[[], object]] = {
    "TUNESMITH_WORKSPACE_IDLE_DAYS": lambda: housekeeping.delete_idle_workspaces(),
    "TUNESMITH_MAX_MUSIC_FILE_MB": max_music_file_bytes,
    "TUNESMITH_MAX_JOBS": max_jobs,
    "TUNESMITH_MAX_FILES_PER_BATCH": max_files_per_batch,
    "TUNESMITH_MAX_JOBS_PER_WORKSPACE": max_jobs_per_workspace,
    "TUNESMITH_PARSE_WORKERS": parse_workers,
    "TUNESMITH_TRANSCRIBE_THREADS": default_workers,
    "TUNESMITH_DATA_DIR": files.data_dir,
}
CASES = [(env, value) for env in READERS for value in BAD_VALUES]


def _age(path: Path, minutes: float) -> None:
    old = time.time() - minutes * 60
    for item in [path, *path.rglob("*")]:
        os.utime(item, (old, old))


def _two_workspaces() -> list[Path]:
    """Two workspaces with an upload each, touched minutes ago."""
    made = []
    for _ in range(2):
        workspace = workspace_dir(new_workspace_id())
        (workspace / "music").mkdir()
        (workspace / "music" / "0123456789abcdef.mid").write_bytes(b"MThd" + bytes(60))
        _age(workspace, MINUTES_OLD)
        made.append(workspace)
    return made


@pytest.fixture
def operator(isolated_data_dir, tmp_path, monkeypatch) -> tuple[list[Path], Path]:
    """Two young workspaces in the data directory, which is also the default (so a refused
    `TUNESMITH_DATA_DIR` falls back to it, not to the repository's), and a folder the server was
    started in holding a workspace-like folder 40 days old: the one "" once meant."""
    monkeypatch.setattr(files, "DEFAULT_DATA_DIR", isolated_data_dir)
    monkeypatch.setattr(settings, "_reported", set())
    for env in [*SETTINGS, *settings.TEXT_SETTINGS]:
        if env != "TUNESMITH_DATA_DIR":
            monkeypatch.delenv(env, raising=False)
    workspaces = _two_workspaces()
    started_in = tmp_path / "started-in"
    stranger = started_in / "workspaces" / new_workspace_id()
    stranger.mkdir(parents=True)
    (stranger / "notes.txt").write_text("someone's")
    for item in (stranger / "notes.txt", stranger):
        os.utime(item, (time.time() - 40 * 86_400,) * 2)
    monkeypatch.chdir(started_in)
    return workspaces, stranger


@pytest.mark.parametrize(("env", "value"), CASES, ids=[f"{e[10:]}={v!r}" for e, v in CASES])
def test_a_bad_value_is_named_deletes_nothing_and_raises_nothing(operator, monkeypatch, capsys,
                                                                env, value):
    workspaces, stranger = operator
    monkeypatch.setenv(env, value)
    blank_number = env in SETTINGS and not value  # documented: empty is unset, the default
    with within():
        problems = check_settings()
        READERS[env]()
        cleaned = housekeeping.clean_up()
        status = main(["clean", "--json"])
    assert cleaned.workspaces_deleted == 0
    assert all(w.exists() and (w / "music").is_dir() for w in workspaces)
    assert stranger.exists()
    err = capsys.readouterr().err
    assert "Traceback" not in err
    if blank_number:
        assert problems == [] and status == 0
        return
    [problem] = problems
    assert problem.startswith(f"{env}={value!r} cannot be used (")
    assert " it must be " in problem and problem.endswith(".")
    assert status == 2  # the CLI refused to clean with it
    assert err.splitlines() == [f"error: {problem}"]


@pytest.mark.parametrize("idle_days", [0, -1, math.nan, -math.inf, 1e-9])
def test_the_clean_up_asked_for_no_idle_time_deletes_no_young_workspace(isolated_data_dir,
                                                                       idle_days):
    workspaces = _two_workspaces()
    with within():
        assert housekeeping.delete_idle_workspaces(idle_days=idle_days) == 0
    assert all(w.exists() and (w / "music").is_dir() for w in workspaces)


@pytest.mark.parametrize(("env", "value"), [
    ("TUNESMITH_WORKSPACE_IDLE_DAYS", "nan"),
    ("TUNESMITH_WORKSPACE_IDLE_DAYS", "0"),
    ("TUNESMITH_MAX_MUSIC_FILE_MB", "abc"),
    ("TUNESMITH_MAX_JOBS", "nan"),
    ("TUNESMITH_MAX_FILES_PER_BATCH", "nan"),
    ("TUNESMITH_MAX_JOBS_PER_WORKSPACE", "inf"),
    ("TUNESMITH_PARSE_WORKERS", "abc"),
    ("TUNESMITH_TRANSCRIBE_THREADS", "abc"),
    ("TUNESMITH_DATA_DIR", ""),
    ("TUNESMITH_DATA_DIR", "data"),
    ("TUNESMITH_JOB_RUNNER", "threads"),
    ("TUNESMITH_PUBLIC_URL", "javascript:alert(1)"),
])
def test_the_app_serves_no_page_with_an_unusable_setting(operator, monkeypatch, env, value):
    workspaces, stranger = operator
    monkeypatch.setenv(env, value)
    with within():
        at = AppTest.from_file(str(REPO / "streamlit_app.py"), default_timeout=30).run()
    assert not at.exception
    [error] = [e.value for e in at.error]
    assert error.startswith(f"{env} cannot be used (")
    assert error.endswith(", so the app is stopped until its operator fixes it.")
    if value:
        assert repr(value) not in error  # the value stays in the log: it may be a server path
    assert len(at.button) == 0 and "ws" not in at.query_params  # no page ran, so no clean-up
    assert sorted((files.DEFAULT_DATA_DIR / "workspaces").iterdir()) == sorted(workspaces)
    assert stranger.exists()


def test_the_app_serves_its_pages_with_usable_settings(operator, monkeypatch):
    monkeypatch.setenv("TUNESMITH_MAX_JOBS", "2")
    monkeypatch.setenv("TUNESMITH_MAX_CACHE_MB", "")
    monkeypatch.setenv("TUNESMITH_MAX_JOB", "3")  # a typo of a name: a warning in the log only
    at = AppTest.from_file(str(REPO / "streamlit_app.py"), default_timeout=60).run()
    assert not at.exception
    assert not [e for e in at.error if "cannot be used" in e.value]
    assert at.button(key="home_play_tune")  # the Home page ran
