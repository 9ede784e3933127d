"""Training jobs: each runs as its own process and talks to the app only through its folder.

A job folder (`<workspace>/jobs/<job id>/`) holds:

- `request.json`: what to train (dataset sources, model and training configs, model name);
- `status.json`: written atomically by the job process (state, epoch, batch, loss, ETA,
  history, queue place, error), read by the page's poller;
- `cancel`: a flag file; the training callback honours it within one batch;
- `checkpoint/`: the last finished epoch, so a cancelled or crashed job can be resumed;
- `log.txt`: the process's own output, for diagnosing a failure;
- `runner_handle`: what the job runner's `start` returned, written only by the app (never by
  the job, which rewrites status.json all along); older job folders lack it and their
  status.json's `pid` is the handle of the process runner.

The configured `core.job_runner.job_runner()` starts `run_job(DIR)` and says whether it still
runs; by default that is `python -m core train --job-dir DIR`, a process of its own that outlives
the page script. At most `max_jobs()` jobs train at once on the whole server: every job
process takes a place in a global first-come queue and then an exclusive `flock` on one of the
slot files; the lock dies with its process, so a crash never leaks a slot.
This module never imports TensorFlow at import time, so pages can use it cheaply.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import re
import shutil
import time
import traceback
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from enum import Enum
from pathlib import Path
from typing import IO, Any

from core.errors import JobCancelled, JobQuotaError, JobRunnerError, TunesmithError
from core.job_runner import JobRunner, job_runner, process_alive
from core.quotas import MODEL_ROOM_MB, check_room
from core.settings import count_setting
from core.storage import atomic_write_json, atomic_write_text, data_dir, saving

log = logging.getLogger(__name__)

MAX_JOBS_ENV = "TUNESMITH_MAX_JOBS"
DEFAULT_MAX_JOBS = 1
# One workspace may have this many jobs queued or running at once: each is a process with
# TensorFlow loaded (about 100 MB even while it waits), so one visitor cannot fill the server.
MAX_JOBS_PER_WORKSPACE_ENV = "TUNESMITH_MAX_JOBS_PER_WORKSPACE"
DEFAULT_MAX_JOBS_PER_WORKSPACE = 2
QUEUE_POLL_S = 0.5
STATUS_INTERVAL_S = 0.5  # the job process writes status.json at most this often (plus at epochs)

JOBS_DIR = "jobs"
MODELS_DIR = "models"
REQUEST_FILE = "request.json"
STATUS_FILE = "status.json"
CANCEL_FILE = "cancel"
CHECKPOINT_DIR = "checkpoint"
LOG_FILE = "log.txt"
RUNNER_HANDLE_FILE = "runner_handle"
_JOB_ID = re.compile(r"^[0-9a-f]{16}$")
_MODEL_NAME = re.compile(r"[^A-Za-z0-9 _.-]+")
MAX_MODEL_NAME_CHARS = 60


class JobState(Enum):
    QUEUED = "queued"
    RUNNING = "running"
    FINISHED = "finished"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def active(self) -> bool:
        return self in (JobState.QUEUED, JobState.RUNNING)


@dataclass(frozen=True)
class JobRequest:
    """What a job trains: dataset sources (preset names or file paths) and the configs."""

    sources: tuple[str, ...]
    dataset_name: str
    model_name: str
    model: dict[str, Any]  # ModelConfig.to_dict()
    training: dict[str, Any]  # TrainingConfig.to_dict()
    limit: int | None = None  # first N files only
    encoding: dict[str, Any] | None = None  # EncodingConfig.to_dict() of the chosen dataset
    # Fine-tune from this model (a bundled name such as "base", or a folder); None: scratch.
    base_model: str | None = None

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["sources"] = list(self.sources)
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> JobRequest:
        return cls(
            sources=tuple(str(s) for s in data["sources"]),
            dataset_name=str(data["dataset_name"]),
            model_name=str(data["model_name"]),
            model=dict(data["model"]),
            training=dict(data["training"]),
            limit=data.get("limit"),
            encoding=data.get("encoding"),
            base_model=data.get("base_model"),
        )


@dataclass(frozen=True)
class JobStatus:
    """One snapshot of a job, as the job process last wrote it."""

    job_id: str
    state: JobState
    phase: str = ""  # "waiting", "loading data", "baseline", "training", "validating", ...
    message: str = ""  # a human line: the error of a failed job, the queue place, ...
    epoch: int = 0
    epochs: int = 0
    batch: int = 0
    batches: int = 0
    done: int = 0  # batches done over the whole run
    total: int = 0
    loss: float | None = None
    eta_s: float | None = None
    tokens_per_s: float | None = None
    queue_place: int | None = None  # 1 = next to start
    history: tuple[dict[str, float], ...] = ()
    baseline: dict[str, float] = field(default_factory=dict)
    start: dict[str, float] = field(default_factory=dict)  # a fine-tuning's starting scores
    model_dir: str | None = None
    pid: int | None = None  # the job process's own id, as it wrote it
    created_at: float = 0.0
    updated_at: float = 0.0

    @property
    def fraction(self) -> float:
        return min(max(self.done / self.total, 0.0), 1.0) if self.total else 0.0

    @property
    def epochs_done(self) -> int:
        return len(self.history)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["state"] = self.state.value
        data["history"] = list(self.history)
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> JobStatus:
        known = set(cls.__dataclass_fields__)
        values = {k: v for k, v in data.items() if k in known}
        values["state"] = JobState(values["state"])
        values["history"] = tuple(values.get("history", ()))
        return cls(**values)


def max_jobs_per_workspace() -> int:
    """Queued or running jobs one workspace may have (`TUNESMITH_MAX_JOBS_PER_WORKSPACE`)."""
    return count_setting(MAX_JOBS_PER_WORKSPACE_ENV, DEFAULT_MAX_JOBS_PER_WORKSPACE)


def max_jobs() -> int:
    """How many jobs may train at once (`TUNESMITH_MAX_JOBS`, default 1)."""
    return count_setting(MAX_JOBS_ENV, DEFAULT_MAX_JOBS)


# ---------------------------------------------------------------- folders


def jobs_dir(workspace: Path) -> Path:
    path = Path(workspace) / JOBS_DIR
    path.mkdir(parents=True, exist_ok=True)
    return path


def models_dir(workspace: Path) -> Path:
    """The workspace's "My models" folder: one model folder per trained model."""
    path = Path(workspace) / MODELS_DIR
    path.mkdir(parents=True, exist_ok=True)
    return path


