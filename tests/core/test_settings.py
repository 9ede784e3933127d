"""The TUNESMITH_* settings: two registries, checked at start (an unusable value is one sentence,
and the callers at start stop on it); at run time a bad value gives the default, never an error."""

from __future__ import annotations

import importlib
import logging
import math
import re
from collections.abc import Callable
from pathlib import Path

import pytest

from core import settings
from core.settings import (
    MIN_WORKSPACE_IDLE_DAYS,
    SETTINGS,
    TEXT_SETTINGS,
    NumberRange,
    check_settings,
    setting_count,
    setting_value,
    start_check,
    text_setting,
    unknown_settings,
    unusable_settings,
)
from tests.conftest import REPO

BAD_VALUES = ["many", "nan", "inf", "-1", "1e12", "12345678901234567890"]
# Registered, though no module of core/ reads it: the shared-queue runner of docs/deploy.md does.
READ_OUTSIDE_CORE = {"TUNESMITH_REDIS_URL"}

# (module, its constant naming the setting, its constant of the default)
OWNERS = [
    ("core.jobs.scheduler", "MAX_JOBS_ENV", "DEFAULT_MAX_JOBS"),
    ("core.jobs.lifecycle", "MAX_JOBS_PER_WORKSPACE_ENV", "DEFAULT_MAX_JOBS_PER_WORKSPACE"),
    ("core.data.user_music", "MAX_FILES_PER_BATCH_ENV", "DEFAULT_MAX_FILES_PER_BATCH"),
    ("core.storage.quotas", "WORKSPACE_QUOTA_MB_ENV", "DEFAULT_WORKSPACE_QUOTA_MB"),
    ("core.storage.quotas", "DATA_DIR_LIMIT_MB_ENV", "DEFAULT_DATA_DIR_LIMIT_MB"),
    ("core.housekeeping", "IDLE_DAYS_ENV", "DEFAULT_IDLE_DAYS"),
    ("core.housekeeping", "MAX_CACHE_MB_ENV", "DEFAULT_MAX_CACHE_MB"),
    ("core.audio.decoding", "MAX_AUDIO_MINUTES_ENV", "DEFAULT_MAX_AUDIO_MINUTES"),
    ("core.library.pieces", "MAX_PIECES_ENV", "DEFAULT_MAX_PIECES"),
    ("core.library.published", "MAX_PUBLISHED_ENV", "DEFAULT_MAX_PUBLISHED"),
    ("core.library.published", "MAX_PUBLISHED_PIECE_MB_ENV", "DEFAULT_MAX_PUBLISHED_PIECE_MB"),
    ("core.library.published", "PUBLISHED_DAYS_ENV", "DEFAULT_PUBLISHED_DAYS"),
]

# (setting, module, the function that reads it, what it makes of the setting's value)
READERS: list[tuple[str, str, str, Callable[[float], float]]] = [
    ("TUNESMITH_MAX_JOBS", "core.jobs.scheduler", "max_jobs", lambda v: v),
    ("TUNESMITH_MAX_JOBS_PER_WORKSPACE", "core.jobs.lifecycle", "max_jobs_per_workspace",
     lambda v: v),
    ("TUNESMITH_MAX_FILES_PER_BATCH", "core.data.user_music", "max_files_per_batch", lambda v: v),
    ("TUNESMITH_WORKSPACE_QUOTA_MB", "core.storage.quotas", "workspace_quota_mb", lambda v: v),
    ("TUNESMITH_DATA_DIR_LIMIT_MB", "core.storage.quotas", "data_dir_limit_mb", lambda v: v),
    ("TUNESMITH_MAX_AUDIO_MINUTES", "core.audio.decoding", "max_audio_duration_s",
     lambda v: v * 60.0),
    ("TUNESMITH_MAX_MUSIC_FILE_MB", "core.music.files", "max_music_file_bytes",
     lambda v: int(v * 1e6)),
    ("TUNESMITH_TRANSCRIBE_THREADS", "core.transcription.model", "default_workers",
     lambda v: v),
    ("TUNESMITH_PARSE_WORKERS", "core.data.parse_cache", "parse_workers", lambda v: v),
]


