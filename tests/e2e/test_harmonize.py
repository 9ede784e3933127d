"""Harmonize in a real browser: open /harmonize, upload a small melody file, harmonize it in
either style, and get audio that plays and the sheet music; with chords, their names."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from core.music import midi_to_bytes, piece_to_midi
from core.music.piece import DEFAULT_STEPS_PER_QUARTER, Note, Piece
from tests.e2e.conftest import AUDIO_DURATION_JS, FINISHED

if TYPE_CHECKING:
    from playwright.sync_api import Page

pytestmark = pytest.mark.e2e

TUNE = (67, 67, 69, 71, 72, 71, 69, 67, 66, 67, 69, 67)  # three bars of quarters in G


def _melody_file(folder: Path) -> Path:
    spq = DEFAULT_STEPS_PER_QUARTER
    notes = tuple(Note(i * spq, pitch, spq) for i, pitch in enumerate(TUNE))
    path = folder / "my tune.mid"
    path.write_bytes(midi_to_bytes(piece_to_midi(Piece("my tune", notes, meter="4/4"))))
    return path


@pytest.mark.parametrize(
    "style", ["Four voices, like a Bach chorale", "Chords and an accompaniment (folk)"]
)
def test_a_melody_file_is_harmonized_played_and_engraved(
    page: Page, app_url: str, tmp_path: Path, style: str
) -> None:
    nav = page.get_by_test_id("stSidebarNavItems").get_by_role("link", name="Harmonize")
    assert nav.count() == 1
    page.goto(f"{app_url}/harmonize")
    page.wait_for_selector(FINISHED)
    page.get_by_text("A music file").click()
    page.get_by_text("Your tune as a MIDI").wait_for()  # the music file's uploader, not audio's
    page.wait_for_selector(FINISHED)
    page.locator("input[type='file']").first.set_input_files(str(_melody_file(tmp_path)))
    page.get_by_text("12 notes").wait_for()
    page.wait_for_selector(FINISHED)
    from playwright.sync_api import expect

    page.get_by_text(style).click()
    # the choice is seen taken before Harmonize is pressed: CI once harmonized in the other
    # style (no chord names) when the click came while the page still ran
    expect(page.get_by_role("radio", name=style)).to_be_checked()
    page.wait_for_selector(FINISHED)
    page.get_by_role("button", name="Harmonize it").click()
    page.get_by_text("Your tune, harmonized").wait_for()
    page.wait_for_selector(FINISHED)
    assert page.locator("[data-testid='stAlert']").filter(has_text="Traceback").count() == 0
    assert page.evaluate(AUDIO_DURATION_JS, 0) > 3.0  # the tune lasts 6 s at 120 BPM
    score = page.locator("[data-testid='stImage'] img").first
    score.wait_for()
    assert score.evaluate("(img) => img.complete && img.naturalWidth > 0")
    if style.startswith("Chords"):
        page.get_by_text("Chords:").first.wait_for()
        page.get_by_role("button", name="Hear it with this chord").wait_for()
        assert page.get_by_role("button", name="Hear it with this chord").count() == 1
    for label in ("MP3", "MIDI", "MusicXML"):
        assert page.get_by_role("button", name=label, exact=True).count() == 1
