"""The job process: wait for a slot, train, save the model, record the outcome in status.json."""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from core.errors import JobCancelled, TunesmithError
from core.jobs.folder import CANCEL_FILE, CHECKPOINT_DIR, models_dir, safe_model_name
from core.jobs.lifecycle import unique_model_name
from core.jobs.queue import HEARTBEAT_FILE, HEARTBEAT_S, beat_while
from core.jobs.records import (
    UNEXPLAINED_FAILURE,
    JobRequest,
    JobState,
    JobStatus,
    read_request,
    read_status_raw,
    shown_message,
    write_status,
)
from core.jobs.scheduler import job_slot
from core.storage.files import storage_fault
from core.training.fine_tuning import training_start

log = logging.getLogger(__name__)


STATUS_INTERVAL_S = 0.5  # the job process writes status.json at most this often (plus at epochs)


class _StatusWriter:
    """Turns training progress into status.json writes, at most every STATUS_INTERVAL_S."""

    def __init__(self, path: Path, base: JobStatus) -> None:
        self.path = path
        self.status = base
        self._last_write = 0.0
        self._epochs_seen = len(base.history)

    def update(self, *, force: bool = False, **changes: Any) -> None:
        data = {**self.status.to_dict(), **changes, "updated_at": time.time()}
        if isinstance(data["state"], JobState):
            data["state"] = data["state"].value
        self.status = JobStatus.from_dict(data)
        now = time.monotonic()
        if force or now - self._last_write >= STATUS_INTERVAL_S:
            self._last_write = now
            write_status(self.path, self.status)

    def on_progress(self, done: int, total: int, info: Any) -> None:
        new_epoch = len(info.history) != self._epochs_seen
        self._epochs_seen = len(info.history)
        self.update(
            force=new_epoch or info.phase != "training",
            phase=info.phase,
            epoch=info.epoch,
            epochs=info.epochs,
            batch=info.batch,
            batches=info.batches,
            done=done,
            total=total,
            loss=info.loss,
            eta_s=info.eta_s,
            tokens_per_s=info.tokens_per_s,
            history=list(info.history),
            baseline=dict(info.baseline),
            start=dict(info.start),
            queue_place=None,
            message="",
        )


def run_job(path: Path, *, wait_for_slot: bool = True) -> int:
    """The body of a job process: wait for a slot, train, save the model, record the outcome.

    A crash records its error in status.json; the model folder is written only on success.
    `wait_for_slot=False` skips this module's slot queue, for runners whose engine already
    limits how many jobs run at once (the workers of a shared queue).
    """
    path = Path(path).resolve()
    request = read_request(path)
    try:
        previous = read_status_raw(path)
    except (OSError, ValueError, KeyError):
        previous = JobStatus(job_id=path.name, state=JobState.QUEUED, created_at=time.time())
    writer = _StatusWriter(path, previous)
    writer.update(force=True, state=JobState.QUEUED, pid=os.getpid(), phase="waiting", message="")
    cancel_flag = path / CANCEL_FILE

    def should_stop() -> bool:
        return cancel_flag.exists()

    def on_wait(place: int) -> None:
        writer.update(
            force=True,
            queue_place=place,
            message=f"waiting for a free slot: place {place} in the queue",
        )

    try:
        slot = (
            job_slot(
                path.name,
                should_stop=should_stop,
                on_wait=on_wait,
                # when the page started (or resumed) it: `_start` wrote "starting" then
                arrived_at=previous.updated_at if previous.phase == "starting" else None,
            )
            if wait_for_slot
            else contextlib.nullcontext(0)
        )
        with slot:
            writer.update(
                force=True,
                state=JobState.RUNNING,
                phase="loading data",
                queue_place=None,
                message="",
            )
            model_dir = _train_job(path, request, writer, should_stop)
    except JobCancelled:
        writer.update(
            force=True,
            state=JobState.CANCELLED,
            phase="cancelled",
            eta_s=None,
            message=_cancel_message(writer.status),
        )
        return 0
    except Exception as error:  # the job's whole point is to record any failure
        log.exception("job %s failed", path.name)  # the whole error, for the server's log
        message = failure_sentence(error, path)
        try:
            writer.update(
                force=True, state=JobState.FAILED, phase="failed", eta_s=None, message=message
            )
        except OSError:  # a disk too full even for status.json: the job reads as stopped
            log.exception("job %s: its failure could not be recorded", path.name)
        return 1
    writer.update(
        force=True,
        state=JobState.FINISHED,
        phase="finished",
        eta_s=None,
        model_dir=str(model_dir),
        message=f"saved as {model_dir.name}",
    )
    return 0


def run_queued(job_dir: str) -> int:
    """What a worker of the shared queue (`core.jobs.queue`) runs for one job: `run_job` with
    the job's heartbeat beating in its folder. The workers are the limit on how many train at
    once, so the job skips this machine's slot queue."""
    path = Path(job_dir)
    stop = threading.Event()
    beat = threading.Thread(target=beat_while, args=(path, stop), daemon=True)
    beat.start()
    try:
        return run_job(path, wait_for_slot=False)
    finally:
        stop.set()
        beat.join(timeout=HEARTBEAT_S * 2)
        (path / HEARTBEAT_FILE).unlink(missing_ok=True)


