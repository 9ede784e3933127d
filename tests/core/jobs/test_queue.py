"""The shared job queue (`TUNESMITH_JOB_RUNNER=rq`) against a real redis-server and real
`python -m core worker` processes training real (tiny) models: the faults issue 26 names."""

from __future__ import annotations

import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import pytest

from core import jobs
from core.jobs import queue
from core.jobs.records import JobRequest, JobState, JobStatus
from core.storage.files import new_workspace_id, workspace_dir
from tests.conftest import REPO, wait_until
from tests.core.training_fixtures import TINY_MODEL, TINY_TRAINING, write_patterned_midi

pytestmark = pytest.mark.slow


@pytest.fixture
def workspace(queue_settings) -> Path:
    return workspace_dir(new_workspace_id())


def _request(music: Path, name: str, *, epochs: int = 3) -> JobRequest:
    return JobRequest(
        sources=(str(music),), dataset_name="patterns", model_name=name,
        model=TINY_MODEL.to_dict(), training=replace(TINY_TRAINING, epochs=epochs).to_dict(),
    )  # fmt: skip


def _wait(path: Path, predicate, timeout_s: float = 180, what: str = "") -> JobStatus:
    def check() -> JobStatus | None:
        status = jobs.read_status(path)
        return status if predicate(status) else None

    return wait_until(check, timeout_s=timeout_s, poll_s=0.1,
                      message=lambda: f"{what}: {jobs.read_status(path)}")


def _finished(status: JobStatus) -> bool:
    assert status.state is not JobState.FAILED, status.message
    return status.state is JobState.FINISHED


def test_a_job_waits_in_the_queue_with_its_place_until_a_worker_starts(
    workspace: Path, tmp_path: Path, start_worker
) -> None:
    music = write_patterned_midi(tmp_path / "music")
    first = jobs.job_dir(workspace, jobs.submit_job(workspace, _request(music, "First")))
    second = jobs.job_dir(workspace, jobs.submit_job(workspace, _request(music, "Second")))
    for place, path in enumerate((first, second), start=1):
        status = jobs.read_status(path)
        assert status.state is JobState.QUEUED and status.queue_place == place
        assert "no trainer is running" in status.message
    jobs.cancel_job(second)  # withdrawn from the queue: no worker will ever run it
    withdrawn = jobs.read_status(second)
    assert withdrawn.state is JobState.CANCELLED and "before it started" in withdrawn.message
    assert jobs.read_status(first).queue_place == 1

    start_worker("w1")
    done = _wait(first, _finished, what="the queued job never finished")
    assert (Path(done.model_dir or "") / "model.keras").is_file()
    assert jobs.read_status(second).state is JobState.CANCELLED  # still: it never ran
    assert not (jobs.models_dir(workspace) / "Second").exists()


def test_two_workers_train_two_jobs_at_once_and_the_third_waits_its_turn(
    workspace: Path, tmp_path: Path, start_worker, monkeypatch
) -> None:
    monkeypatch.setenv("TUNESMITH_MAX_JOBS_PER_WORKSPACE", "3")
    music = write_patterned_midi(tmp_path / "music")
    paths = [jobs.job_dir(workspace, jobs.submit_job(workspace, _request(music, f"M{i}",
                                                                          epochs=6)))
             for i in range(3)]
    start_worker("w1")
    start_worker("w2")
    first_running: dict[int, float] = {}
    most_at_once = 0
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        statuses = [jobs.read_status(p) for p in paths]
        assert all(s.state is not JobState.FAILED for s in statuses), statuses
        running = [i for i, s in enumerate(statuses) if s.state is JobState.RUNNING]
        most_at_once = max(most_at_once, len(running))
        for i in running:
            first_running.setdefault(i, time.monotonic())
        if 2 not in first_running and len(running) == 2:
            assert statuses[2].state is JobState.QUEUED and statuses[2].queue_place == 1
        if all(s.state is JobState.FINISHED for s in statuses):
            break
        time.sleep(0.05)
    else:
        raise AssertionError(f"not all finished: {[jobs.read_status(p) for p in paths]}")
    assert most_at_once == 2  # two trained at once, never three
    assert first_running[2] > max(first_running[0], first_running[1])  # first come first served


