"""The TUNESMITH_* settings: one registry, checked at start; a bad value gives the default."""

from __future__ import annotations

import importlib
import math
import re
from collections.abc import Callable

import pytest

from core.settings import SETTINGS, NumberRange, check_settings, setting_count, setting_value
from tests.conftest import REPO

BAD_VALUES = ["many", "nan", "inf", "-1", "1e12", "12345678901234567890"]
# Settings that are not numbers, so they have no range.
NOT_NUMBERS = {"TUNESMITH_DATA_DIR", "TUNESMITH_JOB_RUNNER", "TUNESMITH_PUBLIC_URL"}

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


@pytest.fixture(autouse=True)
def no_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    for env in SETTINGS:
        monkeypatch.delenv(env, raising=False)


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
    assert message.startswith(f"ignoring {env}={value!r} ({setting.meaning}): it must be a ")
    assert setting.valid.describe() in message
    assert message.endswith(f"using the default {setting.default_value():g}")
    assert setting_value(env) == setting.default_value()


def test_check_settings_reads_the_environment_it_is_given() -> None:
    messages = check_settings({"TUNESMITH_MAX_JOBS": "0", "TUNESMITH_MAX_CACHE_MB": "12.5"})
    assert messages == [
        "ignoring TUNESMITH_MAX_JOBS='0' (trainings that run at once on the server): it must be "
        "a whole number from 1 to 64; using the default 1"
    ]


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


def test_every_numeric_setting_named_in_core_is_registered() -> None:
    named = set()
    for path in (REPO / "core").rglob("*.py"):
        named |= set(re.findall(r"TUNESMITH_[A-Z_]*[A-Z]", path.read_text()))
    assert named - NOT_NUMBERS == set(SETTINGS)


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