# (module, its constant naming a text setting, its constant of the default or None)
TEXT_OWNERS = [
    ("core.storage.files", "DATA_DIR_ENV", None),
    ("core.jobs.runner", "JOB_RUNNER_ENV", "DEFAULT_JOB_RUNNER"),
    ("core.generation.share_links", "PUBLIC_URL_ENV", "DEFAULT_PUBLIC_URL"),
]


@pytest.fixture(autouse=True)
def no_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    """No setting but the tests' own data directory (tests/conftest.py), and a fresh log."""
    for env in [*SETTINGS, *TEXT_SETTINGS]:
        if env != "TUNESMITH_DATA_DIR":
            monkeypatch.delenv(env, raising=False)
    monkeypatch.setattr(settings, "_reported", set())
    monkeypatch.setattr(settings, "_logged", set())


def test_unset_and_empty_settings_are_their_defaults_without_a_message(monkeypatch) -> None:
    assert check_settings() == []
    for env, setting in SETTINGS.items():
        assert setting_value(env) == setting.default_value()
        monkeypatch.setenv(env, "  ")
        assert setting_value(env) == setting.default_value()
    assert check_settings() == []


@pytest.mark.parametrize("value", BAD_VALUES)
@pytest.mark.parametrize("env", sorted(SETTINGS))
def test_a_bad_value_is_one_message_and_the_default(monkeypatch, env: str, value: str) -> None:
    setting = SETTINGS[env]
    monkeypatch.setenv(env, value)
    [message] = check_settings()
    assert message.startswith(f"{env}={value!r} cannot be used ({setting.meaning}): it must be a ")
    assert message.endswith(f"{setting.valid.describe()}.")
    assert setting_value(env) == setting.default_value()


def test_check_settings_reads_the_environment_it_is_given() -> None:
    messages = check_settings({"TUNESMITH_MAX_JOBS": "0", "TUNESMITH_MAX_CACHE_MB": "12.5"})
    assert messages == [
        "TUNESMITH_MAX_JOBS='0' cannot be used (trainings that run at once on the server): it "
        "must be a whole number from 1 to 64."
    ]


def test_a_reader_logs_a_refused_value_once_and_not_after_the_start_check(monkeypatch,
                                                                          caplog) -> None:
    caplog.set_level(logging.WARNING, logger="core.settings")
    monkeypatch.setenv("TUNESMITH_MAX_JOBS", "nan")
    for _ in range(3):
        assert setting_count("TUNESMITH_MAX_JOBS") == 1
    assert [r.getMessage() for r in caplog.records] == [
        "ignoring TUNESMITH_MAX_JOBS='nan' (trainings that run at once on the server): it must "
        "be a whole number from 1 to 64; using the default 1"
    ]
    caplog.clear()
    monkeypatch.setenv("TUNESMITH_MAX_JOBS", "many")
    assert len(check_settings()) == 1
    assert setting_count("TUNESMITH_MAX_JOBS") == 1
    assert caplog.records == []  # the caller of the check has said it


def test_the_lowest_idle_time_is_the_clean_up_floor() -> None:
    from core.housekeeping import MIN_IDLE_DAYS

    assert SETTINGS["TUNESMITH_WORKSPACE_IDLE_DAYS"].valid.low == MIN_WORKSPACE_IDLE_DAYS
    assert MIN_IDLE_DAYS == MIN_WORKSPACE_IDLE_DAYS >= 1


@pytest.mark.parametrize("env", sorted(SETTINGS))
def test_a_value_inside_the_range_is_used(monkeypatch, env: str) -> None:
    valid = SETTINGS[env].valid
    inside = valid.high if not valid.high_open else valid.low + 1
    monkeypatch.setenv(env, str(int(inside)) if valid.whole else repr(float(inside)))
    assert check_settings() == []
    assert setting_value(env) == inside
    if valid.whole:
        assert setting_count(env) == inside and isinstance(setting_count(env), int)


