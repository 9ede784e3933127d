"""Evaluate in a real browser on a phone-sized screen: the first sentence in words, the button
locked and a bar saying which piece it is on while 20 pieces are judged, a copied passage and
its source each in the player (MP3, which Safari and iPhones play, beside its piano roll), and
charts without a toolbar over them.

The harness is tests/e2e/conftest.py (a real `streamlit run`, Debian's Chromium).
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

import pytest

from tests.e2e.conftest import FINISHED, RUN_TIMEOUT_MS, chromium_options

if TYPE_CHECKING:
    from collections.abc import Iterator

    from playwright.sync_api import Page

pytestmark = pytest.mark.e2e

PHONE = {"width": 390, "height": 844}
# The players of the copied passage and of the music it comes from (ui.evaluation's keys).
COPY_PLAYERS = (".st-key-evaluate_copy_its_player", ".st-key-evaluate_copy_learned_player")
ROLL_NOTES = ".tsm-roll .tsm-notes rect"  # the player's picture, one bar a note
# [status, Content-Type, duration s] of the <audio> in the element `where`: its first bytes
# asked for as Safari asks (a range request), and its duration once the browser knows it.
PLAYER_AUDIO_JS = """async (where) => {
    const audio = document.querySelector(where).querySelector('audio');
    const response = await fetch(audio.src, {headers: {Range: 'bytes=0-1'}});
    const deadline = Date.now() + 60000;
    while (!(audio.readyState >= 1 && audio.duration > 0) && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 50));
    }
    return [response.status, response.headers.get('content-type'), audio.duration || 0];
}"""


@pytest.fixture
def phone(app_url: str) -> Iterator[Page]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(**chromium_options())
        try:
            page = browser.new_page(viewport=PHONE)
            page.set_default_timeout(RUN_TIMEOUT_MS)
            page.goto(f"{app_url}/evaluate")
            page.wait_for_selector(FINISHED)
            yield page
        finally:
            browser.close()


def test_judging_on_a_phone_says_how_far_it_is_and_cannot_be_started_twice(phone: Page) -> None:
    from playwright.sync_api import expect

    page = phone
    page.get_by_text("This model has learned its music").wait_for()
    button = page.get_by_role("button", name="Judge its music")
    started = time.perf_counter()
    button.click()
    page.get_by_text("Judging piece").first.wait_for()
    expect(button).to_be_disabled()  # locked while it runs
    page.get_by_text("Its 20 pieces").wait_for()
    page.wait_for_selector(FINISHED)
    judged_s = time.perf_counter() - started
    expect(button).to_be_enabled()
    print(f"20 pieces judged in the browser in {judged_s:.1f} s")
    # its passage closest to the music it learned, and that music, each in its own player
    page.get_by_text("Its passages closest to the music it learned").wait_for()
    assert page.locator("[class*='st-key-evaluate_copy_'] audio").count() == 2
    for where in COPY_PLAYERS:
        player = page.locator(where)
        player.locator(ROLL_NOTES).first.wait_for(state="attached")
        assert player.locator(ROLL_NOTES).count() >= 2 and player.locator("audio").count() == 1
        status, content_type, duration_s = page.evaluate(PLAYER_AUDIO_JS, where)
        assert (status, content_type) == (206, "audio/mpeg") and duration_s > 0.5
    # the figures are behind "details"; their charts have no toolbar over them
    page.get_by_text("Details: the figures behind these words").click()
    page.locator(".js-plotly-plot").first.wait_for()
    assert page.locator(".js-plotly-plot").count() >= 4
    assert page.locator(".modebar-container .modebar").count() == 0
    assert page.locator("[data-testid='stException']").count() == 0
