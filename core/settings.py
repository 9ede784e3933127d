"""Limits an operator may change: each is an environment variable, registered in `SETTINGS`.

The registry holds every numeric `TUNESMITH_*` setting: its name, default, range and meaning.
Values are read at the moment of use (not at import), so a test or a server restart picks up a
new value. A value that is not a number, not finite or out of its range is ignored with a
warning, and the default is used, rather than taking the server down; `check_settings()` lists
those warnings at start (the CLI prints them, the app logs them once per server process).
"""

from __future__ import annotations

import logging
import math
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass

log = logging.getLogger(__name__)


def number_text(value: float) -> str:
    """A number as people write it: 1000000 and 0.5, not 1e+06 and 0.500000."""
    if float(value).is_integer() and abs(value) < 1e15:
        return str(int(value))
    return f"{value:g}"


@dataclass(frozen=True)
class NumberRange:
    """The finite numbers from `low` to `high` (whole ones when `whole`); an open end is refused.

    One range type for the command line's options and the environment's settings, so both say
    the same thing in the same words: "must be a number from 20 to 300".
    """

    low: float
    high: float
    whole: bool = False
    low_open: bool = False
    high_open: bool = False

    def __post_init__(self) -> None:
        if not (math.isfinite(self.low) and math.isfinite(self.high) and self.low < self.high):
            raise ValueError(f"a range needs finite ends, low below high: {self.low}, {self.high}")

    def describe(self) -> str:
        """The range in words: "from 0 to 1", "above 0 and at most 600", ..."""
        low, high = number_text(self.low), number_text(self.high)
        if self.low_open and self.high_open:
            return f"above {low} and below {high}"
        if self.low_open:
            return f"above {low} and at most {high}"
        if self.high_open:
            return f"at least {low} and below {high}"
        return f"from {low} to {high}"

    def requirement(self) -> str:
        """What a value must be: "must be a whole number from 1 to 64"."""
        return f"must be {'a whole number' if self.whole else 'a number'} {self.describe()}"

    def contains(self, value: float) -> bool:
        if not math.isfinite(value) or (self.whole and value != int(value)):
            return False
        above = value > self.low if self.low_open else value >= self.low
        below = value < self.high if self.high_open else value <= self.high
        return above and below

    def parse(self, text: str) -> float:
        """`text` as a number in the range (an int when `whole`).

        Raises:
            ValueError: not a number, not finite, not whole when it must be, or out of range;
                the message is `requirement()`.
        """
        value: float
        try:
            value = int(text) if self.whole else float(text)
        except ValueError:
            try:  # "3.0" and "1e3" are whole numbers too
                value = float(text)
            except ValueError:
                raise ValueError(self.requirement()) from None
            if not self.whole or not value.is_integer():
                raise ValueError(self.requirement()) from None
            value = int(value)
        if not self.contains(value):
            raise ValueError(self.requirement())
        return value


def _cpus() -> int:
    return os.cpu_count() or 1


def _parse_workers_default() -> int:
    return min(_cpus(), 4)  # more worker processes than 4 cost more memory than they save time


@dataclass(frozen=True)
class Setting:
    """One numeric environment setting: its name, default, range and meaning."""

    env: str
    default: float | Callable[[], float]  # a callable for defaults that depend on the machine
    valid: NumberRange
    meaning: str

    def default_value(self) -> float:
        return self.default() if callable(self.default) else self.default


