"""Make it yours, in a real browser: a tune sung into the microphone (Chromium's fake capture
plays a checked-in recording) is heard, played back in the player (MP3, which Safari and iPhones
play, beside the player's piano roll, the only picture of its notes) and continued, and the
continuation plays.
"""

from __future__ import annotations

from collections.abc import Iterator
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
HEARD_PLAYER = "[class*='st-key-heard_'][class*='_player']"  # "This is what I heard"
ROLL_NOTES = ".tsm-roll .tsm-notes rect"  # the player's picture, one bar a note
# [status, Content-Type] of the first bytes of the <audio> in `where`, asked for as Safari asks
# (a range request).
AUDIO_SERVED_JS = """async (where) => {
    const audio = document.querySelector(where).querySelector('audio');
    const response = await fetch(audio.src, {headers: {Range: 'bytes=0-1'}});
    return [response.status, response.headers.get('content-type')];
}"""


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


# A recipe link replaying the same piece in a fresh browser: tests/e2e/test_library_and_listen.py.


def test_hum_into_the_microphone_and_hear_it_continued(browser: Browser, app_url: str) -> None:
    page = _new_page(browser, f"{app_url}/generate")
    page.get_by_text("Hum, sing or play it to me").click()
    page.wait_for_selector(FINISHED)
    page.get_by_role("button", name="Record", exact=True).click()
    page.wait_for_timeout(RECORDING_S * 1000)
    page.get_by_role("button", name="Stop recording").click()
    page.get_by_text("This is what I heard").wait_for()
    page.get_by_text("Your pieces").first.wait_for()
    page.get_by_text("continuation starts").first.wait_for()  # the seam in the piano roll
    page.wait_for_selector(FINISHED)
    assert page.locator("[data-testid='stException']").count() == 0
    # the heard tune's player, then the piece: the tune and its continuation
    heard, piece = (page.evaluate(AUDIO_DURATION_JS, i) for i in range(2))
    assert heard == pytest.approx(RECORDING_S, abs=2.0)
    assert piece > heard + 10
    # what it heard: MP3 in its own player, the page's first, its notes drawn beside it once
    player = page.locator(HEARD_PLAYER)
    assert player.count() == 1
    assert page.evaluate(
        "(where) => document.querySelector(where).querySelector('audio')"
        " === document.querySelectorAll('audio')[0]", HEARD_PLAYER)
    assert page.evaluate(AUDIO_SERVED_JS, HEARD_PLAYER) == [206, "audio/mpeg"]
    player.locator(ROLL_NOTES).first.wait_for(state="attached")
    assert player.locator(ROLL_NOTES).count() > 5
    assert page.locator("[data-testid='stPlotlyChart']").count() == 0
    page.context.close()
