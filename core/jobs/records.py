"""A job's request and status records, as the job folder keeps them."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any

from core.config import Config
from core.jobs.folder import REQUEST_FILE, STATUS_FILE
from core.storage.files import atomic_write_json


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
class JobRequest(Config):
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

    @classmethod
    def _from_plain(cls, values: dict[str, Any]) -> dict[str, Any]:
        return {**values, "sources": tuple(str(s) for s in values["sources"])}


@dataclass(frozen=True)
class JobStatus(Config):
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

    @classmethod
    def _from_plain(cls, values: dict[str, Any]) -> dict[str, Any]:
        return {
            **values,
            "state": JobState(values["state"]),
            "history": tuple(values.get("history", ())),
        }


# An absolute path in a message (a file a job could not read or write): shown by its name only,
# since the folders above it are the server's and hold the workspace's id. Not "4/4" or "1/3".
_SERVER_PATH = re.compile(r"(?<![\w.~])/[^\s'\",;:()\[\]]+")

MIN_ID_CHARS = 8  # shorter folder names (a job folder given to the CLI) are no one's secret

# What a person is told when a job's message would show an id.
UNEXPLAINED_FAILURE = (
    "Training stopped because of an error on the server (it is in the server's log); resume "
    "continues from the last checkpoint."
)


def shown_message(message: str, job: Path) -> str:
    """A job's message as a person may see it: server paths cut to their last name, and the
    generic sentence instead of one that still names the job's or the workspace's id."""
    job = Path(job)
    message = _SERVER_PATH.sub(lambda m: Path(m.group()).name or "the server's storage", message)
    ids = (job.name, job.parent.parent.name)  # 16 and 32 characters in the app's folders
    if any(len(name) >= MIN_ID_CHARS and name in message for name in ids):
        return UNEXPLAINED_FAILURE
    return message


def read_request(path: Path) -> JobRequest:
    """The job's request. Raises ValueError (or OSError) for a missing or malformed one."""
    data = json.loads((Path(path) / REQUEST_FILE).read_text())
    try:
        return JobRequest.from_dict(data)
    except (KeyError, TypeError, AttributeError) as error:
        raise ValueError(f"unreadable job request ({type(error).__name__})") from error


def write_status(path: Path, status: JobStatus) -> None:
    atomic_write_json(Path(path) / STATUS_FILE, status.to_dict())


def read_status_raw(path: Path) -> JobStatus:
    """status.json as written, without the liveness check."""
    return JobStatus.from_dict(json.loads((Path(path) / STATUS_FILE).read_text()))
