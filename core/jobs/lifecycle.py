"""A job's life as the page sees it: submit, list, cancel, resume, delete.

The configured `core.jobs.runner.job_runner()` starts the job and says whether it still runs; a
queued or running job its runner says is gone reads as failed. This module never imports
TensorFlow, so pages can use it cheaply.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import logging
import shutil
import time
import uuid
from pathlib import Path

from core.errors import JobQuotaError, JobRunnerError, TunesmithError
from core.jobs.folder import (
    CANCEL_FILE,
    REQUEST_FILE,
    RUNNER_HANDLE_FILE,
    STATUS_FILE,
    is_job_id,
    job_dir,
    jobs_dir,
    models_dir,
    safe_model_name,
)
from core.jobs.queue import QueueRunner
from core.jobs.records import (
    JobRequest,
    JobState,
    JobStatus,
    read_request,
    read_status_raw,
    shown_message,
    write_status,
)
from core.jobs.runner import JobRunner, job_runner
from core.jobs.scheduler import max_jobs
from core.settings import setting_count
from core.storage.files import atomic_write_json, atomic_write_text, saving
from core.storage.quotas import check_room, folder_bytes

log = logging.getLogger(__name__)


# One workspace may have this many jobs queued or running at once: each is a process with
# TensorFlow loaded (about 100 MB even while it waits), so one visitor cannot fill the server.
MAX_JOBS_PER_WORKSPACE_ENV = "TUNESMITH_MAX_JOBS_PER_WORKSPACE"

DEFAULT_MAX_JOBS_PER_WORKSPACE = 2


def max_jobs_per_workspace() -> int:
    """Queued or running jobs one workspace may have (`TUNESMITH_MAX_JOBS_PER_WORKSPACE`)."""
    return setting_count(MAX_JOBS_PER_WORKSPACE_ENV)


def job_room_bytes(request: JobRequest) -> int:
    """The most a job of `request` has on disk at once, from its network's size.

    Its checkpoint (`core.training.checkpoints`) is rewritten beside the last one, and the
    model folder (`model.keras`, a copy of the checkpoint to continue the training, the
    held-out and training notes) is written while the checkpoint is still there; the job
    removes its own checkpoint once the model is saved. Measured for the base model's shape
    (1.95 million weights): 70.3 MB at the peak, 39.1 MB left; this says 73.0 MB.

    Raises:
        InvalidModelError, TrainingDataError: the base to fine-tune cannot be used.
        ValueError, TypeError, KeyError: the request's settings are not a training's.
    """
    from core.model.folder import MODEL_DATA_ROOM_BYTES, weights_file_bytes
    from core.model.network import ModelConfig
    from core.tokens.config import EncodingConfig
    from core.tokens.vocabulary import Vocabulary
    from core.training.checkpoints import checkpoint_bytes
    from core.training.config import TrainingConfig
    from core.training.fine_tuning import fine_tuning_setup

    chosen = EncodingConfig.from_dict(request.encoding) if request.encoding else None
    if request.base_model:  # a fine-tuning keeps the base's network and vocabulary
        base = fine_tuning_setup(request.base_model, chosen)
        model, vocab_size = base.model, len(base.vocab)
    else:  # the data's vocabulary is at most every token of its grid
        training = TrainingConfig.from_dict(request.training)
        model = ModelConfig.from_dict(request.model)
        vocab_size = len(Vocabulary.for_grid(training.encoding(chosen)))
    weights = weights_file_bytes(model, vocab_size=vocab_size)
    checkpoint = checkpoint_bytes(weights)
    model_folder = weights + checkpoint + MODEL_DATA_ROOM_BYTES
    return max(2 * checkpoint, checkpoint + model_folder)


def _room_still_needed(workspace: Path, *, besides: str | None = None) -> int:
    """What the workspace's queued and running jobs (but `besides`) may still write: their
    room less what their folders already hold."""
    needed = 0
    for status in list_jobs(workspace):
        if not status.state.active or status.job_id == besides:
            continue
        path = jobs_dir(workspace) / status.job_id
        try:
            room = job_room_bytes(read_request(path))
        except (OSError, ValueError, TypeError, KeyError, TunesmithError):
            continue  # a request it cannot read fails its job before anything is written
        needed += max(0, room - folder_bytes(path))
    return needed


def unique_model_name(workspace: Path, name: str) -> str:
    """`name`, or `name 2`, `name 3`... so no model or queued job already uses it."""
    base = safe_model_name(name)
    taken = {p.name for p in models_dir(workspace).iterdir()}
    for status in list_jobs(workspace):
        if status.state.active:
            with contextlib.suppress(OSError, ValueError, KeyError):
                taken.add(read_request(jobs_dir(workspace) / status.job_id).model_name)
    candidate, n = base, 1
    while candidate in taken:
        n += 1
        candidate = f"{base} {n}"
    return candidate


def read_status(path: Path) -> JobStatus:
    """The job's status; a queued or running job that its runner says is gone reads as failed."""
    path = Path(path)
    try:
        status = JobStatus.from_dict(json.loads((path / STATUS_FILE).read_text()))
    except (OSError, ValueError, KeyError, TypeError) as error:
        log.warning("unreadable status of job %s: %r", path.name, error)
        return JobStatus(
            job_id=path.name, state=JobState.FAILED, message="This job's status cannot be read."
        )
    if status.state is JobState.FAILED:  # written by an older app, it may name server paths
        status = dataclasses.replace(status, message=shown_message(status.message, path))
    if status.state.active and not _runner_says_alive(path, status):
        status = JobStatus.from_dict(
            {
                **status.to_dict(),
                "state": JobState.FAILED.value,
                "message": "the training process stopped unexpectedly; resume continues from the "
                "last checkpoint",
            }
        )
    elif status.state is JobState.QUEUED and status.phase != "waiting":
        status = _with_queue_place(path, status)
    return status


