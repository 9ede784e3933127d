"""The settings an operator may change: each is an environment variable named `TUNESMITH_*`.

Two registries hold every one the code reads: `SETTINGS` the numbers (name, default, range,
meaning), `TEXT_SETTINGS` the rest (the data directory, the job runner, addresses).

- At start, `check_settings()` says, one sentence each, which values cannot be used; the app
  (`./run.sh app`, `streamlit_app.py`) and the CLI refuse to run while there is one, so a typo
  stops the server instead of deleting or crashing anything (docs/decisions/0003). An unknown
  `TUNESMITH_*` name (a typo of a name) is only warned about: `unknown_settings()`.
- At run time the readers never raise: a value that cannot be used is logged once and the
  default is used, so a server started some other way still serves. Values are read at the
  moment of use (not at import), so a test or a server restart picks up a new value.
- An empty or blank value is the same as an unset one, except for `TUNESMITH_DATA_DIR`: an
  empty path would mean the current folder, so it cannot be used.
"""

from __future__ import annotations

import difflib
import importlib
import logging
import math
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

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


# The youngest a workspace may be and still be deleted as idle, whatever the setting or the
# caller says: a visitor who leaves a tab for an evening finds their work the next day.
MIN_WORKSPACE_IDLE_DAYS = 1.0

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
            NumberRange(MIN_WORKSPACE_IDLE_DAYS, 3650),
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
            NumberRange(0, 1_000, low_open=True),  # 0 would refuse every file
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
            "TUNESMITH_MAX_PIECES_PER_WORKSPACE",
            200,
            NumberRange(1, 100_000, whole=True),
            "pieces one workspace keeps",
        ),
        Setting(
            "TUNESMITH_MAX_PUBLISHED_PER_WORKSPACE",
            20,
            NumberRange(0, 10_000, whole=True),  # 0 turns sharing by published copy off
            "pieces one workspace may share at once",
        ),
        Setting(
            "TUNESMITH_MAX_PUBLISHED_PIECE_MB",
            10.0,
            NumberRange(0, 1_000, low_open=True),  # 0 would refuse every piece
            "largest shared piece (its audio, MIDI and notes), in megabytes",
        ),
        Setting(
            "TUNESMITH_PUBLISHED_DAYS",
            90.0,
            NumberRange(1, 3650),
            "days a shared piece stays before its link expires",
        ),
        Setting(
            "TUNESMITH_PARSE_WORKERS",
            _parse_workers_default,
            NumberRange(1, 256, whole=True),
            "processes that parse files into a cold cache; the default is the CPUs, up to 4",
        ),
    )
}


@dataclass(frozen=True)
class UnusableSetting:
    """A value the server cannot run with: which setting, its value, and what it must be."""

    env: str
    value: str
    meaning: str
    requirement: str  # "must be a whole number from 1 to 64"
    reason: str = ""  # what is wrong with this value, when the requirement alone does not say

    def sentence(self, *, with_value: bool = True) -> str:
        """One sentence for the operator; without the value for visitors (it may be a path)."""
        name = f"{self.env}={self.value!r}" if with_value else self.env
        reason = f" ({self.reason})" if self.reason else ""
        return f"{name} cannot be used ({self.meaning}): it {self.requirement}{reason}."


# ---------------------------------------------------------------- the numbers


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


# (name, value) pairs already warned about: a server reads its settings often, and the start
# check has said it already.
_reported: set[tuple[str, str]] = set()


def _warn_once(env: str, raw: str, message: str) -> None:
    if (env, raw) not in _reported:
        _reported.add((env, raw))
        log.warning("%s", message)


def setting_value(env: str) -> float:
    """The registered setting `env` from the environment; its default when unset or refused."""
    value, problem = _read(SETTINGS[env], os.environ)
    if problem:
        _warn_once(env, os.environ[env], problem)
    return value


def setting_count(env: str) -> int:
    """A whole-number registered setting, as an int."""
    return int(setting_value(env))


