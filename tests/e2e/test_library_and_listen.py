"""Your pieces and the listen page, in a real browser at laptop and phone sizes: a piece made on
Generate is kept across a reload, renamed, deleted and brought back; Generate is locked while it
works and extra clicks make nothing more; on a phone the new piece scrolls into view; a shared
piece opens in a fresh browser with its title and playable audio and nothing of the workspace;
when sharing stops, the link says so; one's own link opened on Home keeps its space on
every page. A bundled model's recipe link (and an old one to
/generate) opens the listen page with the same MIDI, byte for byte; a changed one says so.
Every piece plays in the player (ui.player): its <audio> is served as MP3, in the ranges Safari
asks for, beside the player's piano roll, the page's only one; the MP3 is a download too.
"""

from __future__ import annotations

import hashlib
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from core.library.published import STOPPED
from tests.e2e.conftest import (
    AUDIO_DURATION_JS,
    FINISHED,
    RUN_TIMEOUT_MS,
    app_server,
)

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Locator, Page

pytestmark = pytest.mark.e2e

SIZES = {"laptop": {"width": 1366, "height": 800}, "phone": {"width": 390, "height": 844}}
PIECE = "[class*='st-key-generate_piece_']"  # one card of "Your pieces"
ROLL_NOTES = ".tsm-roll .tsm-notes rect"  # the player's picture, one bar a note
# [status, Content-Type] of the first bytes of the page's index-th <audio>, asked for as Safari
# asks (a range request).
AUDIO_SERVED_JS = """async (index) => {
    const audio = document.querySelectorAll('audio')[index];
    const response = await fetch(audio.src, {headers: {Range: 'bytes=0-1'}});
    return [response.status, response.headers.get('content-type')];
}"""
WORKSPACE_ID = re.compile(r"ws=([0-9a-f]{32})")


@pytest.fixture(scope="module")
def app_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A server of this module's own whose data directory this process uses too: the recipe
    links made here are signed with the server's key."""
    data = tmp_path_factory.mktemp("data")
    log = tmp_path_factory.mktemp("logs") / "streamlit.log"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("TUNESMITH_DATA_DIR", str(data))
        with app_server(data_dir=data, log=log) as server:
            yield server.url


def _open(browser: Browser, url: str, size: str) -> Page:
    context = browser.new_context(viewport=SIZES[size])  # no cookies, no cache, no workspace
    page = context.new_page()
    page.set_default_timeout(RUN_TIMEOUT_MS)
    page.goto(url)
    page.wait_for_selector(FINISHED)
    return page


def _titles(page: Page) -> list[str]:
    return [t.strip() for t in page.locator(f"{PIECE} h3").all_inner_texts()]


def _generate_button(page: Page) -> Locator:
    return page.locator(".st-key-generate_go button")


def _plays_mp3_in_the_player(page: Page, where: str = "body") -> None:
    """The first <audio> in `where` is served as MP3, in ranges, and plays; the player's roll
    is drawn beside it, and no other roll (plotly chart, picture) is."""
    scope = page.locator(where).first
    scope.locator(ROLL_NOTES).first.wait_for(state="attached")
    assert scope.locator(ROLL_NOTES).count() > 3
    index = page.evaluate(
        "(where) => [...document.querySelectorAll('audio')]"
        ".indexOf(document.querySelector(where).querySelector('audio'))",
        where,
    )
    assert index >= 0
    assert page.evaluate(AUDIO_SERVED_JS, index) == [206, "audio/mpeg"]
    assert page.evaluate(AUDIO_DURATION_JS, index) > 1
    assert scope.locator("[data-testid='stPlotlyChart'], [data-testid='stImage']").count() == 0


def _settled(page: Page) -> None:
    page.wait_for_selector(FINISHED)
    page.wait_for_timeout(300)  # a rerun the run asked for (the lock's unlock) starts
    page.wait_for_selector(FINISHED)


