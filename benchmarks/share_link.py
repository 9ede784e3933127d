"""Share link benchmark: a friend opens a shared piece in a fresh browser, on a warm server.

A real `streamlit run` on a free port and Debian's Chromium driven by Playwright, as the e2e
tests do. The server is warmed first (the bundled models loaded, FluidSynth started, one link
of each kind opened). Then each round opens a link in a new browser context (no cookies, no
cache) and times, from `goto`:

- `audio`: until the page's <audio> holds audio whose duration the browser knows (playable);
- `settled`: until the run is finished with the piano roll shown (nothing left to arrive).

Two kinds of link, each with pieces of its own every round (nothing cached for that piece):
a published piece (`/listen?p=<id>`: its stored copy is read) and a bundled model's recipe link
(`/listen?v=2&model=…`: the piece is made again from its recipe, then rendered). The figures
are medians over `ROUNDS`. Goal: playable audio within 2 s, settled within 3 s.
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from tests.e2e.conftest import AUDIO_DURATION_JS, FINISHED, app_server, chromium_options

ROUNDS = 5
GOAL_AUDIO_S = 2.0
GOAL_SETTLED_S = 3.0
PIECE_SECONDS = 20.0  # the Generate page's default length
PAGE_TIMEOUT_MS = 120_000
FIRST_SEED = 9_000  # every link of the benchmark names a piece of its own
ROLL = "[data-testid='stImage'] img"  # the piano roll, a picture


def _settings() -> Any:
    from core.generation import creativity_to_settings

    return creativity_to_settings(0.5, length_tokens=None, length_s=PIECE_SECONDS,
                                  tempo_bpm=100.0)  # fmt: skip


def _published_link(base_url: str, seed: int) -> str:
    """A piece made, kept and published in a workspace of the server's data directory."""
    from core.generation import Generator
    from core.library import Kind, Library
    from core.model.bundled import STYLES
    from core.storage import new_workspace_id, workspace_dir

    style = STYLES["folk-tunes"]
    result = Generator.from_folder(style.path).generate(_settings(), seed=seed)
    library = Library(workspace_dir(new_workspace_id()))
    record = library.add(result, kind=Kind.NEW, style=style.title, style_name=style.name)
    published = library.publish(record.id).published_id
    return f"{base_url}/listen?p={published}"


def _recipe_link(base_url: str, seed: int) -> str:
    from core.generation import PieceRecipe, recipe_to_link

    return recipe_to_link(PieceRecipe("folk-tunes", seed, _settings()), f"{base_url}/listen")


def _open(browser: Any, link: str) -> tuple[float, float]:
    """(seconds to playable audio, seconds to a settled page) in a fresh context."""
    context = browser.new_context()
    try:
        page = context.new_page()
        page.set_default_timeout(PAGE_TIMEOUT_MS)
        started = time.perf_counter()
        page.goto(link)
        page.evaluate(AUDIO_DURATION_JS, 0)
        audio = time.perf_counter() - started
        page.wait_for_selector(ROLL)
        page.wait_for_selector(FINISHED)
        settled = time.perf_counter() - started
        if page.locator("[data-testid='stException']").count():
            raise RuntimeError(f"the page of {link} shows an exception")
        return audio, settled
    finally:
        context.close()


def run() -> dict[str, Any]:
    from playwright.sync_api import sync_playwright

    figures: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as data:
        # The links are made here with the server's own data directory: its signing key and
        # its published copies.
        previous = os.environ.get("TUNESMITH_DATA_DIR")
        os.environ["TUNESMITH_DATA_DIR"] = data
        try:
            with app_server(data_dir=Path(data)) as server, sync_playwright() as p:
                browser = p.chromium.launch(**chromium_options())
                makers = {"published": _published_link, "recipe": _recipe_link}
                for _kind, make in makers.items():  # warm: models, FluidSynth, the page's code
                    _open(browser, make(server.url, FIRST_SEED - 1))
                for kind, make in makers.items():
                    times = [
                        _open(browser, make(server.url, FIRST_SEED + i)) for i in range(ROUNDS)
                    ]
                    audio = statistics.median(t[0] for t in times)
                    settled = statistics.median(t[1] for t in times)
                    figures[f"{kind}_audio_s"] = round(audio, 2)
                    figures[f"{kind}_settled_s"] = round(settled, 2)
                    figures[f"{kind}_slowest_settled_s"] = round(max(t[1] for t in times), 2)
                    figures[f"{kind}_within_goal"] = (
                        audio <= GOAL_AUDIO_S and settled <= GOAL_SETTLED_S
                    )
                browser.close()
        finally:
            if previous is None:
                os.environ.pop("TUNESMITH_DATA_DIR", None)
            else:
                os.environ["TUNESMITH_DATA_DIR"] = previous
    figures["rounds"] = ROUNDS
    figures["goal"] = f"audio within {GOAL_AUDIO_S:g} s, settled within {GOAL_SETTLED_S:g} s"
    return figures
