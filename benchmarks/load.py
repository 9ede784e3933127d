"""Load benchmark: N browser sessions at once, each pressing "Play me a new tune".

One real `streamlit run` on loopback and one Chromium with N separate contexts (sessions). Every
session opens the app; then all press the button at the same moment, and each waits for its own
playable audio. N grows through `SESSIONS` until a session needs more than `GOAL_S`; the figure
is the largest N at which every session got audio within it, with the server's memory per
session (resident memory after the sessions, less before, over N). Opt-in: it drives dozens of
pages, a minute or two on this 2-core machine, which also runs the browser.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from tests.e2e.conftest import (
    AUDIO_SRC_JS,
    FINISHED,
    NEW_AUDIO_JS,
    Server,
    app_server,
    chromium_options,
)

SESSIONS = (1, 2, 5, 10, 15, 20)
GOAL_S = 5.0
GOAL_SESSIONS = 10
PAGE_TIMEOUT_MS = 120_000


async def _round(server: Server, browser: Any, sessions: int) -> list[float]:
    """Seconds from the click to audio, for each of `sessions` sessions clicking at once."""
    contexts = [await browser.new_context() for _ in range(sessions)]
    pages = [await c.new_page() for c in contexts]
    for page in pages:
        page.set_default_timeout(PAGE_TIMEOUT_MS)
    await asyncio.gather(*(p.goto(server.url) for p in pages))
    await asyncio.gather(*(p.wait_for_selector(FINISHED) for p in pages))

    async def click(page: Any) -> float:
        old = await page.evaluate(AUDIO_SRC_JS, 0)
        started = time.perf_counter()
        await page.get_by_role("button", name="tune").click()
        await page.evaluate(NEW_AUDIO_JS, {"old": old, "index": 0})
        return time.perf_counter() - started

    try:
        return list(await asyncio.gather(*(click(p) for p in pages)))
    finally:
        for context in contexts:
            await context.close()


async def _measure() -> dict[str, Any]:
    from playwright.async_api import async_playwright

    figures: dict[str, Any] = {}
    with app_server() as server:
        async with async_playwright() as p:
            browser = await p.chromium.launch(**chromium_options())
            await _round(server, browser, 1)  # warm the server up (model load, FluidSynth)
            best = 0
            for sessions in SESSIONS:
                before = server.rss_mb()
                times = await _round(server, browser, sessions)
                grown = server.rss_mb() - before
                figures[f"sessions_{sessions}_slowest_s"] = round(max(times), 2)
                figures[f"sessions_{sessions}_median_s"] = round(sorted(times)[len(times) // 2], 2)
                figures[f"sessions_{sessions}_server_mb_per_session"] = round(grown / sessions, 1)
                if max(times) > GOAL_S:
                    break
                best = sessions
            figures["server_rss_mb"] = round(server.rss_mb(), 1)
            await browser.close()
    figures["largest_sessions_within_goal"] = best
    figures["goal"] = f">= {GOAL_SESSIONS} sessions, each with audio within {GOAL_S:g} s"
    return figures


def run() -> dict[str, Any]:
    return asyncio.run(_measure())