@pytest.mark.parametrize("size", list(SIZES))
def test_keep_rename_delete_share_and_stop_sharing(browser: Browser, app_url: str,
                                                   size: str) -> None:
    page = _open(browser, f"{app_url}/generate", size)
    button = _generate_button(page)

    # Generate is locked while it works; two more clicks meanwhile make nothing more.
    button.click()
    page.wait_for_function(
        "() => document.querySelector('.st-key-generate_go button').disabled", timeout=10_000
    )
    button.click(force=True)  # a click on the locked button, as an impatient visitor makes
    button.click(force=True)
    page.locator(PIECE).first.wait_for()
    _settled(page)
    assert not button.is_disabled()
    time.sleep(1.0)
    _settled(page)
    (title,) = _titles(page)
    if size == "phone":  # the new piece is in view, not below the fold
        top = page.locator(PIECE).first.bounding_box()
        assert top is not None and -10 <= top["y"] <= SIZES[size]["height"] * 0.5, top
    _plays_mp3_in_the_player(page, PIECE)

    ws = WORKSPACE_ID.search(page.url)
    assert ws, page.url
    page.reload()
    page.wait_for_selector(FINISHED)
    page.locator(PIECE).first.wait_for()
    assert _titles(page) == [title]  # kept across a reload

    # Rename; the name stays after a reload.
    card = page.locator(PIECE).first
    card.get_by_role("button", name="Rename").click()
    name = page.get_by_role("textbox", name="New name")
    name.fill("Song for Ana")
    page.get_by_role("button", name="Save the name").click()
    page.get_by_role("heading", name="Song for Ana").wait_for()
    _settled(page)
    page.keyboard.press("Escape")

    # Delete, then undo.
    page.locator(PIECE).first.get_by_role("button", name="Delete").click()
    page.get_by_text("“Song for Ana” is in the trash.").wait_for()
    _settled(page)
    assert _titles(page) == []
    page.get_by_role("button", name="Undo").click()
    page.get_by_role("heading", name="Song for Ana").wait_for()
    _settled(page)

    # Share: a link to a listen-only copy, with nothing of the workspace in it.
    page.locator(PIECE).first.get_by_role("button", name="Share").click()
    page.get_by_role("button", name="Make a share link").click()
    code = page.get_by_test_id("stCode").filter(has_text="/listen?p=")
    code.wait_for()
    link = code.inner_text().strip()
    assert link.startswith(f"{app_url}/listen?p=") and ws.group(1) not in link
    _settled(page)

    friend = _open(browser, link, size)
    friend.get_by_role("heading", name="Song for Ana").wait_for()
    assert friend.evaluate(AUDIO_DURATION_JS, 0) > 5
    _plays_mp3_in_the_player(friend)
    assert ws.group(1) not in friend.content() and ws.group(1) not in friend.url
    assert "ws=" not in friend.url
    assert friend.locator("[data-testid='stException']").count() == 0
    friend.context.close()

    # Stop sharing: the link says so, in a sentence.
    page.get_by_role("button", name="Stop sharing").click()
    page.get_by_role("button", name="Make a share link").wait_for()
    _settled(page)
    later = _open(browser, link, size)
    later.get_by_text(STOPPED).wait_for()
    assert later.locator("audio").count() == 0
    assert later.locator("[data-testid='stException']").count() == 0
    later.context.close()
    page.context.close()


def test_ones_own_link_opened_on_home_keeps_its_space_on_every_page(
    browser: Browser, app_url: str
) -> None:
    page = _open(browser, f"{app_url}/generate", "laptop")
    _generate_button(page).click()
    page.locator(PIECE).first.wait_for()
    _settled(page)
    (title,) = _titles(page)
    ws = WORKSPACE_ID.search(page.url)
    assert ws, page.url
    page.context.close()

    # The link on another device, opened on Home; the menu's page switch drops the URL's query.
    later = _open(browser, f"{app_url}/?ws={ws.group(1)}", "laptop")
    later.get_by_test_id("stSidebarNavItems").get_by_role("link", name="Generate").click()
    later.locator(PIECE).first.wait_for()
    _settled(later)
    assert _titles(later) == [title]
    assert WORKSPACE_ID.search(later.url).group(1) == ws.group(1)  # type: ignore[union-attr]
    later.context.close()


def _download(page: Page, label: str) -> tuple[bytes, str]:
    """(the bytes, the file name) of the page's first download labelled `label`."""
    with page.expect_download() as download:
        page.get_by_role("button", name=label, exact=True).first.click()
    return Path(download.value.path()).read_bytes(), download.value.suggested_filename


def test_a_recipe_link_plays_the_same_piece_on_the_listen_page(browser: Browser,
                                                               app_url: str) -> None:
    from core.generation import Generator, PieceRecipe, creativity_to_settings, recipe_to_link
    from core.library import key_of, piece_title, title_to_stem
    from core.model.bundled import STYLES

    settings = creativity_to_settings(0.5, length_tokens=None, length_s=12.0, tempo_bpm=100.0)
    result = Generator.from_folder(STYLES["folk-tunes"].path).generate(settings, seed=4242)
    recipe = PieceRecipe.of(result)
    title = piece_title(seed=4242, style="folk-tunes", key=key_of(result), meter=result.piece.meter)
    for page_path in ("listen", "generate"):  # an old link to /generate opens the listen page
        link = recipe_to_link(recipe, f"{app_url}/{page_path}")
        friend = _open(browser, link, "phone")
        friend.get_by_role("heading", name=title).wait_for()
        assert "/listen?" in friend.url
        assert friend.evaluate(AUDIO_DURATION_JS, 0) > 5
        _plays_mp3_in_the_player(friend)
        midi, name = _download(friend, "MIDI")
        assert hashlib.sha256(midi).hexdigest() == hashlib.sha256(result.midi_bytes).hexdigest()
        assert name == f"{title_to_stem(title)}.mid"
        mp3, name = _download(friend, "MP3")
        assert name == f"{title_to_stem(title)}.mp3"
        assert mp3[:3] == b"ID3" or mp3[0] == 0xFF  # an ID3 tag or an MPEG frame's sync
        friend.context.close()
    changed = _open(browser, link.replace("seed=4242", "seed=4243"), "laptop")
    changed.get_by_text("This share link cannot be played").wait_for()
    assert changed.locator("audio").count() == 0
    assert changed.locator("[data-testid='stException']").count() == 0
    changed.context.close()
