"""Training jobs: status files, the slot queue, and a real job process with cancel and resume."""

from __future__ import annotations

import json
import os
import threading
import time
from dataclasses import replace
from pathlib import Path
from typing import ClassVar

import pytest

from core import jobs
from core.errors import JobCancelled
from core.jobs import lifecycle, process, scheduler
from core.jobs import runner as job_runner
from core.jobs.records import JobRequest, JobState, JobStatus
from core.storage.files import new_workspace_id, workspace_dir
from tests.conftest import wait_until
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
    monkeypatch.setattr(scheduler, "QUEUE_POLL_S", 0.02)
    order: list[str] = []
    places: list[int] = []
    release = threading.Event()

    def first() -> None:
        with jobs.job_slot("a"):
            order.append("a")
            release.wait(5)

    def second() -> None:
        with jobs.job_slot("b", on_wait=places.append):
            order.append("b")

    thread = threading.Thread(target=first)
    waiter = threading.Thread(target=second)
    thread.start()
    try:
        wait_until(lambda: order, timeout_s=5, message="the first job never got the slot")
        waiter.start()
        wait_until(lambda: places, timeout_s=5, message="the second job never said its place")
        assert order == ["a"] and places == [1]  # next in line, but the only slot is taken
    finally:
        release.set()
        thread.join(5)
        if waiter.ident is not None:  # started
            waiter.join(5)
    assert not thread.is_alive() and not waiter.is_alive()
    assert order == ["a", "b"]


def test_cancel_while_waiting_for_a_slot(workspace: Path, monkeypatch) -> None:
    monkeypatch.setattr(scheduler, "QUEUE_POLL_S", 0.02)
    with jobs.job_slot("a"), pytest.raises(JobCancelled), jobs.job_slot(
        "b", should_stop=lambda: True
    ):
        pass


def _log(path: Path) -> str:
    log = path / "log.txt"
    return log.read_text() if log.is_file() else "(no log yet)"


def _wait(path: Path, states: set[JobState], timeout_s: float = 180) -> JobStatus:
    def settled() -> JobStatus | None:
        status = jobs.read_status(path)
        return status if status.state in states else None

    return wait_until(settled, timeout_s=timeout_s, poll_s=0.1,
                      message=lambda: f"job stuck: {jobs.read_status(path)}\n{_log(path)}")


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

    def a_round_done() -> bool:
        status = jobs.read_status(path)
        assert status.state.active, _log(path)  # failed or finished before it could be cancelled
        return bool(status.history)

    wait_until(a_round_done, timeout_s=180, poll_s=0.1, message=lambda: _log(path))
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
    from core.model.folder import load_model_folder

    model = load_model_folder(Path(finished.model_dir or ""))
    assert model.path is not None and model.path.name == "Scales"
    assert model.metrics["epochs_run"] == 4
    assert (model.path / "primers.json").is_file()  # openings for "start from a snippet"
    # Its checkpoint lives on in the model folder (to continue the training), not twice.
    assert (model.path / "checkpoint" / "state.json").is_file()
    assert not (path / "checkpoint").exists()
    # how much music the held-out figures rest on, and its music beside the built-in model's
    assert model.metrics["heldout_pieces"] >= 1 and model.metrics["heldout_notes"] > 0
    check = model.metrics["style_check"]
    assert check["base_model"] == "base" and check["real_pieces"] == 6
    assert set(check["figures"]) == {"polyphony", "pitch_range", "notes_per_beat"}
    assert check["figures"]["polyphony"]["real"] == pytest.approx(1.0)  # one line of notes


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


# ---------------------------------------------------------------- the job runner interface


class FakeRunner:
    """A runner configured by `TUNESMITH_JOB_RUNNER=tests.core.jobs.test_jobs:FakeRunner`: it starts
    nothing, records what it was asked to start and says alive only for handles in `alive`."""

    started: ClassVar[list[Path]] = []
    alive: ClassVar[set[str]] = set()

    def start(self, job_dir: Path) -> str:
        FakeRunner.started.append(Path(job_dir))
        handle = f"fake-{len(FakeRunner.started)}"
        FakeRunner.alive.add(handle)
        return handle

    def is_alive(self, handle: str) -> bool:
        return handle in FakeRunner.alive


