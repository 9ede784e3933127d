"""Home page benchmark: "Play me a new tune", from the click to playable audio, in Chromium.

A real `streamlit run` on a free port and Debian's Chromium driven by Playwright, as the e2e
test does. The first click warms the server up (model load, FluidSynth); the figure is the
median of the next clicks: the time from the click until the page's <audio> element has new
audio whose duration the browser knows. Goal: at most 1.5 s warm.
"""

from __future__ import annotations

import statistics
import time
from typing import Any

from tests.e2e.conftest import AUDIO_SRC_JS, FINISHED, NEW_AUDIO_JS, app_server, chromium_options

WARM_CLICKS = 5
GOAL_WARM_S = 1.5


def run() -> dict[str, Any]:
    from playwright.sync_api import sync_playwright

    with app_server() as server, sync_playwright() as p:
        browser = p.chromium.launch(**chromium_options())
        page = browser.new_page()
        page.set_default_timeout(120_000)
        page.goto(server.url)
        page.wait_for_selector(FINISHED)
        button = page.get_by_role("button", name="tune")
        times = []
        for _ in range(WARM_CLICKS + 1):
            old = page.evaluate(AUDIO_SRC_JS, 0)
            started = time.perf_counter()
            button.click()
            page.evaluate(NEW_AUDIO_JS, {"old": old, "index": 0})
            times.append(time.perf_counter() - started)
            page.wait_for_selector(FINISHED)
        browser.close()
    warm = statistics.median(times[1:])
    return {
        "first_click_s": round(times[0], 3),
        "warm_click_to_audio_s": round(warm, 3),
        "warm_clicks": WARM_CLICKS,
        "goal_warm_s": GOAL_WARM_S,
        "warm_within_goal": warm <= GOAL_WARM_S,
    }