def is_job_id(text: str) -> bool:
    return bool(_JOB_ID.match(text or ""))


def job_dir(workspace: Path, job_id: str) -> Path:
    if not is_job_id(job_id):
        raise ValueError(f"not a job id: {job_id!r}")
    return jobs_dir(workspace) / job_id


def safe_model_name(name: str) -> str:
    """A folder-safe model name: letters, digits, spaces, `_.-`; never empty or hidden."""
    cleaned = _MODEL_NAME.sub("-", name).strip(" .-")[:MAX_MODEL_NAME_CHARS]
    return cleaned or "model"


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


def read_request(path: Path) -> JobRequest:
    """The job's request. Raises ValueError (or OSError) for a missing or malformed one."""
    data = json.loads((Path(path) / REQUEST_FILE).read_text())
    try:
        return JobRequest.from_dict(data)
    except (KeyError, TypeError, AttributeError) as error:
        raise ValueError(f"unreadable job request ({type(error).__name__})") from error


def write_status(path: Path, status: JobStatus) -> None:
    atomic_write_json(Path(path) / STATUS_FILE, status.to_dict())


def read_status(path: Path) -> JobStatus:
    """The job's status; a queued or running job that its runner says is gone reads as failed."""
    path = Path(path)
    try:
        status = JobStatus.from_dict(json.loads((path / STATUS_FILE).read_text()))
    except (OSError, ValueError, KeyError, TypeError) as error:
        return JobStatus(
            job_id=path.name, state=JobState.FAILED, message=f"unreadable job status ({error})"
        )
    if status.state.active and not _runner_says_alive(path, status):
        status = JobStatus.from_dict(
            {
                **status.to_dict(),
                "state": JobState.FAILED.value,
                "message": "the training process stopped unexpectedly; resume continues from the "
                "last checkpoint",
            }
        )
    return status


