"""A real Redis and real queue workers for the shared-queue tests (tests/core/jobs/test_queue.py).

As RQ's own CI does, the tests talk to a real `redis-server` (Debian's package, in packages.txt),
never a shared one: each module starts its own on a free loopback port, with its data (an
append-only file, so a restart keeps the queue) in the module's temporary folder.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from deploy.replicas import free_port
from tests.conftest import REPO, wait_until

REDIS_SERVER = shutil.which("redis-server") or "/usr/bin/redis-server"


@dataclass
class RedisServer:
    """One redis-server process of the tests' own, which can be stopped and started again."""

    folder: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        if not Path(REDIS_SERVER).exists():
            raise FileNotFoundError(f"{REDIS_SERVER} is missing: install it (packages.txt)")
        self.process = subprocess.Popen(
            [REDIS_SERVER, "--port", str(self.port), "--bind", "127.0.0.1",
             "--dir", str(self.folder), "--appendonly", "yes", "--appendfsync", "always",
             "--save", "", "--protected-mode", "no"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        wait_until(self._answers, timeout_s=10, message="redis-server did not answer")

    def stop(self) -> None:
        """A clean shutdown (SIGTERM): what a restart of the service does."""
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)

    def _answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(16).startswith(b"+PONG")
        except OSError:
            return False


@pytest.fixture(scope="module")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path_factory.mktemp("redis"))
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def queue_settings(redis_server: RedisServer, isolated_data_dir: Path, monkeypatch) -> RedisServer:
    """This test's process uses the queue runner on the module's Redis, emptied first."""
    from redis import Redis

    if redis_server.process is None or redis_server.process.poll() is not None:
        redis_server.start()  # a test before this one stopped it
    Redis.from_url(redis_server.url).flushdb()
    monkeypatch.setenv("TUNESMITH_JOB_RUNNER", "rq")
    monkeypatch.setenv("TUNESMITH_REDIS_URL", redis_server.url)
    from core.jobs import runner

    runner._runner_for.cache_clear()
    yield redis_server
    runner._runner_for.cache_clear()


@dataclass
class Worker:
    """A `python -m core worker` process, in its own session so it and its work horse can be
    killed together (what a machine that dies does)."""

    process: subprocess.Popen[bytes]
    log: Path

    def kill(self, *, horse_pid: int | None) -> None:
        """SIGKILL to the worker and to the job it trains (RQ forks the job into a process
        group of its own)."""
        for pid in (self.process.pid, horse_pid):
            if pid:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)  # RQ's warm then cold shutdown
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


def start_worker_process(name: str, log: Path) -> Worker:
    """`python -m core worker --name NAME` with this process's settings, its output in `log`
    (also used by benchmarks/job_queue.py)."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "TF_CPP_MIN_LOG_LEVEL": "2"}
    with open(log, "wb") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "core", "worker", "--name", name], cwd=REPO, env=env,
            stdout=output, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    return Worker(process, log)


@pytest.fixture
def start_worker(queue_settings: RedisServer, tmp_path: Path) -> Iterator:
    started: list[Worker] = []

    def start(name: str) -> Worker:
        worker = start_worker_process(name, tmp_path / f"worker-{name}.log")
        started.append(worker)
        return worker

    yield start
    for worker in started:
        worker.stop()