class NotARunner:
    def start(self, job_dir: Path) -> str:
        return "no is_alive"


@pytest.fixture
def fake_runner(monkeypatch) -> type[FakeRunner]:
    monkeypatch.setattr(FakeRunner, "started", [])
    monkeypatch.setattr(FakeRunner, "alive", set())
    monkeypatch.setenv(job_runner.JOB_RUNNER_ENV, "tests.core.jobs.test_jobs:FakeRunner")
    return FakeRunner


def _request(name: str = "Tune") -> JobRequest:
    return JobRequest(sources=("bach-chorales",), dataset_name="Bach", model_name=name,
                      model={}, training={})


def test_the_configured_runner_starts_jobs_and_decides_their_liveness(
    workspace: Path, fake_runner: type[FakeRunner]
) -> None:
    assert isinstance(job_runner.job_runner(), FakeRunner)
    path = jobs.job_dir(workspace, jobs.submit_job(workspace, _request()))
    assert fake_runner.started == [path]
    assert (path / jobs.RUNNER_HANDLE_FILE).read_text() == "fake-1"
    status = jobs.read_status(path)
    assert status.state is JobState.QUEUED and status.phase == "starting"

    fake_runner.alive.clear()  # the engine lost the job: it reads as failed, and can resume
    failed = jobs.read_status(path)
    assert failed.state is JobState.FAILED and "unexpectedly" in failed.message
    jobs.resume_job(path)
    assert fake_runner.started == [path, path]
    assert (path / jobs.RUNNER_HANDLE_FILE).read_text() == "fake-2"
    assert jobs.read_status(path).state is JobState.QUEUED


def test_old_job_folders_without_a_runner_handle_use_their_pid(workspace: Path) -> None:
    path = jobs.job_dir(workspace, "00000000000000b1")
    path.mkdir()
    old = {"job_id": path.name, "state": "running", "phase": "training", "pid": os.getpid(),
           "created_at": 1.0, "updated_at": 2.0}
    (path / jobs.STATUS_FILE).write_text(json.dumps(old))
    assert not (path / jobs.RUNNER_HANDLE_FILE).exists()
    assert jobs.read_status(path).state is JobState.RUNNING  # this process is alive
    (path / jobs.STATUS_FILE).write_text(json.dumps({**old, "pid": 2**22 + 12345}))
    assert jobs.read_status(path).state is JobState.FAILED


def test_the_default_runner_is_the_process_runner(monkeypatch) -> None:
    monkeypatch.delenv(job_runner.JOB_RUNNER_ENV, raising=False)
    runner = job_runner.job_runner()
    assert isinstance(runner, job_runner.ProcessRunner)
    assert runner.is_alive(str(os.getpid()))
    assert not runner.is_alive(str(2**22 + 12345)) and not runner.is_alive("fake-1")
    monkeypatch.setenv(job_runner.JOB_RUNNER_ENV, " process ")
    assert isinstance(job_runner.job_runner(), job_runner.ProcessRunner)


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("celery", "use \"process\""),
        ("no_such_module_here:Runner", "cannot import no_such_module_here"),
        ("tests.core.jobs.test_jobs:Missing", "has no class Missing"),
        ("tests.core.jobs.test_jobs:JobRequest", "JobRequest() failed"),
        ("tests.core.jobs.test_jobs:NotARunner", "lacks start(job_dir) or is_alive(handle)"),
    ],
)
def test_a_bad_runner_setting_is_a_clear_error_before_anything_is_written(
    workspace: Path, monkeypatch, value: str, reason: str
) -> None:
    monkeypatch.setenv(job_runner.JOB_RUNNER_ENV, value)
    with pytest.raises(job_runner.JobRunnerError, match="TUNESMITH_JOB_RUNNER") as error:
        job_runner.job_runner()
    assert reason in str(error.value)
    with pytest.raises(job_runner.JobRunnerError):
        jobs.submit_job(workspace, _request())
    assert jobs.list_jobs(workspace) == []


