"""The one browser harness: a real `streamlit run` on a free loopback port, waited for at
/_stcore/health, and Debian's Chromium driven by Playwright.

The e2e tests use its fixtures (`app_url`, `page`); the browser benchmarks (benchmarks/home_tune,
fresh_start, hum, load) import its plain functions (`from tests.e2e.conftest import ...`; they
run from the repository root, where `tests` is importable). Nothing here imports tests/conftest.py,
whose data-directory default must not leak into a benchmark's process.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

# The one way to find a free port and wait for a server, shared with deploy/ (the replicas)
from deploy.replicas import free_port, wait_until_healthy

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

REPO = Path(__file__).resolve().parents[2]
# Debian's chromium package (packages.txt installs it); Playwright's own browsers are not used.
CHROMIUM = Path("/usr/bin/chromium")
# The one flag list: no sandbox (it needs privileges a container lacks), no GPU (there is none),
# and none of the background traffic and first-run pages of a new profile.
CHROMIUM_ARGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
)
# A Streamlit run is finished (no script running) when the app root says so.
FINISHED = "[data-testid='stApp'][data-test-script-state='notRunning']"
RUN_TIMEOUT_MS = 120_000
# The duration of the page's index-th <audio> once the browser knows it (fails after 60 s).
AUDIO_DURATION_JS = """(index) => new Promise((resolve, reject) => {
    const deadline = Date.now() + 60000;
    const check = () => {
        const audio = document.querySelectorAll('audio')[index];
        if (audio && audio.readyState >= 1 && audio.duration > 0) { resolve(audio.duration); }
        else if (Date.now() > deadline) { reject(new Error('no playable audio ' + index)); }
        else { setTimeout(check, 50); }
    };
    check();
})"""
# "Click, then wait until the page plays something new": the src of the page's `index`-th
# <audio>, and a promise that resolves with its duration once that <audio> holds audio other
# than `old` (rejected after 60 s).
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


def chromium_options(*extra_args: str) -> dict[str, Any]:
    """Keyword arguments for `playwright.chromium.launch` (sync or async): Debian's Chromium
    with `CHROMIUM_ARGS` and the caller's `extra_args`.

    Raises:
        FileNotFoundError: Chromium is not installed (a missing browser fails, never skips).
    """
    if not CHROMIUM.exists():
        raise FileNotFoundError(f"{CHROMIUM} is missing: install Debian's chromium (packages.txt)")
    return {"executable_path": str(CHROMIUM), "args": [*CHROMIUM_ARGS, *extra_args]}


def fake_microphone_args(recording: Path) -> tuple[str, ...]:
    """Chromium flags for a microphone that plays `recording` (a 48 kHz mono 16-bit WAV,
    looped) and is granted without a prompt: what a "hum it" test or benchmark needs."""
    return (
        "--use-fake-ui-for-media-stream",
        "--use-fake-device-for-media-stream",
        f"--use-file-for-fake-audio-capture={recording}",
    )


@dataclass(frozen=True)
class Server:
    url: str
    pid: int

    def rss_mb(self) -> float:
        """The server process's resident memory."""
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        return float("nan")


@contextmanager
def app_server(*, data_dir: Path | None = None, log: Path | None = None) -> Iterator[Server]:
    """The app on loopback with a data directory of its own (a temporary one unless given),
    its output in `log` (discarded unless given), stopped afterwards."""
    port = free_port()
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
            command, cwd=REPO, env=env, stdout=output, stderr=subprocess.STDOUT
        )
        try:
            wait_until_healthy(url, process)
            yield Server(url, process.pid)
        finally:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


# ---------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def app_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A server of this test module's own, with an empty data directory; its log is kept in
    the module's temporary folder."""
    log = tmp_path_factory.mktemp("logs") / "streamlit.log"
    with app_server(data_dir=tmp_path_factory.mktemp("data"), log=log) as server:
        yield server.url


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """One Chromium for the test module (each test opens its own contexts); a module that needs
    other flags (a fake microphone, autoplay) defines its own."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(**chromium_options())
        yield browser
        browser.close()


@pytest.fixture
def page(app_url: str) -> Iterator[Page]:
    """A fresh Chromium on the app's first page, its first run finished."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(**chromium_options())
        try:
            page = browser.new_page()
            page.set_default_timeout(RUN_TIMEOUT_MS)
            page.goto(app_url)
            page.wait_for_selector(FINISHED)
            yield page
        finally:
            browser.close()