def _handle(path: Path, status: JobStatus) -> str:
    try:
        return (path / RUNNER_HANDLE_FILE).read_text().strip()
    except OSError:  # a job folder from before the runner interface
        return str(status.pid) if status.pid else ""


def _runner_says_alive(path: Path, status: JobStatus) -> bool:
    handle = _handle(path, status)
    try:
        runner = job_runner()
        if isinstance(runner, QueueRunner):  # a running job's heartbeat is in its folder
            return bool(handle) and runner.is_alive(handle, job_dir=path)
        return bool(handle) and runner.is_alive(handle)
    except JobRunnerError:  # misconfigured since it started: say nothing rather than "failed"
        log.exception("cannot ask the job runner about %s", path.name)
        return True


def _queue_runner() -> QueueRunner | None:
    """The configured runner when it is the shared queue; None for any other (or none)."""
    try:
        runner = job_runner()
    except JobRunnerError:
        return None
    return runner if isinstance(runner, QueueRunner) else None


def _with_queue_place(path: Path, status: JobStatus) -> JobStatus:
    """A job still in a shared queue, with its place there (the job itself cannot write it
    before a worker runs it); unchanged for the process runner, whose job writes its own."""
    runner = _queue_runner()
    if runner is None:
        return status
    waiting = runner.queue_place(_handle(path, status))
    if waiting is None:
        return status
    message = f"waiting for a free trainer: place {waiting.place} in the queue" + (
        "; no trainer is running on the server yet, so it starts as soon as one does"
        if waiting.workers == 0
        else ""
    )
    return dataclasses.replace(status, queue_place=waiting.place, message=message)


def training_capacity() -> str:
    """How many trainings run at once, in words, for the page."""
    if _queue_runner() is not None:
        return (
            "Trainings run on the server's trainers, one each, in the order they were "
            "started; others wait in a queue and say so."
        )
    return (
        f"At most {max_jobs()} training job(s) run at once on this server; others wait in a "
        "queue and say so."
    )


def list_jobs(workspace: Path) -> list[JobStatus]:
    """Every job of the workspace, newest first."""
    statuses = [
        read_status(p)
        for p in jobs_dir(workspace).iterdir()
        if is_job_id(p.name) and (p / STATUS_FILE).is_file()
    ]
    return sorted(statuses, key=lambda s: s.created_at, reverse=True)


