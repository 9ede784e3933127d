"""Job-queue benchmark: three training jobs through the built-in process runner, then through
the shared queue (RQ on a real redis-server of its own) with one and with two workers.

Each job is a real Keras training of a tiny network on patterned music (about ten seconds), so
the figures are the runners' own: how many jobs train at once, the order, the time from
"Start training" to the first training step, the submit call itself, and the wall time of the
three, as a ratio against the process runner measured in the same run. On this 2-core machine
two trainings at once share the cores, so two workers cannot halve the wall time here; on two
machines they would. Opt-in (about two minutes).
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

JOBS = 3
EPOCHS = 12
POLL_S = 0.05
TIMEOUT_S = 600


@contextmanager
def _environment(**values: str) -> Any:
    from core.jobs import runner

    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    runner._runner_for.cache_clear()
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        runner._runner_for.cache_clear()


def _three_jobs(music: Path, *, at_once: int) -> dict[str, Any]:
    """Submit `JOBS` jobs at once and watch them to the end; `at_once` may train together."""
    from core import jobs
    from core.jobs.records import JobRequest, JobState
    from core.storage.files import new_workspace_id, workspace_dir
    from tests.core.training_fixtures import TINY_MODEL, TINY_TRAINING

    workspace = workspace_dir(new_workspace_id())
    submit_ms, paths, submitted = [], [], []
    for i in range(JOBS):
        request = JobRequest(
            sources=(str(music),),
            dataset_name="patterns",
            model_name=f"Job {i}",
            model=TINY_MODEL.to_dict(),
            training=replace(TINY_TRAINING, epochs=EPOCHS).to_dict(),
        )
        began = time.perf_counter()
        paths.append(jobs.job_dir(workspace, jobs.submit_job(workspace, request)))
        submit_ms.append((time.perf_counter() - began) * 1000)
        submitted.append(time.monotonic())
    began = submitted[0]
    training_at: dict[int, float] = {}
    finished_at: dict[int, float] = {}
    most_at_once = 0
    while len(finished_at) < JOBS:
        if time.monotonic() - began > TIMEOUT_S:
            raise RuntimeError(f"jobs did not finish within {TIMEOUT_S} s")
        statuses = [jobs.read_status(p) for p in paths]
        failed = [s for s in statuses if s.state is JobState.FAILED]
        if failed:
            raise RuntimeError(f"a job failed: {failed[0].message}")
        running = [i for i, s in enumerate(statuses) if s.state is JobState.RUNNING]
        most_at_once = max(most_at_once, len(running))
        now = time.monotonic()
        for i, status in enumerate(statuses):
            if status.phase == "training" or status.state is JobState.FINISHED:
                training_at.setdefault(i, now)
            if status.state is JobState.FINISHED:
                finished_at.setdefault(i, now)
        time.sleep(POLL_S)
    # First come, first served: the first `at_once` jobs start (in any order among them, as
    # they start together), then each later one in its turn.
    order = sorted(training_at, key=training_at.__getitem__)
    in_turn = sorted(order[:at_once]) == list(range(at_once)) and order[at_once:] == list(
        range(at_once, JOBS)
    )
    return {
        "wall_s": round(max(finished_at.values()) - began, 1),
        "most_training_at_once": most_at_once,
        "first_come_first_served": in_turn,
        "submit_ms_median": round(statistics.median(submit_ms), 1),
        "first_job_to_training_s": round(training_at[0] - submitted[0], 2),
    }


def _measure(scratch: Path) -> dict[str, Any]:
    from tests.core.jobs.conftest import RedisServer
    from tests.core.training_fixtures import write_patterned_midi

    music = write_patterned_midi(scratch / "music")
    figures: dict[str, Any] = {}
    with _environment(TUNESMITH_JOB_RUNNER="process", TUNESMITH_MAX_JOBS="1"):
        figures["process_runner"] = _three_jobs(music, at_once=1)
    redis = RedisServer(scratch / "redis")
    redis.folder.mkdir()
    redis.start()
    try:
        with _environment(TUNESMITH_JOB_RUNNER="rq", TUNESMITH_REDIS_URL=redis.url):
            for count in (1, 2):
                workers = _start_workers(count, scratch)
                try:
                    figures[f"queue_{count}_worker{'s' * (count > 1)}"] = _three_jobs(
                        music, at_once=count
                    )
                finally:
                    for worker in workers:
                        worker.stop()
    finally:
        redis.stop()
    base = figures["process_runner"]["wall_s"]
    queues = ("queue_1_worker", "queue_2_workers")
    for name in queues:
        figures[name]["wall_vs_process_runner"] = round(figures[name]["wall_s"] / base, 2)
    figures["goal"] = "two workers: two train at once and the third waits; one worker: one"
    figures["goal_met"] = (
        figures["queue_2_workers"]["most_training_at_once"] == 2
        and figures["queue_1_worker"]["most_training_at_once"] == 1
        and all(figures[name]["first_come_first_served"] for name in queues)
    )
    return figures


def _start_workers(count: int, scratch: Path) -> list[Any]:
    from tests.core.jobs.conftest import start_worker_process

    return [
        start_worker_process(f"bench-{count}-{i}", scratch / f"worker-{count}-{i}.log")
        for i in range(count)
    ]


def run() -> dict[str, Any]:
    with (
        tempfile.TemporaryDirectory() as scratch,
        _environment(
            TUNESMITH_DATA_DIR=str(Path(scratch) / "data"),
            TUNESMITH_MAX_JOBS_PER_WORKSPACE=str(JOBS),
        ),
    ):
        return _measure(Path(scratch))