def test_a_queue_worker_runs_a_job_without_the_slot_queue(workspace: Path, monkeypatch) -> None:
    """What a shared queue's worker calls: `run_job(dir, wait_for_slot=False)`."""
    path = jobs.job_dir(workspace, "00000000000000c1")
    path.mkdir()
    jobs.write_status(path, JobStatus(job_id=path.name, state=JobState.QUEUED))
    (path / jobs.REQUEST_FILE).write_text(json.dumps(_request("Queued").to_dict()))
    seen: list[JobState] = []

    def fake_train(path: Path, request: JobRequest, writer, should_stop) -> Path:
        seen.append(jobs.read_status_raw(path).state)
        return jobs.models_dir(workspace) / request.model_name

    def no_slot(*args, **kwargs):
        raise AssertionError("the engine limits concurrency, not the slot files")

    monkeypatch.setattr(process, "_train_job", fake_train)
    monkeypatch.setattr(process, "job_slot", no_slot)
    assert jobs.run_job(path, wait_for_slot=False) == 0
    assert seen == [JobState.RUNNING]
    finished = jobs.read_status_raw(path)
    assert finished.state is JobState.FINISHED and finished.model_dir.endswith("Queued")


def test_a_full_workspace_starts_no_job_and_says_why(workspace: Path, fake_runner, monkeypatch):
    from core.errors import QuotaError

    monkeypatch.setenv("TUNESMITH_WORKSPACE_QUOTA_MB", "1")  # less than a model needs
    with pytest.raises(QuotaError, match="A new model does not fit in your space"):
        jobs.submit_job(workspace, _request())
    assert fake_runner.started == [] and jobs.list_jobs(workspace) == []


def test_a_job_that_cannot_be_written_leaves_no_folder(workspace: Path, fake_runner, monkeypatch):
    import errno

    from core.errors import StorageError
    from core.storage import files as storage

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(storage.os, "replace", full)
    with pytest.raises(StorageError, match="Your training job: not saved, the server's storage"):
        jobs.submit_job(workspace, _request())
    assert fake_runner.started == [] and list(jobs.jobs_dir(workspace).iterdir()) == []


# ---------------------------------------------------------------- what a failed job says


def _queued_job(workspace: Path, job_id: str = "00000000000000d1") -> Path:
    path = jobs.job_dir(workspace, job_id)
    path.mkdir()
    jobs.write_status(path, JobStatus(job_id=path.name, state=JobState.QUEUED))
    (path / jobs.REQUEST_FILE).write_text(json.dumps(_request("Saved").to_dict()))
    return path


def _copy_error(path: Path) -> Exception:
    import shutil

    where = str(jobs.models_dir(path.parent.parent) / ".Saved.tmp" / "checkpoint" / "last.keras")
    return shutil.Error([(str(path / "checkpoint" / "last.keras"), where,
                          f"[Errno 28] No space left on device: '{where}'")])


@pytest.mark.parametrize(
    ("make_error", "expected"),
    [
        (_copy_error, "Training stopped because the server's storage is full; resume continues "
                      "from the last checkpoint."),
        (lambda path: OSError(28, "No space left on device", str(path / "checkpoint")),
         "Training stopped because the server's storage is full; resume continues from the "
         "last checkpoint."),
        (lambda path: OSError(30, "Read-only file system", str(path)),
         "Training stopped because the server's storage is read-only; resume continues from "
         "the last checkpoint."),
        (lambda path: RuntimeError(f"HDF5 cannot write {path}/checkpoint/best.weights.h5"),
         process.UNEXPLAINED_FAILURE),
        (lambda path: ValueError(f"cannot save to {path.parent.parent}"),
         process.UNEXPLAINED_FAILURE),
        (lambda path: jobs_errors().InvalidMusicError(
            f"no usable pieces in {path.parent.parent}/music/bad.mid: bad.mid: not MIDI"),
         "no usable pieces in bad.mid: bad.mid: not MIDI"),
    ],
)
def test_a_failed_job_records_a_sentence_without_server_paths_or_ids(
    workspace: Path, monkeypatch, make_error, expected: str
) -> None:
    """A full disk during the model's save showed shutil.Error's repr: every server path, the
    workspace's id. The job records a sentence; the log has the whole error."""
    path = _queued_job(workspace)
    error = make_error(path)

    def failing(*args, **kwargs):
        raise error

    monkeypatch.setattr(process, "_train_job", failing)
    assert jobs.run_job(path, wait_for_slot=False) == 1
    for status in (jobs.read_status_raw(path), jobs.read_status(path)):
        assert status.state is JobState.FAILED
        assert status.message == expected
        assert workspace.name not in status.message and path.name not in status.message


