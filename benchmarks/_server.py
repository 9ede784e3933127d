"""A real `streamlit run` of the app for browser benchmarks, on a free loopback port."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from core.storage.files import REPO_DIR

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-sync"]
FINISHED = "[data-testid='stApp'][data-test-script-state='notRunning']"
START_TIMEOUT_S = 90
# Browser side of "click, then wait until the page plays something new": the src of the
# page's `index`-th <audio>, and a promise that resolves with its duration once that <audio>
# holds audio other than `old` (rejected after 60 s).
AUDIO_SRC_JS = "(index) => (document.querySelectorAll('audio')[index] || {}).src || ''"
NEW_AUDIO_JS = """({old, index}) => new Promise((resolve, reject) => {
    const deadline = Date.now() + 60000;
    const check = () => {
        const audio = document.querySelectorAll('audio')[index];
        if (Date.now() > deadline) { reject(new Error('no new audio within 60 s')); return; }
        if (audio && audio.src !== old && audio.readyState >= 1 && audio.duration > 0) {
            resolve(audio.duration);
        } else { setTimeout(check, 10); }
    };
    check();
})"""


@dataclass(frozen=True)
class Server:
    url: str
    pid: int

    def rss_mb(self) -> float:
        """The server process's resident memory."""
        for line in open(f"/proc/{self.pid}/status").read().splitlines():  # noqa: SIM115
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        return float("nan")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def app_server(*, data_dir: Path | None = None, log: Path | None = None) -> Iterator[Server]:
    """The app on loopback with a data directory of its own (a temporary one unless given),
    its output in `log` (discarded unless given), stopped afterwards."""
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory() as scratch, open(log or os.devnull, "wb") as output:
        data = str(data_dir or scratch)
        env = {**os.environ, "TUNESMITH_DATA_DIR": data, "TF_CPP_MIN_LOG_LEVEL": "2"}
        command = [
            sys.executable, "-m", "streamlit", "run", "streamlit_app.py",
            "--server.port", str(port), "--server.address", "127.0.0.1",
            "--server.headless", "true", "--browser.gatherUsageStats", "false",
        ]  # fmt: skip
        process = subprocess.Popen(
            command, cwd=REPO_DIR, env=env, stdout=output, stderr=subprocess.STDOUT
        )
        try:
            deadline = time.monotonic() + START_TIMEOUT_S
            while True:
                if process.poll() is not None:
                    raise RuntimeError(f"streamlit exited with {process.returncode}")
                try:
                    with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                        if response.status == 200:
                            break
                except OSError:
                    if time.monotonic() > deadline:
                        raise TimeoutError("streamlit did not start") from None
                    time.sleep(0.3)
            yield Server(url, process.pid)
        finally:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
