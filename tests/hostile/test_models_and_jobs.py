"""Issue 29, findings 4, 6 and 9 replayed: a model zip whose metrics hold text where numbers go,
a model save that meets a full disk, and training jobs that wrote past the workspace's quota.

The zip is refused on upload naming its file and field; planted in a workspace, it reads as a
broken model the Train page shows (and deletes) instead of falling over. A full disk is told
in a sentence without server paths or ids. A job's quota counts what it really writes.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import time
from dataclasses import replace
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from core import jobs
from core.errors import InvalidModelError, QuotaError
from core.jobs import lifecycle, process
from core.jobs.records import JobRequest, JobState, JobStatus
from core.model.folder import model_folder_to_zip, save_model_folder, zip_to_model_folder
from core.model.network import ModelConfig, build_model
from core.storage import files as storage
from core.storage.files import new_workspace_id, workspace_dir
from core.storage.quotas import folder_bytes
from core.tokens.config import EncodingConfig
from core.tokens.vocabulary import Vocabulary
from core.training.config import TrainingConfig
from tests.app.shown import shown_all
from tests.conftest import REPO
from tests.hostile.conftest import within

# The probe's metrics.json: the Train page formatted f"{parameters:,}" on every load.
TEXT_WHERE_NUMBERS_GO = {"parameters": "lots", "val_perplexity": 3.1, "epochs_run": 2}
VOCAB = Vocabulary.build([["T4", "P60", "D4", "P64", "D2"]])
SHAPE = ModelConfig(embedding_dim=4, units=8, layers=1)


@pytest.fixture
def workspace_id(isolated_data_dir: Path) -> str:
    ws = new_workspace_id()
    workspace_dir(ws)
    return ws


def _model(path: Path, *, metrics: dict, checkpoint_dir: Path | None = None) -> Path:
    save_model_folder(path, keras_model=build_model(SHAPE, len(VOCAB)), encoding=EncodingConfig(),
                      vocab=VOCAB, config=SHAPE, training=TrainingConfig().to_dict(),
                      metrics=metrics, checkpoint_dir=checkpoint_dir)
    return path


def _planted(workspace: Path) -> Path:
    """A model folder with the probe's metrics.json, put straight into "My models"."""
    path = _model(jobs.models_dir(workspace) / "Planted", metrics={})
    (path / "metrics.json").write_text(json.dumps(TEXT_WHERE_NUMBERS_GO))
    return path


def test_a_zip_with_text_where_numbers_go_is_refused_on_upload(tmp_path, workspace_id):
    folder = _model(tmp_path / "Mine", metrics={})
    (folder / "metrics.json").write_text(json.dumps(TEXT_WHERE_NUMBERS_GO))
    data = model_folder_to_zip(folder)
    models = jobs.models_dir(workspace_dir(workspace_id))
    with within(cpu_s=1, mb=50), pytest.raises(InvalidModelError) as refused:
        zip_to_model_folder(data, models / "Mine", name="mine.zip")
    assert str(refused.value) == (
        "mine.zip: metrics.json is not usable: 'parameters' must be a whole number of at least 0."
    )
    assert list(models.iterdir()) == []  # nothing landed, no temporary folder left


def test_a_planted_folder_leaves_the_train_page_up_and_can_be_deleted(workspace_id):
    planted = _planted(workspace_dir(workspace_id))
    at = AppTest.from_file(str(REPO / "app_pages" / "train.py"), default_timeout=60)
    at.query_params["ws"] = workspace_id
    at.run()  # the first run imports the page's modules: a server's start, not a request
    with within():
        at.run()
        assert not at.exception
        errors = shown_all(at.error)
        assert errors == [
            "Planted: metrics.json is not usable: 'parameters' must be a whole number of at "
            "least 0."
        ]
        assert at.get("file_uploader")  # the upload is still offered below it
        at.button(key="train_model_Planted_delete_broken").click().run()
    assert not at.exception and not planted.exists()


def _full_copy(*args, **kwargs):
    """copy2's copyfile on a full disk: copytree gathers these into one shutil.Error."""
    raise OSError(errno.ENOSPC, "No space left on device", str(args[1]))


_real_replace = os.replace


def _full_replace(source, target):
    """A disk that fills while the model folder is written (its temporary folder is removed
    then, so the job's status, written after, fits again)."""
    if "/models/" in str(target):
        raise OSError(errno.ENOSPC, "No space left on device", str(target))
    _real_replace(source, target)


