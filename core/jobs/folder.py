"""A job's folder: where it lives in a workspace, the files it holds, and model names.

A job folder (`<workspace>/jobs/<job id>/`) holds `request.json` (what to train), `status.json`
(written atomically by the job process, read by the page's poller), `cancel` (a flag file the
training callback honours within one batch), `checkpoint/` (the last finished epoch, so a
cancelled or crashed job can be resumed), `log.txt` (the process's own output) and
`runner_handle` (what the job runner's `start` returned; written only by the app).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from pathlib import Path

log = logging.getLogger(__name__)


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


def describe_sources(sources: Sequence[str]) -> str:
    return ", ".join(Path(s).name for s in sources)
