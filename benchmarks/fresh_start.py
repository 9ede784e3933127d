"""Fresh-server benchmark: a new deployment, its data directory empty.

First look: for each built-in collection, a fresh Python process with an empty data directory
reads the collection and builds its dataset with the default encoding, as the Data page does
(`load_sources` + `build_dataset`); timed from the process's first line, imports included, and
with the number of files it had to parse with music21 (none while the shipped cache of
core/data/preset_cache/ is current). Cold app start: a real `streamlit run` with an empty data
directory, timed from starting the process until Chromium shows the Home page finished; then
each collection's first look in that app, on the Data page. Goal: at most 5 s each.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from core.storage.files import REPO_DIR
from tests.e2e.conftest import FINISHED, app_server, chromium_options

GOAL_S = 5.0
PAGE_TIMEOUT_MS = 120_000
FIRST_LOOK_TIMEOUT_S = 600  # a stale shipped cache means parsing everything: minutes
# Runs in the fresh process: what the Data page does for a built-in collection.
FIRST_LOOK_CODE = """
import json, sys, time
started = time.perf_counter()
from core.data.datasets import build_dataset, load_sources
from core.tokens.config import EncodingConfig
config = EncodingConfig()
result = load_sources([sys.argv[1]], steps_per_quarter=config.steps_per_quarter)
dataset = build_dataset(result.pieces, name=sys.argv[1], config=config, errors=result.errors)
print(json.dumps({"seconds": time.perf_counter() - started, "pieces": len(dataset.pieces)}))
"""


def first_look(preset: str) -> dict[str, Any]:
    """One collection's first look in a fresh process with an empty data directory."""
    with tempfile.TemporaryDirectory() as data_dir:
        env = {**os.environ, "TUNESMITH_DATA_DIR": data_dir}
        output = subprocess.run(
            [sys.executable, "-c", FIRST_LOOK_CODE, preset],
            cwd=REPO_DIR,
            env=env,
            capture_output=True,
            text=True,
            check=True,
            timeout=FIRST_LOOK_TIMEOUT_S,
        ).stdout
        figures: dict[str, Any] = json.loads(output.strip().splitlines()[-1])
        parsed = Path(data_dir, "cache", "pieces")
        figures["files_parsed"] = len(list(parsed.glob("*.json"))) if parsed.exists() else 0
    return figures


def cold_app_start() -> dict[str, float]:
    """A real server with an empty data directory, in Chromium (launched beforehand: a user's
    browser is already open): seconds from starting `streamlit run` until it answers and until
    the Home page is finished; then, on the Data page, from pressing "Use this collection"
    until each built-in collection's pieces are shown."""
    from playwright.sync_api import sync_playwright

    from core.data.datasets import COLLECTIONS

    figures: dict[str, float] = {}
    with sync_playwright() as p:
        browser = p.chromium.launch(**chromium_options())
        page = browser.new_page()
        page.set_default_timeout(PAGE_TIMEOUT_MS)
        started = time.perf_counter()
        with app_server() as server:
            figures["server_ready_s"] = time.perf_counter() - started
            page.goto(server.url)
            page.wait_for_selector(FINISHED)
            page.get_by_role("button", name="tune").wait_for()  # the Home page, not a frame
            figures["first_page_s"] = time.perf_counter() - started
            page.get_by_test_id("stSidebarNavItems").get_by_role("link", name="Data").click()
            page.wait_for_selector(FINISHED)
            for preset in COLLECTIONS.values():
                page.get_by_role("combobox", name="Collection").click()
                page.get_by_role("option", name=preset.title, exact=True).click()
                page.wait_for_selector(FINISHED)
                clicked = time.perf_counter()
                page.get_by_role("button", name="Use this collection").click()
                page.get_by_text(f"Dataset: {preset.title}").wait_for()  # this run's, not the last
                page.wait_for_selector(FINISHED)
                page.get_by_test_id("stDataFrame").wait_for()
                figures[f"{preset.name}_in_app_s"] = time.perf_counter() - clicked
        browser.close()
    return {key: round(value, 2) for key, value in figures.items()}


def run() -> dict[str, Any]:
    from core.data.datasets import COLLECTIONS

    figures: dict[str, Any] = {}
    slowest = 0.0
    for preset in COLLECTIONS:
        look = first_look(preset)
        slowest = max(slowest, look["seconds"])
        figures[f"{preset}_first_look_s"] = round(look["seconds"], 2)
        figures[f"{preset}_pieces"] = look["pieces"]
        figures[f"{preset}_files_parsed"] = look["files_parsed"]
    app = cold_app_start()
    figures["cold_app_server_ready_s"] = app.pop("server_ready_s")
    figures["cold_app_first_page_s"] = app.pop("first_page_s")
    figures.update((f"data_page_{key}", value) for key, value in app.items())
    figures["goal_s"] = GOAL_S
    figures["first_looks_within_goal"] = max(slowest, *app.values()) <= GOAL_S
    figures["cold_app_start_within_goal"] = figures["cold_app_first_page_s"] <= GOAL_S
    return figures