def _runner_says_alive(path: Path, status: JobStatus) -> bool:
    try:
        handle = (path / RUNNER_HANDLE_FILE).read_text().strip()
    except OSError:  # a job folder from before the runner interface
        handle = str(status.pid) if status.pid else ""
    try:
        return bool(handle) and job_runner().is_alive(handle)
    except JobRunnerError:  # misconfigured since it started: say nothing rather than "failed"
        log.exception("cannot ask the job runner about %s", path.name)
        return True


def list_jobs(workspace: Path) -> list[JobStatus]:
    """Every job of the workspace, newest first."""
    statuses = [
        read_status(p)
        for p in jobs_dir(workspace).iterdir()
        if is_job_id(p.name) and (p / STATUS_FILE).is_file()
    ]
    return sorted(statuses, key=lambda s: s.created_at, reverse=True)


# ---------------------------------------------------------------- starting and stopping


def submit_job(workspace: Path, request: JobRequest) -> str:
    """Create a job folder for `request` and start its process. Returns the job id.

    Raises:
        JobQuotaError: the workspace already has `max_jobs_per_workspace()` jobs queued or
            running (checked before anything is written or started).
        QuotaError: the workspace or the data directory has no room for another model.
        StorageError: the data directory cannot be written.
    """
    runner = job_runner()  # a misconfigured runner fails before anything is written
    active = sum(1 for status in list_jobs(workspace) if status.state.active)
    if active >= max_jobs_per_workspace():
        raise JobQuotaError(
            f"{active} training job(s) are already waiting or running for you (at most "
            f"{max_jobs_per_workspace()}): let one finish, or cancel one, then start this one"
        )
    check_room(workspace, incoming_bytes=int(MODEL_ROOM_MB * 1e6), what="A new model")
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


def read_status_raw(path: Path) -> JobStatus:
    """status.json as written, without the liveness check."""
    return JobStatus.from_dict(json.loads((Path(path) / STATUS_FILE).read_text()))


def cancel_job(path: Path) -> None:
    """Ask the job to stop; it does within one batch and keeps its last checkpoint."""
    (Path(path) / CANCEL_FILE).touch()


def resume_job(path: Path) -> None:
    """Start a cancelled or failed job again; training continues from its last checkpoint."""
    path = Path(path)
    status = read_status(path)
    if status.state.active:
        return
    if status.state is JobState.FINISHED:
        raise ValueError("a finished job cannot be resumed")
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


# ---------------------------------------------------------------- the scheduler


def _queue_dir() -> Path:
    path = data_dir() / "job-queue"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _slots_dir() -> Path:
    path = data_dir() / "job-slots"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _live_queue() -> list[Path]:
    """Queue entries in arrival order; entries of dead processes are removed."""
    live = []
    for entry in sorted(_queue_dir().glob("*.json")):
        try:
            pid = int(json.loads(entry.read_text())["pid"])
        except (OSError, ValueError, KeyError):
            continue
        if process_alive(pid):
            live.append(entry)
        else:
            entry.unlink(missing_ok=True)
    return live


@contextlib.contextmanager
def job_slot(
    job_id: str,
    *,
    should_stop: Callable[[], bool] = lambda: False,
    on_wait: Callable[[int], None] = lambda place: None,
) -> Iterator[int]:
    """Wait for a free training slot, first come first served; yield the slot's number.

    `on_wait(place)` is told the queue place (1 = next) whenever it changes.

    Raises:
        JobCancelled: `should_stop()` became true while waiting.
    """
    entry = _queue_dir() / f"{time.time_ns():020d}-{job_id}.json"
    atomic_write_json(entry, {"pid": os.getpid(), "job_id": job_id})
    handle: IO[str] | None = None
    slot = -1
    last_place = -1
    try:
        while True:
            if should_stop():
                raise JobCancelled("cancelled while waiting for a free slot")
            queue = _live_queue()
            place = queue.index(entry) + 1 if entry in queue else 1
            if place == 1:
                handle, slot = _try_lock_slot()
                if handle is not None:
                    break
            if place != last_place:
                last_place = place
                on_wait(place)
            time.sleep(QUEUE_POLL_S)
        entry.unlink(missing_ok=True)
        yield slot
    finally:
        entry.unlink(missing_ok=True)
        if handle is not None:
            fcntl.flock(handle, fcntl.LOCK_UN)
            handle.close()


