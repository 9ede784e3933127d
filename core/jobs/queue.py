"""Training on a shared queue: RQ (Redis Queue) runs job folders on workers of any machine.

`TUNESMITH_JOB_RUNNER=rq` makes `QueueRunner` the runner: a job is enqueued as a call of
`core.jobs.process.run_queued(job_dir)` on the queue `QUEUE_NAME` of the Redis at
`TUNESMITH_REDIS_URL`, and `python -m core worker` (`core.jobs.worker`) runs it in a fresh
forked process. The job folder, on a data directory every machine shares, stays what the page
reads: status, cancel flag, checkpoints. The number of workers is how many jobs train at once;
the queue is first come, first served. Decision: docs/decisions/0004-training-on-rq.md.

Liveness does not depend on Redis being up: a running job touches `HEARTBEAT_FILE` in its
folder every `HEARTBEAT_S`, so a page tells a running job from a dead one even while Redis
restarts; Redis is asked only about jobs that have not started (still queued, or gone).
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from core.errors import JobQueueError
from core.settings import text_setting

if TYPE_CHECKING:
    from redis import Redis
    from rq import Queue

log = logging.getLogger(__name__)

REDIS_URL_ENV = "TUNESMITH_REDIS_URL"
DEFAULT_REDIS_URL = "redis://localhost:6379/0"
QUEUE_NAME = "tunesmith-training"
HEARTBEAT_FILE = "heartbeat"
HEARTBEAT_S = 2.0
# A running job whose heartbeat is older than this is gone (its machine or its worker died).
# Several missed beats, so a busy disk or a slow shared mount never reads as a death.
HEARTBEAT_STALE_S = 20.0
# A job RQ has handed to a worker but whose heartbeat has not begun yet (the fork, the imports).
START_GRACE_S = 60.0
# RQ's own limit on one job's run: a training stops itself long before (its epochs, its
# preset); this only frees a worker whose job hangs.
JOB_TIMEOUT_S = 24 * 3600
# How long RQ keeps a finished or failed job's record: the job folder has the outcome.
RECORD_TTL_S = 24 * 3600
REDIS_TIMEOUT_S = 3.0
RETRY_AFTER_S = 5.0
QUEUE_UNREACHABLE = (
    "Training cannot start right now: the server's training queue does not answer. Your music "
    "and settings are kept; try again in a minute."
)
HANDLE_PREFIX = "rq:"
# What a worker runs for a queued job, by name: the worker imports it, this module need not.
QUEUED_FUNCTION = "core.jobs.process.run_queued"


def redis_url() -> str:
    """The queue's Redis (`TUNESMITH_REDIS_URL`)."""
    return text_setting(REDIS_URL_ENV) or DEFAULT_REDIS_URL


def connect(url: str | None = None) -> Redis:
    """A client of the queue's Redis, with short timeouts (a page must never hang on it)."""
    from redis import Redis

    return Redis.from_url(
        url or redis_url(),
        socket_timeout=REDIS_TIMEOUT_S,
        socket_connect_timeout=REDIS_TIMEOUT_S,
    )


def training_queue(connection: Redis) -> Queue:
    from rq import Queue

    return Queue(QUEUE_NAME, connection=connection)


@dataclass(frozen=True)
class QueuePlace:
    """Where a job that has not started waits: its place (1 = next) and how many workers
    serve the queue (0: none runs, so nothing starts until one does)."""

    place: int
    workers: int


