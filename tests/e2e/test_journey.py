"""The main journeys in a real browser: open the app, ask for a new tune, hear it; judge the
bundled model's music; upload music, train a model on it, see its verdict and evaluation, play a
tune from that model.

A real `streamlit run` on a free port (waited for at /_stcore/health), driven by Playwright in
Debian's Chromium (the harness: tests/e2e/conftest.py); training is a real Keras job process. An
<audio> element whose duration is above zero proves the page received audio the browser can play;
it is served as MP3 (`audio/mpeg`), which Safari and iPhones play too.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import pytest

from tests.conftest import MUSIC_FIXTURES
from tests.e2e.conftest import AUDIO_DURATION_JS, FINISHED, RUN_TIMEOUT_MS

if TYPE_CHECKING:
    from playwright.sync_api import Locator, Page

pytestmark = pytest.mark.e2e

TRAIN_TIMEOUT_MS = 300_000
# The Content-Type the page's first <audio> is served with.
AUDIO_TYPE_JS = """async () => (await fetch(document.querySelector('audio').src))
    .headers.get('content-type')"""


def _click_and_wait_for_audio(page: Page, button: Locator) -> float:
    """Click `button`, wait for the page's <audio>, check it is MP3 in the player (beside its
    piano roll) and return its duration in seconds."""
    button.click()
    page.wait_for_selector("audio")
    page.wait_for_selector(FINISHED)
    assert page.evaluate(AUDIO_TYPE_JS) == "audio/mpeg"
    page.locator(".tsm-roll .tsm-notes rect").first.wait_for(state="attached")
    return float(page.evaluate(AUDIO_DURATION_JS, 0))


def _choose_option(page: Page, box: Locator, name: str, attempts: int = 3) -> None:
    """Open a selectbox and pick an option. On a loaded machine a rerun may close the list as
    it opens, so the list is opened again (a few times at most) until the option shows."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    for attempt in range(attempts):
        page.wait_for_selector(FINISHED)
        box.click()
        try:
            page.get_by_role("option", name=name).first.click(timeout=15_000)
            return
        except PlaywrightTimeout:
            if attempt == attempts - 1:
                raise
            page.keyboard.press("Escape")


def _open_page(page: Page, title: str) -> None:
    page.get_by_test_id("stSidebarNavItems").get_by_role("link", name=title).click()
    page.wait_for_selector(FINISHED)


def test_play_me_a_new_tune_in_the_browser(page: Page) -> None:
    button = page.get_by_role("button", name="tune")
    button.wait_for()
    assert _click_and_wait_for_audio(page, button) > 0


def test_judge_the_bundled_model_in_the_browser(page: Page) -> None:
    _open_page(page, "Evaluate")
    page.get_by_text(re.compile("^This model")).first.wait_for()  # the verdict in plain words
    page.get_by_role("button", name="Judge its music").click()
    page.get_by_text(re.compile("^Its 20 pieces")).first.wait_for()
    page.wait_for_selector(FINISHED)
    assert page.get_by_text("stay in one key").count() >= 1
    assert page.locator("[data-testid='stException']").count() == 0


def test_upload_train_and_play_my_own_model(page: Page) -> None:
    from playwright.sync_api import expect

    # Data page: upload four pieces and a broken file (refused by name, the rest kept).
    _open_page(page, "Data")
    page.get_by_role("tab", name="Upload music files").click()
    files = ["tunes.abc", "scale.mid", "triplets.mid", "tune.musicxml", "truncated.mid"]
    page.locator("input[type='file']").first.set_input_files(
        [str(MUSIC_FIXTURES / name) for name in files])
    page.get_by_role("button", name="Add to my dataset").click()
    page.locator("[data-testid^='stAlert']").filter(has_text="truncated.mid").first.wait_for()
    page.get_by_text("My dataset: 4 files").wait_for()
    page.get_by_role("button", name="Use my dataset").click()
    page.wait_for_selector(FINISHED)

    # Train page: the quick preset (fine-tuning the base model) cut to a few steps, then a real
    # training job.
    _open_page(page, "Train")
    expect(page.get_by_role("combobox", name="Music to learn from")).to_have_value(
        re.compile("chosen on the Data page"), timeout=RUN_TIMEOUT_MS)
    page.get_by_text("Advanced settings").click()
    steps = page.get_by_role("spinbutton", name="Training steps (budget)")
    steps.fill("8")
    steps.press("Enter")
    page.wait_for_selector(FINISHED)
    page.get_by_role("button", name="Start training").click()
    page.get_by_text(re.compile("^Finished")).first.wait_for(timeout=TRAIN_TIMEOUT_MS)
    page.get_by_text(re.compile("^Your model")).first.wait_for()  # the verdict in words
    page.get_by_text("Details: the figures").first.click()  # the figures behind it
    page.get_by_text("Validation perplexity").first.wait_for()
    # The live panel hands over to the whole page once the job ends; the new model's card in
    # "My models" shows that rerun is done (a click during it would be lost). Its card, not the
    # panel's "Finished: My dataset ...", which the live panel draws before that rerun.
    page.get_by_test_id("stExpander").filter(has_text="My dataset").first.wait_for()
    page.wait_for_selector(FINISHED)

    # Its full evaluation is one click away, on the Evaluate page with this model chosen.
    page.get_by_role("button", name="Hear it judged on 20 of its pieces").click()
    page.wait_for_selector(FINISHED)
    expect(page.get_by_role("combobox", name="Model to judge")).to_have_value(
        re.compile("My model"), timeout=RUN_TIMEOUT_MS)
    page.get_by_text(re.compile("^Your model")).first.wait_for()

    # Generate page: the new model is offered; a tune from it plays.
    _open_page(page, "Generate")
    page.wait_for_selector(FINISHED)
    model = page.get_by_role("combobox", name="Model")
    _choose_option(page, model, "My model")
    expect(model).to_have_value(re.compile("My model"), timeout=RUN_TIMEOUT_MS)
    page.wait_for_selector(FINISHED)
    assert _click_and_wait_for_audio(page, page.get_by_role("button", name="Generate")) > 0
