"""How training jobs are started and watched: the `JobRunner` interface and its default.

A job is a function of its folder (`core.jobs.run_job(job_dir)`, or `python -m core train
--job-dir DIR`): the request, status, cancel flag and checkpoints all live there, on a data
directory every machine shares. A runner only has to start that function somewhere and say
whether it still runs. `TUNESMITH_JOB_RUNNER` picks the runner: "process" (the default,
`ProcessRunner`: a child process of the app on this machine), "rq" (`core.jobs.queue`: workers
of a shared Redis queue, on any machine; see docs/deploy.md) or `package.module:ClassName`, a
class built without arguments that implements `JobRunner`.
"""

from __future__ import annotations

import functools
import importlib
import logging
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Protocol, runtime_checkable

from core.errors import JobRunnerError
from core.storage.files import DATA_DIR_ENV, REPO_DIR, data_dir

log = logging.getLogger(__name__)

JOB_RUNNER_ENV = "TUNESMITH_JOB_RUNNER"
PROCESS_RUNNER = "process"
QUEUE_RUNNER = "rq"
DEFAULT_JOB_RUNNER = PROCESS_RUNNER
_DOTTED_PATH = re.compile(r"^[A-Za-z_][\w.]*:[A-Za-z_]\w*$")


@runtime_checkable
class JobRunner(Protocol):
    """Starts job folders' training somewhere and tells whether it still runs.

    Cancel (the `cancel` flag file) and progress (`status.json`) go through the job folder, so
    a runner needs nothing else.
    """

    def start(self, job_dir: Path) -> str:
        """Start `run_job(job_dir)` and return a handle for `is_alive` (kept in the job folder)."""
        ...

    def is_alive(self, handle: str) -> bool:
        """Whether the job is still queued or running. False only when sure it is gone: a job
        whose runner says False while its status says queued or running reads as failed."""
        ...


class ProcessRunner:
    """Each job is `python -m core train --job-dir DIR`, a child of the app on this machine.

    It starts in a new session so it outlives the page script that started it; its output goes
    to the job folder's log. The handle is the process id. Concurrency is limited by the job
    processes themselves (`core.jobs.job_slot`).
    """

    def start(self, job_dir: Path) -> str:
        from core.jobs.folder import LOG_FILE

        env = {**os.environ, DATA_DIR_ENV: str(data_dir()), "PYTHONUNBUFFERED": "1"}
        with open(Path(job_dir) / LOG_FILE, "ab") as log_file:
            process = subprocess.Popen(
                [sys.executable, "-m", "core", "train", "--job-dir", str(job_dir)],
                cwd=REPO_DIR,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        log.info("started job %s as process %d", Path(job_dir).name, process.pid)
        return str(process.pid)

    def is_alive(self, handle: str) -> bool:
        try:
            return process_alive(int(handle))
        except ValueError:  # not a process id: not one of ours
            return False


def process_alive(pid: int | None) -> bool:
    """Whether process `pid` runs on this machine (a zombie counts as dead)."""
    if not pid or pid < 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a finished child that nobody waited for is a zombie: dead for our purposes
        stat = Path(f"/proc/{pid}/stat").read_text()
        return stat.rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True


def job_runner() -> JobRunner:
    """The configured runner (`TUNESMITH_JOB_RUNNER`), built once per setting.

    Raises:
        JobRunnerError: the setting is neither "process" nor `package.module:ClassName` of an
            importable class that builds without arguments and has `start` and `is_alive`.
    """
    return _runner_for(os.environ.get(JOB_RUNNER_ENV, "").strip() or DEFAULT_JOB_RUNNER)


@functools.cache
def _runner_for(spec: str) -> JobRunner:
    if spec == PROCESS_RUNNER:
        return ProcessRunner()
    if spec == QUEUE_RUNNER:
        spec = "core.jobs.queue:QueueRunner"
    problem = f"{JOB_RUNNER_ENV}={spec!r} names no job runner"
    if not _DOTTED_PATH.match(spec):
        raise JobRunnerError(
            f'{problem}: use "{PROCESS_RUNNER}" (the default), "{QUEUE_RUNNER}" or '
            "package.module:ClassName"
        )
    module_name, class_name = spec.split(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as error:
        raise JobRunnerError(f"{problem}: cannot import {module_name} ({error})") from error
    cls = getattr(module, class_name, None)
    if not isinstance(cls, type):
        raise JobRunnerError(f"{problem}: {module_name} has no class {class_name}")
    try:
        runner = cls()
    except Exception as error:  # any failure to build it is a configuration problem
        raise JobRunnerError(f"{problem}: {class_name}() failed ({error!r})") from error
    if not isinstance(runner, JobRunner):
        raise JobRunnerError(f"{problem}: {class_name} lacks start(job_dir) or is_alive(handle)")
    log.info("training jobs run through %s", spec)
    return runner