def submit_job(workspace: Path, request: JobRequest) -> str:
    """Create a job folder for `request` and start its process. Returns the job id.

    Raises:
        JobQuotaError: the workspace already has `max_jobs_per_workspace()` jobs queued or
            running (checked before anything is written or started).
        QuotaError: the workspace or the data directory has no room for what the job will
            write (`job_room_bytes`) beside what its other jobs will.
        InvalidModelError, TrainingDataError: the base to fine-tune cannot be used.
        StorageError: the data directory cannot be written.
    """
    runner = job_runner()  # a misconfigured runner fails before anything is written
    active = sum(1 for status in list_jobs(workspace) if status.state.active)
    if active >= max_jobs_per_workspace():
        raise JobQuotaError(
            f"{active} training job(s) are already waiting or running for you (at most "
            f"{max_jobs_per_workspace()}): let one finish, or cancel one, then start this one"
        )
    others = _room_still_needed(workspace)
    check_room(
        workspace,
        incoming_bytes=job_room_bytes(request) + others,
        what="A new model" + (", with your other training jobs still to finish," if others else ""),
    )
    job_id = uuid.uuid4().hex[:16]
    path = job_dir(workspace, job_id)
    try:
        with saving("Your training job"):
            path.mkdir(parents=True)
            atomic_write_json(path / REQUEST_FILE, request.to_dict())
            write_status(
                path,
                JobStatus(
                    job_id=job_id,
                    state=JobState.QUEUED,
                    phase="starting",
                    created_at=time.time(),
                    updated_at=time.time(),
                ),
            )
            _start(path, runner)
    except BaseException:
        shutil.rmtree(path, ignore_errors=True)  # no half-made job is ever listed
        raise
    return job_id


def _start(path: Path, runner: JobRunner) -> str:
    """Hand the job folder to `runner`; record its handle beside the job's status."""
    (path / RUNNER_HANDLE_FILE).unlink(missing_ok=True)  # a resumed job's last run is gone
    handle = runner.start(path)
    atomic_write_text(path / RUNNER_HANDLE_FILE, handle)
    status = read_status_raw(path)
    write_status(
        path,
        JobStatus.from_dict(
            {
                **status.to_dict(),
                "state": JobState.QUEUED.value,
                "phase": "starting",
                "message": "",
                "updated_at": time.time(),
            }
        ),
    )
    return handle


def cancel_job(path: Path) -> None:
    """Ask the job to stop; it does within one batch and keeps its last checkpoint. A job
    still waiting in a shared queue is taken out of it and reads as cancelled at once."""
    path = Path(path)
    (path / CANCEL_FILE).touch()
    runner = _queue_runner()
    if runner is None:
        return  # the job process sees the flag while it waits for its slot
    status = read_status_raw(path)
    if status.state is JobState.QUEUED and runner.withdraw(_handle(path, status)):
        write_status(
            path,
            dataclasses.replace(
                status,
                state=JobState.CANCELLED,
                phase="cancelled",
                queue_place=None,
                message="cancelled before it started",
                updated_at=time.time(),
            ),
        )


def resume_job(path: Path) -> None:
    """Start a cancelled or failed job again; training continues from its last checkpoint.

    Raises:
        QuotaError: the workspace has no room for what the job will still write.
    """
    path = Path(path)
    status = read_status(path)
    if status.state.active:
        return
    if status.state is JobState.FINISHED:
        raise ValueError("a finished job cannot be resumed")
    workspace = path.parent.parent
    try:
        room = max(0, job_room_bytes(read_request(path)) - folder_bytes(path))
    except (OSError, ValueError, TypeError, KeyError, TunesmithError):
        room = 0  # its request cannot be read: the job fails again at once, writing nothing
    check_room(
        workspace,
        incoming_bytes=room + _room_still_needed(workspace, besides=path.name),
        what="Resuming this training",
    )
    (path / CANCEL_FILE).unlink(missing_ok=True)
    _start(path, job_runner())


def delete_job(path: Path) -> None:
    """Cancel the job if it runs and remove its folder once its process is gone."""
    import shutil

    path = Path(path)
    status = read_status(path)
    if status.state.active:
        cancel_job(path)
        return
    shutil.rmtree(path, ignore_errors=True)