def _try_lock_slot() -> tuple[IO[str] | None, int]:
    for slot in range(max_jobs()):
        handle = open(_slots_dir() / f"slot-{slot}.lock", "a")  # noqa: SIM115 (held while training)
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            continue
        return handle, slot
    return None, -1


# ---------------------------------------------------------------- the job process


class _StatusWriter:
    """Turns training progress into status.json writes, at most every STATUS_INTERVAL_S."""

    def __init__(self, path: Path, base: JobStatus) -> None:
        self.path = path
        self.status = base
        self._last_write = 0.0
        self._epochs_seen = len(base.history)

    def update(self, *, force: bool = False, **changes: Any) -> None:
        data = {**self.status.to_dict(), **changes, "updated_at": time.time()}
        if isinstance(data["state"], JobState):
            data["state"] = data["state"].value
        self.status = JobStatus.from_dict(data)
        now = time.monotonic()
        if force or now - self._last_write >= STATUS_INTERVAL_S:
            self._last_write = now
            write_status(self.path, self.status)

    def on_progress(self, done: int, total: int, info: Any) -> None:
        new_epoch = len(info.history) != self._epochs_seen
        self._epochs_seen = len(info.history)
        self.update(
            force=new_epoch or info.phase != "training",
            phase=info.phase,
            epoch=info.epoch,
            epochs=info.epochs,
            batch=info.batch,
            batches=info.batches,
            done=done,
            total=total,
            loss=info.loss,
            eta_s=info.eta_s,
            tokens_per_s=info.tokens_per_s,
            history=list(info.history),
            baseline=dict(info.baseline),
            start=dict(info.start),
            queue_place=None,
            message="",
        )


def run_job(path: Path, *, wait_for_slot: bool = True) -> int:
    """The body of a job process: wait for a slot, train, save the model, record the outcome.

    A crash records its error in status.json; the model folder is written only on success.
    `wait_for_slot=False` skips this module's slot queue, for runners whose engine already
    limits how many jobs run at once (the workers of a shared queue).
    """
    path = Path(path).resolve()
    request = read_request(path)
    try:
        previous = read_status_raw(path)
    except (OSError, ValueError, KeyError):
        previous = JobStatus(job_id=path.name, state=JobState.QUEUED, created_at=time.time())
    writer = _StatusWriter(path, previous)
    writer.update(force=True, state=JobState.QUEUED, pid=os.getpid(), phase="waiting", message="")
    cancel_flag = path / CANCEL_FILE

    def should_stop() -> bool:
        return cancel_flag.exists()

    def on_wait(place: int) -> None:
        writer.update(
            force=True,
            queue_place=place,
            message=f"waiting for a free slot: place {place} in the queue",
        )

    try:
        slot = (
            job_slot(path.name, should_stop=should_stop, on_wait=on_wait)
            if wait_for_slot
            else contextlib.nullcontext(0)
        )
        with slot:
            writer.update(
                force=True,
                state=JobState.RUNNING,
                phase="loading data",
                queue_place=None,
                message="",
            )
            model_dir = _train_job(path, request, writer, should_stop)
    except JobCancelled:
        writer.update(
            force=True,
            state=JobState.CANCELLED,
            phase="cancelled",
            eta_s=None,
            message=_cancel_message(writer.status),
        )
        return 0
    except Exception as error:  # the job's whole point is to record any failure
        message = str(error) if isinstance(error, TunesmithError | ValueError) else repr(error)
        log.error("job %s failed: %s", path.name, message)
        traceback.print_exc()
        writer.update(
            force=True, state=JobState.FAILED, phase="failed", eta_s=None, message=message
        )
        return 1
    writer.update(
        force=True,
        state=JobState.FINISHED,
        phase="finished",
        eta_s=None,
        model_dir=str(model_dir),
        message=f"saved as {model_dir.name}",
    )
    return 0


def _cancel_message(status: JobStatus) -> str:
    if status.history:
        return f"cancelled; epoch {len(status.history)} is kept and resume continues from it"
    return "cancelled before the first epoch finished"