@pytest.mark.parametrize(
    ("target", "name", "fault"),
    [(shutil, "copyfile", _full_copy), (storage.os, "replace", _full_replace)],
    ids=["shutil.Error of the checkpoint's copy", "OSError of an atomic write"],
)
def test_a_model_save_on_a_full_disk_records_a_sentence_without_paths_or_ids(
    workspace_id, monkeypatch, target, name, fault
) -> None:
    workspace = workspace_dir(workspace_id)
    path = jobs.job_dir(workspace, "00000000000000f1")
    (path / "checkpoint").mkdir(parents=True)
    (path / "checkpoint" / "state.json").write_text("{}")
    request = JobRequest(sources=("bach-chorales",), dataset_name="Bach", model_name="Saved",
                         model=SHAPE.to_dict(), training=TrainingConfig().to_dict())
    (path / jobs.REQUEST_FILE).write_text(json.dumps(request.to_dict()))
    jobs.write_status(path, JobStatus(job_id=path.name, state=JobState.QUEUED))
    network = build_model(SHAPE, len(VOCAB))

    def save_on_a_full_disk(job: Path, *args, **kwargs) -> Path:
        """The end of a training: the model folder written beside the job's checkpoint."""
        monkeypatch.setattr(target, name, fault)
        return save_model_folder(jobs.models_dir(workspace) / "Saved", keras_model=network,
                                 encoding=EncodingConfig(), vocab=VOCAB, config=SHAPE,
                                 training={}, metrics={}, checkpoint_dir=job / "checkpoint")

    monkeypatch.setattr(process, "_train_job", save_on_a_full_disk)
    with within(cpu_s=2, mb=50):
        assert jobs.run_job(path, wait_for_slot=False) == 1
    monkeypatch.undo()
    status = jobs.read_status(path)
    assert status.state is JobState.FAILED
    assert status.message == (
        "Training stopped because the server's storage is full; resume continues from the "
        "last checkpoint."
    )
    assert (path / "checkpoint" / "state.json").is_file()  # what resume continues from
    assert not (jobs.models_dir(workspace) / "Saved").exists()


def test_two_jobs_cannot_take_a_workspace_past_its_quota(workspace_id, monkeypatch):
    """The probe: each job reserved 20 MB and wrote 70; two took a 100 MB workspace to 141."""
    from tests.core.jobs.test_jobs import FakeRunner

    monkeypatch.setattr(FakeRunner, "started", [])
    monkeypatch.setattr(FakeRunner, "alive", set())
    monkeypatch.setenv("TUNESMITH_JOB_RUNNER", "tests.core.jobs.test_jobs:FakeRunner")
    monkeypatch.setenv("TUNESMITH_WORKSPACE_QUOTA_MB", "100")
    workspace = workspace_dir(workspace_id)
    request = JobRequest(sources=("bach-chorales",), dataset_name="Bach", model_name="First",
                         model={}, training=TrainingConfig().to_dict(), base_model="base")
    with within(cpu_s=2, mb=50):
        jobs.submit_job(workspace, request)
        with pytest.raises(QuotaError) as refused:
            jobs.submit_job(workspace, replace(request, model_name="Second"))
    assert str(refused.value).startswith(
        "A new model, with your other training jobs still to finish, does not fit in your space: "
        "0 MB of your 100 MB are used and it needs about 146 MB.")
    assert len(FakeRunner.started) == 1


@pytest.mark.slow
def test_the_room_a_job_reserves_is_at_least_what_a_real_tiny_training_writes(
    workspace_id, tmp_path, monkeypatch
) -> None:
    """A real job (in this process): at its peak, when the model folder has just been written
    beside the job's checkpoint, the workspace holds no more than the job reserved; once done,
    the job's own checkpoint is gone (the model folder keeps one to continue from)."""
    from core.training import loop
    from tests.core.training_fixtures import TINY_MODEL, TINY_TRAINING, write_patterned_midi

    workspace = workspace_dir(workspace_id)
    music = write_patterned_midi(tmp_path / "music")
    request = JobRequest(sources=(str(music),), dataset_name="patterns", model_name="Tiny",
                         model=TINY_MODEL.to_dict(),
                         training=replace(TINY_TRAINING, epochs=2).to_dict())
    path = jobs.job_dir(workspace, "00000000000000f2")
    path.mkdir()
    (path / jobs.REQUEST_FILE).write_text(json.dumps(request.to_dict()))
    jobs.write_status(path, JobStatus(job_id=path.name, state=JobState.QUEUED,
                                      created_at=time.time()))
    with within(cpu_s=1, mb=20):
        room = lifecycle.job_room_bytes(request)
    before = folder_bytes(workspace)
    peaks: list[int] = []
    real_train = loop.train

    def measured_train(*args, **kwargs):
        result = real_train(*args, **kwargs)
        peaks.append(folder_bytes(workspace) - before)
        return result

    monkeypatch.setattr(loop, "train", measured_train)
    assert jobs.run_job(path, wait_for_slot=False) == 0, (path / "log.txt")
    model = jobs.models_dir(workspace) / "Tiny"
    assert peaks and 0 < peaks[0] <= room
    assert (model / "checkpoint" / "last.keras").is_file()
    assert not (path / "checkpoint").exists()
    assert folder_bytes(workspace) - before < peaks[0]
    print(f"tiny job: reserved {room / 1e6:.2f} MB, peak {peaks[0] / 1e6:.2f} MB, "
          f"after {(folder_bytes(workspace) - before) / 1e6:.2f} MB")


def test_training_notes_whose_arrays_claim_terabytes_are_refused_from_their_headers(tmp_path):
    """An uploaded model's training_notes.npz is anyone's zip: an array header may claim any
    shape, and numpy sets the memory aside before it reads a byte. Refused from the headers."""
    import io
    import zipfile

    import numpy as np

    from core.model.training_notes import TrainingNotes

    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        header, {"descr": "<i8", "fortran_order": False, "shape": (10**12,)}
    )
    path = tmp_path / "training_notes.npz"
    with zipfile.ZipFile(path, "w") as archive:
        for name in ("names", "offsets", "onsets", "pitches", "durations", "steps_per_quarter"):
            archive.writestr(f"{name}.npy", header.getvalue() + b"\0" * 64)
    with within(cpu_s=1, mb=20), pytest.raises(ValueError, match="more than 200 MB"):
        TrainingNotes.load(path)
