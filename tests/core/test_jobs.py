"""Training jobs: status files, the slot queue, and a real job process with cancel and resume."""

from __future__ import annotations

import threading
import time
from dataclasses import replace
from pathlib import Path

import pytest

from core import jobs
from core.errors import JobCancelled
from core.jobs import JobRequest, JobState, JobStatus
from core.storage import new_workspace_id, workspace_dir
from tests.core.training_fixtures import TINY_MODEL, TINY_TRAINING, write_patterned_midi


@pytest.fixture
def workspace(isolated_data_dir: Path) -> Path:
    return workspace_dir(new_workspace_id())


def test_status_round_trip_and_dead_process_reads_as_failed(workspace: Path) -> None:
    path = jobs.job_dir(workspace, "0123456789abcdef")
    path.mkdir()
    status = JobStatus(job_id=path.name, state=JobState.RUNNING, epoch=2, epochs=5,
                       history=({"epoch": 1.0, "val_loss": 2.0},), pid=2**22 + 12345)
    assert JobStatus.from_dict(status.to_dict()) == status
    jobs.write_status(path, status)
    read = jobs.read_status(path)
    assert read.state is JobState.FAILED and "unexpectedly" in read.message
    assert read.history == status.history
    assert [s.job_id for s in jobs.list_jobs(workspace)] == [path.name]


def test_model_names_are_safe_and_unique(workspace: Path) -> None:
    assert jobs.safe_model_name("../my/../model!") == "my-..-model"
    assert jobs.safe_model_name("...") == "model"
    (jobs.models_dir(workspace) / "Bach").mkdir()
    assert jobs.unique_model_name(workspace, "Bach") == "Bach 2"
    assert not jobs.is_job_id("../etc") and jobs.is_job_id("0123456789abcdef")


def test_slots_queue_first_come_first_served(workspace: Path, monkeypatch) -> None:
    monkeypatch.setattr(jobs, "QUEUE_POLL_S", 0.02)
    order: list[str] = []
    places: list[int] = []
    release = threading.Event()

    def first() -> None:
        with jobs.job_slot("a"):
            order.append("a")
            release.wait(5)

    thread = threading.Thread(target=first)
    thread.start()
    while not order:
        time.sleep(0.01)

    def second() -> None:
        with jobs.job_slot("b", on_wait=places.append):
            order.append("b")

    waiter = threading.Thread(target=second)
    waiter.start()
    time.sleep(0.2)
    assert order == ["a"] and places == [1]  # next in line, but the only slot is taken
    release.set()
    thread.join(5)
    waiter.join(5)
    assert order == ["a", "b"]


def test_cancel_while_waiting_for_a_slot(workspace: Path, monkeypatch) -> None:
    monkeypatch.setattr(jobs, "QUEUE_POLL_S", 0.02)
    with jobs.job_slot("a"), pytest.raises(JobCancelled), jobs.job_slot(
        "b", should_stop=lambda: True
    ):
        pass


def _wait(path: Path, states: set[JobState], timeout_s: float = 180) -> JobStatus:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        status = jobs.read_status(path)
        if status.state in states:
            return status
        time.sleep(0.2)
    raise AssertionError(f"job stuck: {jobs.read_status(path)}\n{(path / 'log.txt').read_text()}")


@pytest.mark.slow
def test_a_real_job_can_be_cancelled_and_resumed_to_a_saved_model(
    workspace: Path, tmp_path: Path
) -> None:
    music = write_patterned_midi(tmp_path / "music")
    request = JobRequest(
        sources=(str(music),), dataset_name="patterns", model_name="Scales",
        model=TINY_MODEL.to_dict(), training=replace(TINY_TRAINING, epochs=4).to_dict(),
    )
    job_id = jobs.submit_job(workspace, request)
    path = jobs.job_dir(workspace, job_id)
    deadline = time.monotonic() + 180
    while not jobs.read_status(path).history:
        assert jobs.read_status(path).state.active, (path / "log.txt").read_text()
        assert time.monotonic() < deadline
        time.sleep(0.1)
    jobs.cancel_job(path)
    cancelled = _wait(path, {JobState.CANCELLED, JobState.FAILED, JobState.FINISHED})
    assert cancelled.state is JobState.CANCELLED, cancelled
    assert 1 <= cancelled.epochs_done < 4
    assert not (jobs.models_dir(workspace) / "Scales").exists()

    jobs.resume_job(path)
    finished = _wait(path, {JobState.FINISHED, JobState.FAILED, JobState.CANCELLED})
    assert finished.state is JobState.FINISHED, (finished, (path / "log.txt").read_text())
    assert [h["epoch"] for h in finished.history] == [1, 2, 3, 4]
    assert finished.baseline["perplexity"] > 1
    from core.model import load_model_folder

    model = load_model_folder(Path(finished.model_dir or ""))
    assert model.path is not None and model.path.name == "Scales"
    assert model.metrics["epochs_run"] == 4
    assert (model.path / "primers.json").is_file()  # openings for "start from a snippet"


@pytest.mark.slow
def test_a_failing_job_records_its_error_and_saves_no_model(workspace: Path, tmp_path: Path):
    (tmp_path / "bad.mid").write_bytes(b"not midi")
    request = JobRequest(sources=(str(tmp_path / "bad.mid"),), dataset_name="bad",
                         model_name="Broken", model=TINY_MODEL.to_dict(),
                         training=TINY_TRAINING.to_dict())
    path = jobs.job_dir(workspace, jobs.submit_job(workspace, request))
    failed = _wait(path, {JobState.FAILED, JobState.FINISHED, JobState.CANCELLED})
    assert failed.state is JobState.FAILED and "bad.mid" in failed.message
    assert not any(jobs.models_dir(workspace).iterdir())


def test_a_workspace_cannot_queue_more_jobs_than_its_quota(workspace: Path, monkeypatch) -> None:
    import os

    from core.errors import JobQuotaError

    monkeypatch.setenv(jobs.MAX_JOBS_PER_WORKSPACE_ENV, "2")
    for job_id in ("00000000000000a1", "00000000000000a2"):
        path = jobs.job_dir(workspace, job_id)
        path.mkdir()
        jobs.write_status(path, JobStatus(job_id=job_id, state=JobState.QUEUED, pid=os.getpid(),
                                          created_at=time.time()))
    request = JobRequest(sources=("bach-chorales",), dataset_name="Bach", model_name="Third",
                         model={}, training={})
    with pytest.raises(JobQuotaError, match=r"2 training job\(s\) are already waiting or running"):
        jobs.submit_job(workspace, request)
    assert len(jobs.list_jobs(workspace)) == 2  # nothing written, nothing started