def test_whole_numbers_refuse_fractions_and_accept_a_float_spelling(monkeypatch) -> None:
    monkeypatch.setenv("TUNESMITH_MAX_JOBS", "2.5")
    assert setting_count("TUNESMITH_MAX_JOBS") == 1
    monkeypatch.setenv("TUNESMITH_MAX_JOBS", "2.0")
    assert setting_count("TUNESMITH_MAX_JOBS") == 2


def test_every_default_lies_in_its_range() -> None:
    for env, setting in SETTINGS.items():
        assert setting.valid.contains(setting.default_value()), env
        assert setting.meaning and env.startswith("TUNESMITH_")


@pytest.mark.parametrize(("module", "env_name", "default_name"), OWNERS)
def test_the_modules_name_the_registered_settings_and_defaults(module: str, env_name: str,
                                                               default_name: str) -> None:
    owner = importlib.import_module(module)
    env = getattr(owner, env_name)
    assert SETTINGS[env].default_value() == getattr(owner, default_name)


def test_every_setting_named_in_the_code_is_registered() -> None:
    named = set()
    for folder in ("core", "ui", "app_pages"):
        for path in (REPO / folder).rglob("*.py"):
            if path != REPO / "core" / "settings.py":
                named |= set(re.findall(r"TUNESMITH_[A-Z_]*[A-Z]", path.read_text()))
    named |= set(re.findall(r"TUNESMITH_[A-Z_]*[A-Z]", (REPO / "streamlit_app.py").read_text()))
    assert named | READ_OUTSIDE_CORE == set(SETTINGS) | set(TEXT_SETTINGS)
    assert not set(SETTINGS) & set(TEXT_SETTINGS)


@pytest.mark.parametrize(("module", "env_name", "default_name"), TEXT_OWNERS)
def test_the_modules_name_the_registered_text_settings(module: str, env_name: str,
                                                       default_name: str | None) -> None:
    owner = importlib.import_module(module)
    setting = TEXT_SETTINGS[getattr(owner, env_name)]
    if default_name:
        assert setting.default == getattr(owner, default_name)
    assert setting.unusable(setting.default) is None or setting.folder


def test_the_job_runner_check_reads_names_as_the_runner_does() -> None:
    from core.jobs import runner

    assert settings.PROCESS_RUNNER == runner.PROCESS_RUNNER
    assert settings._DOTTED_PATH.pattern == runner._DOTTED_PATH.pattern


def _sentence(env: str, value: str, **kwargs) -> str:
    [message] = check_settings({env: value}, **kwargs)
    return message


@pytest.mark.parametrize(("value", "why"), [
    ("", "(an empty value would mean the folder the server was started in)."),
    ("   ", "(an empty value would mean the folder the server was started in)."),
    ("data", "(this one is relative, so it would depend on where the server was started)."),
    ("./data", "(this one is relative"),
    ("~/data", "(this one is relative"),
])
def test_an_empty_or_relative_data_dir_cannot_be_used(value: str, why: str) -> None:
    message = _sentence("TUNESMITH_DATA_DIR", value)
    assert message.startswith(
        f"TUNESMITH_DATA_DIR={value!r} cannot be used (where workspaces, uploads, models, jobs and "
        "caches live): it must be an absolute path to a folder the server may write "
    )
    assert why in message
    assert check_settings({"TUNESMITH_DATA_DIR": value}, storage=False) == [message]