def test_a_worker_killed_mid_epoch_reads_as_stopped_and_resumes_on_another(
    workspace: Path, tmp_path: Path, start_worker, monkeypatch
) -> None:
    patience = queue.HEARTBEAT_STALE_S
    monkeypatch.setattr(queue, "HEARTBEAT_STALE_S", 4.0)  # the page's patience, not the job's
    music = write_patterned_midi(tmp_path / "music")
    path = jobs.job_dir(workspace, jobs.submit_job(workspace, _request(music, "Kept", epochs=8)))
    worker = start_worker("w1")
    running = _wait(path, lambda s: len(s.history) >= 1 and s.state is JobState.RUNNING,
                    what="no epoch finished")
    worker.kill(horse_pid=running.pid)  # the machine went away: worker and job at once
    stopped = _wait(path, lambda s: s.state is JobState.FAILED, timeout_s=30,
                    what="a dead job never read as stopped")
    assert "stopped unexpectedly" in stopped.message
    kept = len(stopped.history)

    jobs.resume_job(path)
    assert jobs.read_status(path).state is JobState.QUEUED
    # the resumed run is judged with the real patience: on a loaded machine its data loading
    # once held its heartbeat back over 4 s, and it read as stopped too (CI)
    monkeypatch.setattr(queue, "HEARTBEAT_STALE_S", patience)
    start_worker("w2")
    done = _wait(path, _finished, what="the resumed job never finished")
    assert len(done.history) == 8 and done.history[:kept] == stopped.history  # continued
    assert (Path(done.model_dir or "") / "model.keras").is_file()


def test_redis_restarted_mid_job_loses_nothing_and_the_worker_goes_on(
    workspace: Path, tmp_path: Path, start_worker, queue_settings
) -> None:
    music = write_patterned_midi(tmp_path / "music")
    path = jobs.job_dir(workspace, jobs.submit_job(workspace, _request(music, "Through",
                                                                        epochs=8)))
    worker = start_worker("w1")
    _wait(path, lambda s: s.state is JobState.RUNNING and s.phase == "training",
          what="the job never started training")
    queue_settings.stop()
    try:
        during = jobs.read_status(path)  # the page while Redis is away
        assert during.state is JobState.RUNNING, during
    finally:
        queue_settings.start()
    done = _wait(path, _finished, what="the job did not survive the restart")
    assert len(done.history) == 8
    assert worker.process.poll() is None, worker.log.read_text()[-2000:]
    after = jobs.job_dir(workspace, jobs.submit_job(workspace, _request(music, "After")))
    _wait(after, _finished, what="the worker took no job after Redis came back")


def test_a_job_is_cancelled_from_another_app_process(
    workspace: Path, tmp_path: Path, start_worker
) -> None:
    music = write_patterned_midi(tmp_path / "music")
    path = jobs.job_dir(workspace, jobs.submit_job(workspace, _request(music, "Stop", epochs=30)))
    start_worker("w1")
    _wait(path, lambda s: s.state is JobState.RUNNING and s.phase == "training",
          what="the job never started training")
    # another replica: a separate process with the same settings and data directory
    subprocess.run([sys.executable, "-c", "import sys; from pathlib import Path; "
                    "from core.jobs import cancel_job; cancel_job(Path(sys.argv[1]))", str(path)],
                   cwd=REPO, check=True, timeout=60)
    cancelled = _wait(path, lambda s: s.state is JobState.CANCELLED, timeout_s=60,
                      what="the job never stopped")
    assert cancelled.epochs_done < 30
    assert not jobs.models_dir(workspace).joinpath("Stop").exists()


def test_training_cannot_start_while_redis_is_away_and_nothing_is_left_behind(
    workspace: Path, tmp_path: Path, queue_settings
) -> None:
    from core.errors import JobQueueError

    music = write_patterned_midi(tmp_path / "music")
    queue_settings.stop()
    try:
        with pytest.raises(JobQueueError, match="does not answer"):
            jobs.submit_job(workspace, _request(music, "Never"))
    finally:
        queue_settings.start()
    assert jobs.list_jobs(workspace) == []