# ---------------------------------------------------------------- the settings that are not numbers

PROCESS_RUNNER = "process"  # core.jobs.runner's default runner
QUEUE_RUNNER = "rq"  # core.jobs.runner's shared-queue runner (core.jobs.queue)
_DOTTED_PATH = re.compile(r"^[A-Za-z_][\w.]*:[A-Za-z_]\w*$")  # as core.jobs.runner reads it


def _data_dir_problem(raw: str) -> str | None:
    if not raw.strip():
        return "an empty value would mean the folder the server was started in"
    if not Path(raw).is_absolute():
        return "this one is relative, so it would depend on where the server was started"
    return None


def _job_runner_problem(raw: str) -> str | None:
    spec = raw.strip()
    if spec in ("", PROCESS_RUNNER):
        return None
    if spec == QUEUE_RUNNER:
        spec = "core.jobs.queue:QueueRunner"
    if not _DOTTED_PATH.match(spec):
        return ""  # the requirement says it all
    module_name, class_name = spec.split(":")
    try:  # the operator's own module: importing it is what starting a job would do
        module = importlib.import_module(module_name)
    except Exception:  # any failure to import it is a configuration problem
        return f"{module_name} cannot be imported"
    runner = getattr(module, class_name, None)
    if not isinstance(runner, type):
        return f"{module_name} has no class {class_name}"
    if not all(callable(getattr(runner, m, None)) for m in ("start", "is_alive")):
        return f"{class_name} lacks start(job_dir) or is_alive(handle)"
    return None


def _address_problem(schemes: tuple[str, ...]) -> Callable[[str], str | None]:
    def problem(raw: str) -> str | None:
        text = raw.strip()
        if not text:
            return None
        try:
            parts = urlsplit(text)
        except ValueError:
            return "this one is not an address"
        located = parts.path if parts.scheme == "unix" else parts.netloc
        if parts.scheme not in schemes or not located or any(c.isspace() for c in text):
            return ""
        return None

    return problem


@dataclass(frozen=True)
class TextSetting:
    """One setting that is not a number: its name, default, meaning and what it must be."""

    env: str
    default: str  # in words, as the docs say it
    meaning: str
    requirement: str
    problem: Callable[[str], str | None]  # why a value cannot be used ("" if it goes without
    # saying), or None when it can
    folder: bool = False  # a folder the server writes: at start, checked on the disk too

    def unusable(self, raw: str) -> UnusableSetting | None:
        reason = self.problem(raw)
        if reason is None:
            return None
        return UnusableSetting(self.env, raw, self.meaning, self.requirement, reason)


# Every TUNESMITH_* setting that is not a number; the modules that read one keep its name as a
# constant (`DATA_DIR_ENV`), and tests/core/test_settings.py checks that every name the code
# reads is in one of the two registries.
TEXT_SETTINGS: dict[str, TextSetting] = {
    s.env: s
    for s in (
        TextSetting(
            "TUNESMITH_DATA_DIR",
            "<repo>/.data",
            "where workspaces, uploads, models, jobs and caches live",
            "must be an absolute path to a folder the server may write",
            _data_dir_problem,
            folder=True,
        ),
        TextSetting(
            "TUNESMITH_JOB_RUNNER",
            PROCESS_RUNNER,
            "how training jobs start",
            f'must be "{PROCESS_RUNNER}", "{QUEUE_RUNNER}" or package.module:ClassName of an '
            "importable job runner",
            _job_runner_problem,
        ),
        TextSetting(
            "TUNESMITH_PUBLIC_URL",
            "http://localhost:8501",
            "the app's address in the share links the CLI prints",
            "must be an http:// or https:// address",
            _address_problem(("http", "https")),
        ),
        TextSetting(
            "TUNESMITH_REDIS_URL",
            "redis://localhost:6379/0",
            "the Redis server of a shared job queue",
            "must be a redis://, rediss:// or unix:// address",
            _address_problem(("redis", "rediss", "unix")),
        ),
    )
}


