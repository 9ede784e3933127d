"""The server-wide limit on jobs training at once.

At most `max_jobs()` jobs train at once on the whole server: every job process takes a place in
a global first-come queue and then an exclusive `flock` on one of the slot files; the lock dies
with its process, so a crash never leaks a slot.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO

from core.errors import JobCancelled
from core.jobs.runner import process_alive
from core.settings import setting_count
from core.storage.files import atomic_write_json, data_dir

MAX_JOBS_ENV = "TUNESMITH_MAX_JOBS"

DEFAULT_MAX_JOBS = 1

QUEUE_POLL_S = 0.5


def max_jobs() -> int:
    """How many jobs may train at once (`TUNESMITH_MAX_JOBS`, default 1)."""
    return setting_count(MAX_JOBS_ENV)


def _queue_dir() -> Path:
    path = data_dir() / "job-queue"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _slots_dir() -> Path:
    path = data_dir() / "job-slots"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _live_queue() -> list[Path]:
    """Queue entries in arrival order; entries of dead processes are removed."""
    live = []
    for entry in sorted(_queue_dir().glob("*.json")):
        try:
            pid = int(json.loads(entry.read_text())["pid"])
        except (OSError, ValueError, KeyError):
            continue
        if process_alive(pid):
            live.append(entry)
        else:
            entry.unlink(missing_ok=True)
    return live


@contextlib.contextmanager
def job_slot(
    job_id: str,
    *,
    should_stop: Callable[[], bool] = lambda: False,
    on_wait: Callable[[int], None] = lambda place: None,
    arrived_at: float | None = None,
) -> Iterator[int]:
    """Wait for a free training slot, first come first served; yield the slot's number.

    `on_wait(place)` is told the queue place (1 = next) whenever it changes. `arrived_at`
    (a time.time()) is when the job was asked for, its place in the queue; default now. Jobs
    started together import TensorFlow together, so the time they reach this queue is not the
    order they were started in.

    Raises:
        JobCancelled: `should_stop()` became true while waiting.
    """
    arrived_ns = int((arrived_at if arrived_at is not None else time.time()) * 1e9)
    entry = _queue_dir() / f"{arrived_ns:020d}-{job_id}.json"
    atomic_write_json(entry, {"pid": os.getpid(), "job_id": job_id})
    handle: IO[str] | None = None
    slot = -1
    last_place = -1
    try:
        while True:
            if should_stop():
                raise JobCancelled("cancelled while waiting for a free slot")
            queue = _live_queue()
            place = queue.index(entry) + 1 if entry in queue else 1
            if place == 1:
                handle, slot = _try_lock_slot()
                if handle is not None:
                    break
            if place != last_place:
                last_place = place
                on_wait(place)
            time.sleep(QUEUE_POLL_S)
        entry.unlink(missing_ok=True)
        yield slot
    finally:
        entry.unlink(missing_ok=True)
        if handle is not None:
            fcntl.flock(handle, fcntl.LOCK_UN)
            handle.close()


def _try_lock_slot() -> tuple[IO[str] | None, int]:
    for slot in range(max_jobs()):
        handle = open(_slots_dir() / f"slot-{slot}.lock", "a")  # noqa: SIM115 (held while training)
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            continue
        return handle, slot
    return None, -1
