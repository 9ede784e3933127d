"""Make it yours, in a real browser: a share link opened in a fresh browser plays the same piece
(the MIDI download's hash equals the original's); a tune sung into the microphone (Chromium's
fake capture plays a checked-in recording) is heard and continued, and the continuation plays.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.conftest import FIXTURES
from tests.e2e.conftest import (
    AUDIO_DURATION_JS,
    FINISHED,
    RUN_TIMEOUT_MS,
    chromium_options,
    fake_microphone_args,
)

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

pytestmark = pytest.mark.e2e

HUMMED_TUNE = FIXTURES / "hummed_tune.wav"
RECORDING_S = 10.0  # as long as the fixture: Chromium loops the file


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """One Chromium whose microphone plays the hummed tune; each test opens its own context."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(**chromium_options(*fake_microphone_args(HUMMED_TUNE)))
        yield browser
        browser.close()


def _new_page(browser: Browser, url: str) -> Page:
    context = browser.new_context(permissions=["microphone", "clipboard-read",
                                                "clipboard-write"])
    page = context.new_page()
    page.set_default_timeout(RUN_TIMEOUT_MS)
    page.goto(url)
    page.wait_for_selector(FINISHED)
    return page


def _midi_download_hash(page: Page) -> str:
    """The hash of the first piece's MIDI download (the newest, or the shared one)."""
    with page.expect_download() as download:
        page.get_by_role("button", name="MIDI").first.click()
    path = download.value.path()
    assert download.value.suggested_filename.endswith(".mid")
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def test_a_share_link_plays_the_same_piece_in_a_fresh_browser(browser: Browser,
                                                              app_url: str) -> None:
    page = _new_page(browser, f"{app_url}/generate")
    seed = page.get_by_role("spinbutton", name="Seed")
    seed.fill("4242")
    seed.press("Enter")
    page.wait_for_selector(FINISHED)
    page.get_by_role("button", name="Generate").click()
    page.get_by_text("seed 4242").first.wait_for()
    page.wait_for_selector(FINISHED)
    original = _midi_download_hash(page)

    page.get_by_role("button", name="Copy link").first.click()
    page.get_by_text("Link copied").wait_for()
    link = page.evaluate("() => navigator.clipboard.readText()").strip()
    page.get_by_role("button", name="Show the link").first.click()
    assert page.get_by_test_id("stCode").first.inner_text().strip() == link
    assert link.startswith(f"{app_url}/generate?") and "seed=4242" in link
    assert "ws=" not in link  # the workspace never travels with a piece
    page.context.close()

    fresh = _new_page(browser, link)  # a new context: no cookies, no workspace
    fresh.get_by_text("A piece shared with you").first.wait_for()
    fresh.wait_for_selector(FINISHED)
    fresh.evaluate(AUDIO_DURATION_JS, 0)
    assert _midi_download_hash(fresh) == original

    tampered = re.sub(r"seed=4242", "seed=4243", link)
    fresh.goto(tampered)
    fresh.wait_for_selector(FINISHED)
    fresh.get_by_text("This share link cannot be played").wait_for()
    assert fresh.locator("[data-testid='stException']").count() == 0
    fresh.context.close()


def test_hum_into_the_microphone_and_hear_it_continued(browser: Browser, app_url: str) -> None:
    page = _new_page(browser, f"{app_url}/generate")
    page.get_by_text("Hum, sing or play it to me").click()
    page.wait_for_selector(FINISHED)
    page.get_by_role("button", name="Record", exact=True).click()
    page.wait_for_timeout(RECORDING_S * 1000)
    page.get_by_role("button", name="Stop recording").click()
    page.get_by_text("This is what I heard").wait_for()
    page.get_by_text("Your recent pieces").wait_for()
    page.get_by_text("continuation starts").first.wait_for()  # the seam in the piano roll
    page.wait_for_selector(FINISHED)
    assert page.locator("[data-testid='stException']").count() == 0
    # the heard tune's player, then the piece: the tune and its continuation
    heard, piece = (page.evaluate(AUDIO_DURATION_JS, i) for i in range(2))
    assert heard == pytest.approx(RECORDING_S, abs=2.0)
    assert piece > heard + 10
    page.context.close()