def text_setting(env: str) -> str | None:
    """The registered text setting `env`, stripped; None when unset, empty or unusable (then
    the reader uses its default; an unusable value is logged once)."""
    raw = os.environ.get(env)
    if raw is None:
        return None
    unusable = TEXT_SETTINGS[env].unusable(raw)
    if unusable:
        _warn_once(env, raw, f"{unusable.sentence()[:-1]}; the default is used instead")
        return None
    return raw.strip() or None


def folder_problem(path: Path) -> str | None:
    """Why the server could not make or write the folder `path`, in words without the path;
    None when it can (it need not exist yet)."""
    probe = path
    while not probe.exists() and probe != probe.parent:  # the nearest folder that exists
        probe = probe.parent
    if not probe.is_dir():
        return "a file stands in the way"
    if not os.access(probe, os.W_OK | os.X_OK):
        return "the server may not write there"
    return None


# ---------------------------------------------------------------- the check at start


def unusable_settings(
    environ: Mapping[str, str] | None = None, *, storage: bool = True
) -> list[UnusableSetting]:
    """Every set value the server cannot run with, numbers first, in the registries' order.

    `storage`: also whether the data directory can be made and written now. The CLI and
    `./run.sh app` check it; the pages do not (`storage=False`), because a disk that fails
    while the server runs is a fault they ride out (Home and Generate still play), not a typo.
    """
    env = os.environ if environ is None else environ
    found = []
    for setting in SETTINGS.values():
        raw = env.get(setting.env)
        if _read(setting, env)[1] and raw is not None:
            found.append(
                UnusableSetting(setting.env, raw, setting.meaning, setting.valid.requirement())
            )
    for text in TEXT_SETTINGS.values():
        raw = env.get(text.env)
        if raw is None:
            continue
        unusable = text.unusable(raw)
        if unusable is None and storage and text.folder:
            reason = folder_problem(Path(raw))
            if reason:
                unusable = UnusableSetting(text.env, raw, text.meaning, text.requirement, reason)
        if unusable:
            found.append(unusable)
    return found


def check_settings(environ: Mapping[str, str] | None = None, *, storage: bool = True) -> list[str]:
    """One sentence per set value the server cannot run with (see `unusable_settings`); an
    empty list when every one can be used. Callers at start refuse to go on while it is not
    empty; the readers would use the defaults instead (and need not log them again)."""
    found = unusable_settings(environ, storage=storage)
    if environ is None:
        _reported.update((u.env, u.value) for u in found)
    return [u.sentence() for u in found]


PREFIX = "TUNESMITH_"


def unknown_settings(environ: Mapping[str, str] | None = None) -> list[str]:
    """One sentence per `TUNESMITH_*` name that no registry holds: a typo that changes nothing."""
    known = [*SETTINGS, *TEXT_SETTINGS]
    messages = []
    for env in sorted(os.environ if environ is None else environ):
        if env.startswith(PREFIX) and env not in known:
            # Compared without the prefix, which every name shares.
            close = difflib.get_close_matches(
                env[len(PREFIX) :], [k[len(PREFIX) :] for k in known], n=1
            )
            guess = f"; did you mean {PREFIX}{close[0]}?" if close else "."
            messages.append(f"{env} is not a Tunesmith setting, so it changes nothing{guess}")
    return messages


_logged: set[str] = set()  # messages `start_check` has logged in this process


def start_check(*, storage: bool = True) -> list[UnusableSetting]:
    """`unusable_settings` of the environment, for a server that checks on every page run:
    each unusable value is logged as an error and each unknown name as a warning, once per
    process, however often it is called."""
    unusable = unusable_settings(storage=storage)
    for message, level in [
        *((u.sentence(), logging.ERROR) for u in unusable),
        *((w, logging.WARNING) for w in unknown_settings()),
    ]:
        if message not in _logged:
            _logged.add(message)
            log.log(level, "%s", message)
    return unusable
