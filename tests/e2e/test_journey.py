"""The main journey in a real browser: open the app, ask for a new tune, hear it.

A real `streamlit run` on a free port (waited for at /_stcore/health), driven by Playwright in
Debian's Chromium. An <audio> element whose duration is above zero proves the page received
audio the browser can play.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import REPO

pytestmark = pytest.mark.e2e

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SERVER_START_TIMEOUT_S = 90
RUN_TIMEOUT_MS = 120_000


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_healthy(url: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + SERVER_START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"streamlit exited with {process.returncode}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.5)
    raise TimeoutError(f"streamlit did not become healthy at {url}")


@pytest.fixture(scope="module")
def app_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port = _free_port()
    env = {
        **os.environ,
        "TUNESMITH_DATA_DIR": str(tmp_path_factory.mktemp("data")),
        "TF_CPP_MIN_LOG_LEVEL": "2",
    }
    command = [
        sys.executable, "-m", "streamlit", "run", "streamlit_app.py",
        "--server.port", str(port), "--server.address", "127.0.0.1",
        "--server.headless", "true", "--browser.gatherUsageStats", "false",
    ]
    log = tmp_path_factory.mktemp("logs") / "streamlit.log"
    with log.open("wb") as output:
        process = subprocess.Popen(command, cwd=REPO, env=env, stdout=output,
                                   stderr=subprocess.STDOUT)
        url = f"http://127.0.0.1:{port}"
        try:
            _wait_healthy(url, process)
            yield url
        finally:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()


@pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed")
def test_play_me_a_new_tune_in_the_browser(app_url: str) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.goto(app_url, timeout=RUN_TIMEOUT_MS)
            finished = "[data-testid='stApp'][data-test-script-state='notRunning']"
            page.wait_for_selector(finished, timeout=RUN_TIMEOUT_MS)
            button = page.get_by_role("button", name="tune")
            button.wait_for(timeout=RUN_TIMEOUT_MS)
            button.click()
            page.wait_for_selector("audio", timeout=RUN_TIMEOUT_MS)
            page.wait_for_selector(finished, timeout=RUN_TIMEOUT_MS)
            duration = page.evaluate(
                """() => new Promise((resolve, reject) => {
                    const audio = document.querySelector('audio');
                    if (!audio) { reject(new Error('no audio element')); return; }
                    if (audio.readyState >= 1) { resolve(audio.duration); return; }
                    audio.addEventListener('loadedmetadata', () => resolve(audio.duration));
                    audio.addEventListener('error', () => reject(new Error('audio error')));
                    audio.load();
                })"""
            )
            assert duration > 0
        finally:
            browser.close()