def _train_job(
    path: Path, request: JobRequest, writer: _StatusWriter, should_stop: Callable[[], bool]
) -> Path:
    from core.datasets import DEFAULT_SEED, load_dataset
    from core.encoding import EncodingConfig
    from core.model import ModelConfig
    from core.training import TrainingConfig, train

    training_config = TrainingConfig.from_dict(request.training)
    chosen = EncodingConfig.from_dict(request.encoding) if request.encoding else None
    model_config, encoding, vocab, base_dir = training_start(
        request.base_model,
        ModelConfig.from_dict(request.model),
        training_config,
        chosen_encoding=chosen,
    )

    def on_load(done: int, total: int, name: str) -> None:
        if should_stop():
            raise JobCancelled("cancelled while loading the data")
        writer.update(phase="loading data", message=f"reading {name} ({done}/{total})")

    # The split seed is always the app's (DEFAULT_SEED), whatever the training seed: the base
    # model trained on the built-in collections' training sides only, so a fine-tuned model is
    # judged on pieces neither of them saw.
    dataset = load_dataset(
        list(request.sources),
        config=encoding,
        name=request.dataset_name,
        seed=DEFAULT_SEED,
        limit=request.limit,
        on_progress=on_load,
        vocab=vocab,
    )
    workspace = path.parent.parent
    out_dir = models_dir(workspace) / safe_model_name(request.model_name)
    if out_dir.exists():
        out_dir = models_dir(workspace) / unique_model_name(workspace, request.model_name)
    result = train(
        dataset,
        model_config=model_config,
        training_config=training_config,
        checkpoint_dir=path / CHECKPOINT_DIR,
        out_dir=out_dir,
        on_progress=writer.on_progress,
        should_stop=should_stop,
        base_dir=base_dir,
    )
    assert result.model_dir is not None
    write_primers(result.model_dir, dataset)
    return result.model_dir


@dataclass(frozen=True)
class FineTuning:
    """What fine-tuning from a base model fixes: its shape, encoding and vocabulary."""

    path: Path
    model: Any  # ModelConfig
    encoding: Any  # EncodingConfig
    vocab: Any  # Vocabulary


def training_start(
    base_model: str | None, model: Any, training: Any, *, chosen_encoding: Any = None
) -> tuple[Any, Any, Any, Path | None]:
    """(network shape, encoding, vocabulary or None, base folder or None) a run starts from.

    Fine-tuning takes all of them from the base (`fine_tuning_setup`); from scratch it is
    `model`, the training's encoding (with its augmentation) and a vocabulary the data builds.
    """
    if base_model:
        base = fine_tuning_setup(base_model, chosen_encoding)
        return base.model, base.encoding, base.vocab, base.path
    return model, training.encoding(chosen_encoding), None, None


def fine_tuning_setup(base_model: str, chosen_encoding: Any = None) -> FineTuning:
    """The base model's folder, network shape, encoding and vocabulary, checked before any data
    is read.

    Raises:
        InvalidModelError: the base is missing or unreadable.
        ValueError: the chosen encoding's grid is not the base's (train from scratch instead).
    """
    from core.model import ModelConfig, read_encoding_and_vocab, read_model_info
    from core.sampling import resolve_model_dir

    base_dir = resolve_model_dir(base_model)
    info = read_model_info(base_dir)
    encoding, vocab = read_encoding_and_vocab(base_dir)
    if chosen_encoding is not None and (
        chosen_encoding.steps_per_quarter != encoding.steps_per_quarter
    ):
        raise ValueError(
            f"the base model knows a grid of {encoding.steps_per_quarter} steps per quarter note, "
            f"the data was prepared with {chosen_encoding.steps_per_quarter}: train from scratch "
            "for that grid"
        )
    return FineTuning(base_dir, ModelConfig.from_dict(info["model"]), encoding, vocab)


def write_primers(model_dir: Path, dataset: Any) -> None:
    """Openings of training pieces beside the model, for "start from a snippet" generation."""
    from core.primers import write_training_primers

    try:
        write_training_primers(model_dir, [p.tokens for p in dataset.train], source=dataset.name)
    except (OSError, ValueError) as error:  # the model is usable without them
        log.warning("no primers for %s: %s", model_dir.name, error)


def describe_sources(sources: Sequence[str]) -> str:
    return ", ".join(Path(s).name for s in sources)