def test_a_data_dir_behind_a_file_cannot_be_used_at_start(tmp_path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    for path in (blocker, blocker / "data"):
        assert _sentence("TUNESMITH_DATA_DIR", str(path)).endswith("(a file stands in the way).")
        # the pages leave that to their storage faults (tests/app/test_faults.py)
        assert check_settings({"TUNESMITH_DATA_DIR": str(path)}, storage=False) == []
    assert check_settings({"TUNESMITH_DATA_DIR": str(tmp_path / "new" / "data")}) == []


def test_a_data_dir_the_server_may_not_write_cannot_be_used(tmp_path, monkeypatch) -> None:
    real_access = settings.os.access
    monkeypatch.setattr(settings.os, "access",
                        lambda path, mode: Path(path) != tmp_path and real_access(path, mode))
    message = _sentence("TUNESMITH_DATA_DIR", str(tmp_path / "data"))
    assert message.endswith("(the server may not write there).")


@pytest.mark.parametrize(("value", "why"), [
    ("threads", "."),
    ("core.jobs.runner", "."),
    ("core.jobs.no_such_module:Runner", " (core.jobs.no_such_module cannot be imported)."),
    ("core.jobs.runner:NoSuchRunner", " (core.jobs.runner has no class NoSuchRunner)."),
    ("core.jobs.runner:JOB_RUNNER_ENV", " (core.jobs.runner has no class JOB_RUNNER_ENV)."),
    ("core.errors:JobRunnerError", " (JobRunnerError lacks start(job_dir) or is_alive(handle))."),
])
def test_an_unknown_job_runner_cannot_be_used(value: str, why: str) -> None:
    assert _sentence("TUNESMITH_JOB_RUNNER", value) == (
        f"TUNESMITH_JOB_RUNNER={value!r} cannot be used (how training jobs start): it must be "
        f'"process", "rq" or package.module:ClassName of an importable job runner{why}'
    )


@pytest.mark.parametrize("value", ["", " ", "process", "core.jobs.runner:ProcessRunner"])
def test_the_job_runners_that_can_be_used(value: str) -> None:
    assert check_settings({"TUNESMITH_JOB_RUNNER": value}) == []


@pytest.mark.parametrize(("env", "good", "bad"), [
    ("TUNESMITH_PUBLIC_URL", ["", "http://localhost:8501", "https://music.example.org/app/"],
     ["ftp://music.example.org", "music.example.org", "javascript:alert(1)", "http://",
      "https://exa mple.org", "http://[::1"]),
    ("TUNESMITH_REDIS_URL", ["", "redis://localhost:6379/0", "rediss://h:1", "unix:///run/r.sock"],
     ["localhost:6379", "http://localhost:6379", "redis://"]),
])
def test_an_address_must_be_of_its_kind(env: str, good: list[str], bad: list[str]) -> None:
    for value in good:
        assert check_settings({env: value}) == [], value
    for value in bad:
        assert _sentence(env, value).startswith(f"{env}={value!r} cannot be used ("), value


def test_a_sentence_for_visitors_leaves_the_value_out() -> None:
    [unusable] = unusable_settings({"TUNESMITH_DATA_DIR": "srv/secret"})
    assert unusable.sentence(with_value=False).startswith("TUNESMITH_DATA_DIR cannot be used (")
    assert "srv/secret" not in unusable.sentence(with_value=False)
    assert "srv/secret" in unusable.sentence()


def test_every_unusable_value_is_named_numbers_first() -> None:
    found = unusable_settings({
        "TUNESMITH_PUBLIC_URL": "ftp://x",
        "TUNESMITH_MAX_JOBS": "nan",
        "TUNESMITH_DATA_DIR": "",
        "TUNESMITH_PARSE_WORKERS": "abc",
        "TUNESMITH_MAX_CACHE_MB": "",  # empty: the default, like unset
    })
    assert [u.env for u in found] == ["TUNESMITH_MAX_JOBS", "TUNESMITH_PARSE_WORKERS",
                                      "TUNESMITH_DATA_DIR", "TUNESMITH_PUBLIC_URL"]


def test_a_text_reader_uses_the_default_for_an_unusable_value(monkeypatch, caplog) -> None:
    monkeypatch.setenv("TUNESMITH_DATA_DIR", "")
    assert text_setting("TUNESMITH_DATA_DIR") is None
    assert text_setting("TUNESMITH_DATA_DIR") is None
    [record] = caplog.records
    assert record.getMessage().startswith("TUNESMITH_DATA_DIR='' cannot be used")
    assert record.getMessage().endswith("; the default is used instead")
    monkeypatch.setenv("TUNESMITH_PUBLIC_URL", "  https://example.org  ")
    assert text_setting("TUNESMITH_PUBLIC_URL") == "https://example.org"
    monkeypatch.setenv("TUNESMITH_PUBLIC_URL", " ")
    assert text_setting("TUNESMITH_PUBLIC_URL") is None
    monkeypatch.delenv("TUNESMITH_PUBLIC_URL")
    assert text_setting("TUNESMITH_PUBLIC_URL") is None


def test_an_unknown_name_is_a_warning_with_the_name_it_resembles() -> None:
    environ = {"TUNESMITH_MAX_JOB": "3", "TUNESMITH_COLOUR": "red", "TUNESMITH_MAX_JOBS": "2",
               "MAX_JOBS": "1", "PATH": "/bin"}
    assert unknown_settings(environ) == [
        "TUNESMITH_COLOUR is not a Tunesmith setting, so it changes nothing.",
        "TUNESMITH_MAX_JOB is not a Tunesmith setting, so it changes nothing; did you mean "
        "TUNESMITH_MAX_JOBS?",
    ]
    assert check_settings(environ) == []  # a warning, never a stop


def test_the_start_check_logs_each_problem_once(monkeypatch, caplog) -> None:
    caplog.set_level(logging.WARNING, logger="core.settings")
    monkeypatch.setenv("TUNESMITH_MAX_JOBS", "nan")
    monkeypatch.setenv("TUNESMITH_MAX_JOB", "2")
    for _ in range(3):
        [unusable] = start_check()
        assert unusable.env == "TUNESMITH_MAX_JOBS"
    assert [(r.levelno, r.getMessage().split(" ")[0]) for r in caplog.records] == [
        (logging.ERROR, "TUNESMITH_MAX_JOBS='nan'"),
        (logging.WARNING, "TUNESMITH_MAX_JOB"),
    ]


@pytest.mark.parametrize("value", ["many", "nan", "-1", "1e12"])
@pytest.mark.parametrize(("env", "module", "reader", "made"), READERS,
                         ids=[r[0] for r in READERS])
def test_every_reader_uses_the_default_for_a_bad_value(monkeypatch, env: str, module: str,
                                                       reader: str,
                                                       made: Callable[[float], float],
                                                       value: str) -> None:
    read = getattr(importlib.import_module(module), reader)
    monkeypatch.setenv(env, value)
    assert read() == made(SETTINGS[env].default_value())
    monkeypatch.setenv(env, "3")
    assert read() == made(3)


def test_a_range_says_what_it_holds() -> None:
    assert NumberRange(20, 300).requirement() == "must be a number from 20 to 300"
    assert NumberRange(0, 1, low_open=True, high_open=True).describe() == "above 0 and below 1"
    assert NumberRange(0, 600, low_open=True).describe() == "above 0 and at most 600"
    assert NumberRange(0, 1, high_open=True).describe() == "at least 0 and below 1"
    assert NumberRange(1, 1_000_000, whole=True).describe() == "from 1 to 1000000"
    valid = NumberRange(1, 10, whole=True)
    for bad in ("nan", "inf", "-inf", "0", "11", "1.5", "x", ""):
        with pytest.raises(ValueError, match="must be a whole number from 1 to 10"):
            valid.parse(bad)
    assert valid.parse(" 7 ") == 7 and valid.parse("1e1") == 10
    assert not NumberRange(0, 1).contains(math.nan)


def test_the_settings_page_lists_every_setting_with_its_range() -> None:
    page = (REPO / "docs" / "limits.md").read_text()
    rows = {line.split("|")[1].strip(" `"): line for line in page.splitlines()
            if line.startswith("| `TUNESMITH_")}
    assert set(rows) == set(SETTINGS) | set(TEXT_SETTINGS)
    for env, setting in SETTINGS.items():
        assert rows[env].rstrip(" |").endswith(setting.valid.requirement().removeprefix("must be "))
