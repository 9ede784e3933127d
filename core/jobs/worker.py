"""`python -m core worker`: RQ's own worker on the training queue, with the app's settings.

It is `rq.Worker` with three changes a training queue needs:
- the job's heartbeat to Redis every `JOB_MONITORING_S` (RQ's default is 30 s), so Redis knows
  of a worker's death soon;
- a Redis that restarts mid-job does not stop the worker: RQ's work horse trains on (it needs
  no Redis), and a heartbeat that cannot be sent is skipped instead of ending the worker, which
  is what RQ's worker does after any unhandled error;
- after such an end (Redis gone between two jobs), the worker starts again after
  `RESTART_AFTER_S`, until it is asked to stop (SIGTERM, Ctrl-C).
Each job runs in a fresh forked process (RQ's work horse), so TensorFlow's memory is returned
after every job, as with the process runner.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from core.errors import JobQueueError
from core.jobs.queue import connect, redis_url, training_queue

log = logging.getLogger(__name__)

JOB_MONITORING_S = 5
# How long Redis keeps a worker's registration without its heartbeat: a dead worker stops
# counting as "a trainer on the server" after this.
WORKER_TTL_S = 30
RESTART_AFTER_S = 2.0


def _worker_class() -> type:
    from redis.exceptions import RedisError
    from rq import Worker

    class TrainingWorker(Worker):
        def maintain_heartbeats(self, job: Any, execution: Any) -> None:
            try:
                super().maintain_heartbeats(job, execution)
            except (RedisError, OSError) as error:  # the horse trains on; so does the worker
                self.log.warning("heartbeat of job %s not sent: %r", job.id, error)

    return TrainingWorker


def serve(*, burst: bool = False, name: str | None = None) -> int:
    """Work on the training queue until asked to stop (or, with `burst`, until it is empty).

    Returns:
        The number of jobs worked on.
    """
    from redis.exceptions import RedisError

    worker_class = _worker_class()
    done = 0
    log.info("training worker on %s, queue %s", redis_url(), training_queue(connect()).name)
    while True:
        connection = connect()
        worker = worker_class(
            [training_queue(connection)],
            connection=connection,
            name=name,
            job_monitoring_interval=JOB_MONITORING_S,
            worker_ttl=WORKER_TTL_S,
        )
        try:
            worked = worker.work(burst=burst, logging_level="INFO")
        except ValueError as error:  # RQ's refusal of a name in use: a setup fault, no retry
            raise JobQueueError(f"This worker cannot start: {error}.") from error
        except (RedisError, OSError) as error:  # Redis gone while the worker registered
            log.warning("the worker stopped (%r); it starts again", error)
            worked = False
        done += int(worked)
        if burst or worker._stop_requested:
            return done
        time.sleep(RESTART_AFTER_S)
