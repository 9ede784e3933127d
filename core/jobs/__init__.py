"""Training jobs: each runs on its own and talks to the app only through its folder (request,
status, cancel flag, checkpoints); the runner starts it, the scheduler limits how many run."""

from core.jobs.folder import (
    CANCEL_FILE,
    REQUEST_FILE,
    RUNNER_HANDLE_FILE,
    STATUS_FILE,
    describe_sources,
    is_job_id,
    job_dir,
    jobs_dir,
    models_dir,
    safe_model_name,
)
from core.jobs.lifecycle import (
    MAX_JOBS_PER_WORKSPACE_ENV,
    cancel_job,
    delete_job,
    list_jobs,
    read_status,
    resume_job,
    submit_job,
    training_capacity,
    unique_model_name,
)
from core.jobs.process import run_job
from core.jobs.records import (
    JobRequest,
    JobState,
    JobStatus,
    read_request,
    read_status_raw,
    write_status,
)
from core.jobs.scheduler import job_slot, max_jobs

__all__ = [
    "CANCEL_FILE",
    "MAX_JOBS_PER_WORKSPACE_ENV",
    "REQUEST_FILE",
    "RUNNER_HANDLE_FILE",
    "STATUS_FILE",
    "JobRequest",
    "JobState",
    "JobStatus",
    "cancel_job",
    "delete_job",
    "describe_sources",
    "is_job_id",
    "job_dir",
    "job_slot",
    "jobs_dir",
    "list_jobs",
    "max_jobs",
    "models_dir",
    "read_request",
    "read_status",
    "read_status_raw",
    "resume_job",
    "run_job",
    "safe_model_name",
    "submit_job",
    "training_capacity",
    "unique_model_name",
    "write_status",
]