class QueueRunner:
    """The job runner of a shared queue (RQ on Redis); see the module's text."""

    def __init__(self) -> None:
        self._connection = connect()
        self._unreachable_until = 0.0  # after a failed call, pages do not wait on Redis again

    def _reachable(self) -> bool:
        return time.monotonic() >= self._unreachable_until

    def _unreachable(self, error: BaseException) -> None:
        log.warning("the job queue cannot be reached: %r", error)
        self._unreachable_until = time.monotonic() + RETRY_AFTER_S

    @property
    def queue(self) -> Queue:
        return training_queue(self._connection)

    def start(self, job_dir: Path) -> str:
        """Enqueue the job folder; the handle is the RQ job's id.

        Raises:
            JobQueueError: Redis cannot be reached (nothing is enqueued).
        """
        from redis.exceptions import RedisError

        try:
            job = self.queue.enqueue(
                QUEUED_FUNCTION,
                str(Path(job_dir).resolve()),
                job_timeout=JOB_TIMEOUT_S,
                result_ttl=RECORD_TTL_S,
                failure_ttl=RECORD_TTL_S,
                description=f"training job {Path(job_dir).name}",
            )
        except (RedisError, OSError) as error:
            log.warning("cannot queue job %s: %r", Path(job_dir).name, error)
            raise JobQueueError(QUEUE_UNREACHABLE) from error
        (Path(job_dir) / HEARTBEAT_FILE).unlink(missing_ok=True)  # a resumed job's last run
        log.info("queued job %s as %s", Path(job_dir).name, job.id)
        return HANDLE_PREFIX + job.id

    def is_alive(self, handle: str, job_dir: Path | None = None) -> bool:
        """Whether the job still waits or runs. Its heartbeat answers for a running job;
        Redis for one not yet started. While Redis cannot be reached, a job without a fresh
        heartbeat reads as alive: nothing is known, so nothing is called dead."""
        age = heartbeat_age(job_dir) if job_dir is not None else None
        if age is not None:
            return age < HEARTBEAT_STALE_S
        job = self._fetch(handle)
        if job is _UNKNOWN:
            return True
        if job is None:
            return False
        status = job.get_status(refresh=False)  # rq's JobStatus, a str enum
        if status in ("created", "queued", "deferred", "scheduled"):
            return True
        if status == "started":  # handed to a worker: alive until its heartbeat should beat
            started = job.started_at.timestamp() if job.started_at else time.time()
            return time.time() - started < START_GRACE_S + HEARTBEAT_STALE_S
        return False  # finished, failed, stopped or canceled in RQ's eyes

    def queue_place(self, handle: str) -> QueuePlace | None:
        """Where a job that has not started waits; None when it is not waiting in the queue
        or Redis cannot be reached."""
        from redis.exceptions import RedisError
        from rq import Worker

        job_id = handle.removeprefix(HANDLE_PREFIX)
        if not handle.startswith(HANDLE_PREFIX) or not self._reachable():
            return None
        try:
            position = self.queue.get_job_position(job_id)
            if position is None:
                return None
            workers = Worker.count(connection=self._connection, queue=self.queue)
        except (RedisError, OSError) as error:
            self._unreachable(error)
            return None
        return QueuePlace(place=int(position) + 1, workers=int(workers))

    def withdraw(self, handle: str) -> bool:
        """Take a job that has not started out of the queue; True when it was taken (then no
        worker will run it), False when it runs already, is gone, or Redis cannot say."""
        from redis.exceptions import RedisError

        if not handle.startswith(HANDLE_PREFIX):
            return False
        try:
            removed = self.queue.remove(handle.removeprefix(HANDLE_PREFIX))
        except (RedisError, OSError) as error:
            self._unreachable(error)
            return False
        return bool(removed)

    def _fetch(self, handle: str) -> Any:
        """The RQ job of `handle`; None when Redis has no such job, `_UNKNOWN` when Redis
        cannot be reached."""
        from redis.exceptions import RedisError
        from rq.exceptions import NoSuchJobError
        from rq.job import Job

        if not handle.startswith(HANDLE_PREFIX):
            return None  # a handle of another runner (a process id): not a queued job
        if not self._reachable():
            return _UNKNOWN
        try:
            return Job.fetch(handle.removeprefix(HANDLE_PREFIX), connection=self._connection)
        except NoSuchJobError:
            return None
        except (RedisError, OSError) as error:
            self._unreachable(error)
            return _UNKNOWN


_UNKNOWN = object()


def heartbeat_age(job_dir: Path) -> float | None:
    """Seconds since the job last beat (None: no beat yet, or none since it was resumed)."""
    try:
        return max(0.0, time.time() - (Path(job_dir) / HEARTBEAT_FILE).stat().st_mtime)
    except OSError:
        return None


def beat_while(job_dir: Path, stop: threading.Event) -> None:
    """Touch the job's heartbeat every `HEARTBEAT_S` until `stop` is set (a thread's body)."""
    path = Path(job_dir) / HEARTBEAT_FILE
    while True:
        try:
            path.touch()
        except OSError as error:  # a full or lost disk: the job's own writes will say so
            log.warning("no heartbeat for %s: %r", path.parent.name, error)
        if stop.wait(HEARTBEAT_S):
            return