def jobs_errors():
    import core.errors

    return core.errors


def test_a_failed_job_of_an_older_app_is_shown_without_its_paths(workspace: Path) -> None:
    path = _queued_job(workspace, "00000000000000d2")
    old = repr(_copy_error(path))
    jobs.write_status(path, JobStatus(job_id=path.name, state=JobState.FAILED, message=old))
    shown = jobs.read_status(path).message
    assert workspace.name not in shown and path.name not in shown and "/" not in shown


def test_a_job_status_that_cannot_be_read_says_so_without_its_path(workspace: Path) -> None:
    path = _queued_job(workspace, "00000000000000d3")
    (path / jobs.STATUS_FILE).write_text("{not json")
    status = jobs.read_status(path)
    assert status.state is JobState.FAILED and status.message == "This job's status cannot be read."


# ---------------------------------------------------------------- the room a job takes


def test_a_job_s_room_is_what_its_checkpoints_and_model_folder_take(workspace: Path) -> None:
    from core.model.folder import MODEL_DATA_ROOM_BYTES, weights_file_bytes
    from core.model.network import ModelConfig
    from core.training.checkpoints import checkpoint_bytes
    from core.training.fine_tuning import fine_tuning_setup

    base = fine_tuning_setup("base")
    request = replace(_request(), base_model="base", model=ModelConfig(units=16).to_dict())
    weights = weights_file_bytes(base.model, vocab_size=len(base.vocab))  # the base's shape
    checkpoint = checkpoint_bytes(weights)
    assert lifecycle.job_room_bytes(request) == 2 * checkpoint + weights + MODEL_DATA_ROOM_BYTES
    # Measured for the base's shape: a job had 70.3 MB on disk at its peak (its checkpoint
    # beside the model folder being written); 20 MB were reserved.
    assert 70.3e6 <= lifecycle.job_room_bytes(request) <= 80e6
    scratch = replace(_request(), model=ModelConfig(units=1024, layers=4).to_dict())
    assert lifecycle.job_room_bytes(scratch) > 1e9  # 34 million weights, four times over and more


def test_jobs_waiting_or_running_keep_their_room(workspace: Path, fake_runner, monkeypatch):
    """Two jobs each under a 20 MB reservation took a 100 MB workspace to 141 MB."""
    from core.errors import QuotaError

    base = replace(_request(), base_model="base")
    room = lifecycle.job_room_bytes(base)
    monkeypatch.setenv("TUNESMITH_WORKSPACE_QUOTA_MB", str(1.5 * room / 1e6))
    first = jobs.job_dir(workspace, jobs.submit_job(workspace, base))
    with pytest.raises(QuotaError, match="with your other training jobs still to finish, does "
                                         "not fit in your space") as error:
        jobs.submit_job(workspace, replace(base, model_name="Second"))
    assert f"it needs about {2 * room / 1e6:.0f} MB" in str(error.value)
    assert fake_runner.started == [first]
    fake_runner.alive.clear()  # the first job failed, before writing anything
    jobs.submit_job(workspace, replace(base, model_name="Second"))  # its room is free again


def test_a_job_resumes_only_with_room_for_what_it_will_still_write(
    workspace: Path, fake_runner, monkeypatch
) -> None:
    from core.errors import QuotaError

    path = jobs.job_dir(workspace, jobs.submit_job(workspace, _request()))
    fake_runner.alive.clear()
    (workspace / "music.mid").write_bytes(b"x" * 2_000_000)
    monkeypatch.setenv("TUNESMITH_WORKSPACE_QUOTA_MB", "2")
    with pytest.raises(QuotaError, match=r"^Resuming this training does not fit in your space"):
        jobs.resume_job(path)
    assert fake_runner.started == [path]  # not started again
    monkeypatch.delenv("TUNESMITH_WORKSPACE_QUOTA_MB")
    jobs.resume_job(path)
    assert fake_runner.started == [path, path]