def failure_sentence(error: BaseException, job: Path) -> str:
    """What a person is told of a job that failed with `error`: one sentence, without server
    paths or ids (the log has the whole error).

    The app's own errors are sentences already; a failed write (OSError, and shutil.Error,
    the error of a copy of many files) says what is wrong with the storage; anything else is
    an error on the server.
    """
    if isinstance(error, TunesmithError):
        return shown_message(str(error), job)
    if isinstance(error, OSError | shutil.Error):
        fault = storage_fault(error)
        return f"Training stopped because {fault}; resume continues from the last checkpoint."
    return UNEXPLAINED_FAILURE


def _cancel_message(status: JobStatus) -> str:
    if status.history:
        return f"cancelled; epoch {len(status.history)} is kept and resume continues from it"
    return "cancelled before the first epoch finished"


def _train_job(
    path: Path, request: JobRequest, writer: _StatusWriter, should_stop: Callable[[], bool]
) -> Path:
    from core.data.datasets import SPLIT_SEED, load_dataset
    from core.model.network import ModelConfig
    from core.tokens.config import EncodingConfig
    from core.training.config import TrainingConfig
    from core.training.loop import train

    training_config = TrainingConfig.from_dict(request.training)
    chosen = EncodingConfig.from_dict(request.encoding) if request.encoding else None
    start = training_start(
        request.base_model,
        ModelConfig.from_dict(request.model),
        training_config,
        chosen_encoding=chosen,
    )

    def on_load(done: int, total: int, name: str) -> None:
        if should_stop():
            raise JobCancelled("cancelled while loading the data")
        writer.update(phase="loading data", message=f"reading {name} ({done}/{total})")

    # The split seed is always the app's (SPLIT_SEED), whatever the training seed: the base
    # model trained on the built-in collections' training sides only, so a fine-tuned model is
    # judged on pieces neither of them saw.
    dataset = load_dataset(
        list(request.sources),
        config=start.encoding,
        name=request.dataset_name,
        seed=SPLIT_SEED,
        limit=request.limit,
        on_progress=on_load,
        vocab=start.vocab,
    )
    workspace = path.parent.parent
    out_dir = models_dir(workspace) / safe_model_name(request.model_name)
    if out_dir.exists():
        out_dir = models_dir(workspace) / unique_model_name(workspace, request.model_name)
    result = train(
        dataset,
        model_config=start.model,
        training_config=training_config,
        checkpoint_dir=path / CHECKPOINT_DIR,
        out_dir=out_dir,
        on_progress=writer.on_progress,
        should_stop=should_stop,
        base_dir=start.base_dir,
    )
    assert result.model_dir is not None
    # The model folder keeps a copy of the checkpoint (to continue its training), and a finished
    # job is never resumed: the job's own copy would only take the workspace's room twice.
    shutil.rmtree(path / CHECKPOINT_DIR, ignore_errors=True)
    write_generation_aids(result.model_dir, dataset)
    writer.update(force=True, phase="checking its music", message="")
    record_style_check(result.model_dir, start.base_dir, dataset.pieces)
    return result.model_dir


def write_generation_aids(model_dir: Path, dataset: Any) -> None:
    """Beside the model, what generation takes from its training pieces: their openings (for
    "start from a snippet") and their form (`core.generation.form`: how often their phrases
    return). The model is usable without either, so a failure is logged and skipped."""
    from core.evaluation.form_plan import learn_form_plan
    from core.generation.form import write_form_plan
    from core.generation.primers import write_training_primers
    from core.tokens.scheme import tokens_to_piece

    try:
        write_training_primers(
            model_dir,
            [p.tokens for p in dataset.train],
            source=dataset.name,
            meters=dataset.train_meters(),  # pickups: not read from files, so 0 (a bar line)
        )
    except (OSError, ValueError) as error:
        log.warning("no primers for %s: %s", model_dir.name, error)
    try:
        pieces = [tokens_to_piece(p.tokens, dataset.config, name=p.name) for p in dataset.train]
        plan = learn_form_plan(pieces)
        if plan is not None:
            write_form_plan(model_dir, plan)
    except (OSError, ValueError) as error:
        log.warning("no form plan for %s: %s", model_dir.name, error)


def record_style_check(model_dir: Path, base_dir: Path | None, pieces: Any) -> None:
    """Add to the model's metrics whether it now writes more like its music than the built-in
    model (`core.evaluation.style_check`); the model is usable without it, so a failure is
    logged and skipped, never the job's."""
    from core.evaluation.style_check import style_check, write_style_check
    from core.generation.generator import Generator
    from core.model.bundled import BASE_MODEL_NAME
    from core.model.folder import METRICS_FILE

    began = time.monotonic()
    try:
        check = style_check(
            Generator.from_folder(model_dir),
            Generator.from_folder(base_dir or BASE_MODEL_NAME),
            list(pieces),
        )
        write_style_check(model_dir / METRICS_FILE, check)
    except Exception as error:  # any failure: the model is saved and usable without it
        log.warning("no style check for %s: %r", model_dir.name, error)
        return
    log.info("style check of %s in %.1f s", model_dir.name, time.monotonic() - began)