# Every numeric TUNESMITH_* setting. The modules that use one keep its name as a constant
# (`MAX_JOBS_ENV`) and read it with `setting_value` / `setting_count`; tests/core/
# test_settings.py checks that their names and defaults are these. The upper ends only catch
# typos (an extra digit or three): each lies far above any real server's need.
SETTINGS: dict[str, Setting] = {
    s.env: s
    for s in (
        Setting(
            "TUNESMITH_MAX_JOBS",
            1,
            NumberRange(1, 64, whole=True),
            "trainings that run at once on the server",
        ),
        Setting(
            "TUNESMITH_MAX_JOBS_PER_WORKSPACE",
            2,
            NumberRange(1, 100, whole=True),
            "jobs one workspace may have queued or running",
        ),
        Setting(
            "TUNESMITH_MAX_FILES_PER_BATCH",
            50,
            NumberRange(1, 10_000, whole=True),
            "music files one upload may add",
        ),
        Setting(
            "TUNESMITH_WORKSPACE_QUOTA_MB",
            500.0,
            NumberRange(0, 1_000_000),
            "megabytes one workspace may hold",
        ),
        Setting(
            "TUNESMITH_DATA_DIR_LIMIT_MB",
            20_000.0,
            NumberRange(0, 100_000_000),
            "megabytes the whole data directory may hold",
        ),
        Setting(
            "TUNESMITH_WORKSPACE_IDLE_DAYS",
            30.0,
            # Below 0.1 day (2.4 hours) the workspace of someone still working would go.
            NumberRange(0.1, 3650),
            "days untouched after which a workspace is deleted",
        ),
        Setting(
            "TUNESMITH_MAX_CACHE_MB",
            500.0,
            NumberRange(0, 1_000_000),
            "megabytes the parse cache is trimmed to",
        ),
        Setting(
            "TUNESMITH_MAX_MUSIC_FILE_MB",
            20.0,
            NumberRange(0, 1_000),
            "largest MIDI, MusicXML or ABC file read, in megabytes",
        ),
        Setting(
            "TUNESMITH_MAX_AUDIO_MINUTES",
            15.0,
            # Three hours of audio already takes many minutes to transcribe.
            NumberRange(0, 180, low_open=True),
            "longest audio accepted for transcription, in minutes",
        ),
        Setting(
            "TUNESMITH_TRANSCRIBE_THREADS",
            _cpus,
            NumberRange(1, 256, whole=True),
            "transcription batches run at once; the default is the number of CPUs",
        ),
        Setting(
            "TUNESMITH_PARSE_WORKERS",
            _parse_workers_default,
            NumberRange(1, 256, whole=True),
            "processes that parse files into a cold cache; the default is the CPUs, up to 4",
        ),
    )
}


def _problem(setting: Setting, raw: str) -> str:
    default = setting.default_value()
    return (
        f"ignoring {setting.env}={raw!r} ({setting.meaning}): it {setting.valid.requirement()}; "
        f"using the default {number_text(default)}"
    )


def _read(setting: Setting, environ: Mapping[str, str]) -> tuple[float, str | None]:
    """(the value, None) or (the default, why the value given was refused)."""
    raw = environ.get(setting.env)
    if raw is None or not raw.strip():
        return setting.default_value(), None
    try:
        return setting.valid.parse(raw), None
    except ValueError:
        return setting.default_value(), _problem(setting, raw)


# (name, value) pairs already warned about: a server reads its settings often, and the CLI has
# printed the warnings of `check_settings` already.
_reported: set[tuple[str, str]] = set()


def setting_value(env: str) -> float:
    """The registered setting `env` from the environment; its default when unset or refused."""
    value, problem = _read(SETTINGS[env], os.environ)
    if problem and (env, os.environ[env]) not in _reported:
        _reported.add((env, os.environ[env]))
        log.warning("%s", problem)
    return value


def setting_count(env: str) -> int:
    """A whole-number registered setting, as an int."""
    return int(setting_value(env))


def check_settings(environ: Mapping[str, str] | None = None) -> list[str]:
    """One message per registered setting whose value is refused (its default is used instead).

    Call it once at start (the CLI does; so should the app) to show the operator what is
    ignored; the readers ignore the same values whether it was called or not.
    """
    problems = []
    for setting in SETTINGS.values():
        problem = _read(setting, os.environ if environ is None else environ)[1]
        if problem:
            problems.append(problem)
            if environ is None:  # shown by the caller: the readers need not log it again
                _reported.add((setting.env, os.environ[setting.env]))
    return problems


def number_setting(
    env: str, default: float | None = None, *, minimum: float | None = None
) -> float:
    """The registered setting `env` (the older spelling of `setting_value`).

    `SETTINGS` decides the default and the range; `default` and `minimum` are what the older
    callers pass, kept so they need not change at once (tests/core/test_settings.py checks that
    their defaults are the registry's).

    Raises:
        KeyError: `env` is not registered in `SETTINGS`.
    """
    return setting_value(env)


def count_setting(env: str, default: int | None = None, *, minimum: int | None = None) -> int:
    """A whole-number registered setting (the older spelling of `setting_count`)."""
    return setting_count(env)
