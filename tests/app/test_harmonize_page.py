"""Harmonize page: a melody file harmonized, played, engraved and downloadable; a file with
chords refused with its bar; another harmonization; chords shown and one changed; a
harmonization kept, reloaded and shared like any piece; "Harmonize it" from a library piece and
from a recording heard on Generate. The harmonizers are stand-ins (tests/app/harmony.py): these
tests are about the page."""

from __future__ import annotations

import itertools
import json
from typing import Any

import pytest
from streamlit.testing.v1 import AppTest

from core.harmonize import HarmonyStyle
from core.harmonize.keeping import is_harmonized
from core.library import Kind, Library
from core.library.published import read_copy
from core.music.midi import read_midi
from core.storage.files import workspace_dir
from tests.app import harmony
from tests.app.listen import listen_page
from tests.app.plain_words import lab_words_in_view
from tests.app.shown import shown, shown_all
from tests.conftest import REPO
from ui import generation as gen
from ui import harmonize as hz
from ui import humming, state
from ui.harmonized import RESULT, HarmonizedView

HUMMED_TUNE = REPO / "tests" / "fixtures" / "hummed_tune.wav"


def _open(page: str = "app_pages/harmonize.py") -> AppTest:
    at = AppTest.from_file(str(REPO / "streamlit_app.py"), default_timeout=120)
    at.run()
    at.switch_page(page).run()
    assert not at.exception
    return at


@pytest.fixture
def asked(isolated_data_dir, monkeypatch) -> list[tuple[str, int]]:
    return harmony.install(monkeypatch)


@pytest.fixture
def page(asked) -> AppTest:
    return _open()


def _upload(at: AppTest, data: bytes, name: str = "tune.mid") -> None:
    at.radio(key=hz.SOURCE_KEY).set_value(hz.FILE).run()
    at.get("file_uploader")[0].set_value((name, data, "audio/midi")).run()
    assert not at.exception


def _followed(at: AppTest) -> None:
    """After a click whose run opened the Harmonize page (st.switch_page): AppTest reruns the
    page it last switched to, where a browser stays on the page it now shows."""
    assert not at.exception
    assert at.title[0].value == "Harmonize"
    at.switch_page("app_pages/harmonize.py")


def _harmonize(at: AppTest, key: str = hz.GO_KEY) -> HarmonizedView:
    at.button(key=key).click().run()
    assert not at.exception and not at.error, shown_all(at.error)
    view: HarmonizedView = at.session_state[RESULT]
    return view


def _rolls(at: AppTest) -> list[dict[str, Any]]:
    return [json.loads(e.proto.json) for e in at.get("bidi_component")
            if e.proto.component_name == "tunesmith_player"]  # fmt: skip


def _types(at: AppTest) -> set[str]:
    def walk(node: Any) -> Any:
        yield node
        for child in getattr(node, "children", {}).values():
            yield from walk(child)

    return {getattr(node, "type", "") for node in walk(at._tree)}


def test_a_midi_melody_is_harmonized_played_engraved_and_downloadable(page, asked) -> None:
    _upload(page, harmony.melody_midi())
    assert "12 notes" in " ".join(shown_all(page.caption))
    view = _harmonize(page)
    assert asked == [("chorale", 0)]
    h = view.harmonization
    assert h.voices[0].notes == h.melody.notes and len(h.voices) == 4
    # each voice its own track, so each plays with its own instrument and has its own staff
    assert [i.name for i in read_midi(h.midi_bytes).instruments] == list(h.voice_names)
    audios = page.get("audio")
    assert len(audios) == 1 and audios[0].proto.url.endswith(".mp3")
    (roll,) = _rolls(page)
    assert roll["container"] == f"harmonize_play_{view.id}_player"
    assert len(roll["notes"]) == len(h.piece.notes)
    assert "imgs" in _types(page) or "image" in _types(page)  # the sheet music
    labels = [b.label for b in page.get("download_button")]
    assert labels == ["MP3", "MIDI", "MusicXML", "WAV"]
    assert not lab_words_in_view(page)


def test_a_file_with_chords_is_refused_with_its_bar(page, asked) -> None:
    _upload(page, harmony.melody_midi(chord_in_bar=2), name="with chords.mid")
    assert not page.exception
    (error,) = shown_all(page.error)
    assert error.startswith("with chords.mid") and "bar 2" in error and "chord" in error
    assert page.button(key=hz.GO_KEY).disabled
    assert RESULT not in page.session_state and asked == []


def test_another_harmonization_takes_the_next_seed_and_the_first_comes_back(page, asked) -> None:
    _upload(page, harmony.melody_midi())
    first = _harmonize(page)
    second = _harmonize(page, hz.AGAIN_KEY)
    third = _harmonize(page, hz.AGAIN_KEY)
    assert [seed for _, seed in asked] == [0, 1, 2]
    assert second.harmonization.midi_bytes != first.harmonization.midi_bytes
    assert "harmonization 3" in " ".join(shown_all(page.caption))
    again = _harmonize(page)  # "Harmonize it" starts over: the same seed, the same one
    assert again.id == first.id and third.id != first.id
    assert again.harmonization.midi_bytes == first.harmonization.midi_bytes


def test_chords_are_named_and_a_changed_chord_is_heard(page, asked) -> None:
    _upload(page, harmony.melody_midi())
    page.radio(key=hz.STYLE_KEY).set_value(HarmonyStyle.CHORDS).run()
    view = _harmonize(page)
    assert asked == [("chords", 0)]
    assert "Chords: C  G  Am" in shown_all(page.markdown)
    old_audio = page.get("audio")[0].proto.url
    page.selectbox(key=f"harmonize_chord_at_{view.id}").set_value(1).run()
    page.selectbox(key=f"harmonize_chord_name_{view.id}").set_value("F").run()
    page.button(key=f"harmonize_chord_go_{view.id}").click().run()
    assert not page.exception and not page.error, shown_all(page.error)
    changed: HarmonizedView = page.session_state[RESULT]
    assert [c.name for c in changed.harmonization.chords] == ["C", "F", "Am"]
    assert changed.harmonization.voices[0].notes == view.harmonization.voices[0].notes
    assert "Chords: C  F  Am" in shown_all(page.markdown)
    assert page.get("audio")[0].proto.url != old_audio  # played again, with the new chord
    # the same chord stays picked, ready for another try
    assert page.selectbox(key=f"harmonize_chord_at_{changed.id}").value == 1


def test_a_kept_harmonization_is_in_my_pieces_plays_again_and_is_shared(page) -> None:
    _upload(page, harmony.melody_midi())
    view = _harmonize(page)
    page.button(key=f"harmonize_keep_{view.id}").click().run()
    assert not page.exception and not page.error, shown_all(page.error)
    kept: HarmonizedView = page.session_state[RESULT]
    assert kept.piece_id and kept.title == "tune, harmonized"
    assert any("Kept in your pieces" in s for s in shown_all(page.success))
    # in the library as harmonized, its MIDI with a track per voice, read back whole
    shelf = Library(workspace_dir(page.session_state[state.WORKSPACE_ID]))
    (record,) = shelf.pieces()
    assert record.kind is Kind.HARMONIZED and record.style == "Four voices (chorale)"
    result = shelf.result(record.id)
    assert is_harmonized(result) and result.midi_bytes == view.harmonization.midi_bytes
    assert result.piece.notes == view.harmonization.piece.notes
    assert result.key_label == "C major"
    # shared like any piece: a listen-only copy, which a friend's browser plays
    page.button(key=f"harmonize_publish_{record.id}").click().run()
    assert not page.exception and not page.error, shown_all(page.error)
    published_id = shelf.get(record.id).published_id
    assert published_id and read_copy(published_id).midi_bytes == result.midi_bytes
    friend = listen_page({"p": published_id})
    assert friend.get("audio") and "tune, harmonized" in shown(friend.title[0])
    captions = " ".join(shown_all(friend.caption))
    assert "Four voices (chorale)" in captions and "model its maker trained" not in captions
    assert [b.label for b in friend.button] == ["Harmonize a tune of yours"]  # not "make one"
    # on the Generate page's list it plays; "keep bars" and "make longer" are not offered
    page.switch_page("app_pages/generate.py").run()
    assert not page.exception
    assert "tune, harmonized" in shown_all(page.subheader)
    keys = {getattr(b, "key", "") for b in page.get("button")}
    assert f"generate_harmonize_{record.id}" in keys
    assert f"generate_keepgo_{record.id}" not in keys
    assert f"generate_longergo_{record.id}" not in keys


def test_harmonize_it_on_a_library_piece_opens_with_that_piece(asked) -> None:
    at = _open("app_pages/generate.py")
    at.button(key="generate_go").click().run()
    assert not at.exception and not at.error, shown_all(at.error)
    (made,) = at.session_state[gen.HISTORY]
    at.button(key=f"generate_harmonize_{made.piece_id}").click().run()
    _followed(at)
    assert at.radio(key=hz.SOURCE_KEY).value == hz.PIECE
    assert at.selectbox(key=hz.PIECE_KEY).value == made.piece_id
    assert any("top line" in s for s in shown_all(at.caption))
    view = _harmonize(at)
    assert view.tune_id == made.piece_id
    # its top line: one note at a time, each the highest sounding at its start
    notes = view.harmonization.melody.notes
    assert all(a.end_step <= b.onset_step for a, b in itertools.pairwise(notes))


def test_a_tune_hummed_on_generate_is_harmonized(asked) -> None:
    from ui import generate_controls as controls

    at = _open("app_pages/generate.py")
    at.radio(key=controls.START_KEY).set_value(controls.START_HUM).run()
    at.get("file_uploader")[0].set_value(
        ("hummed.wav", HUMMED_TUNE.read_bytes(), "audio/wav")
    ).run()
    assert not at.exception and not at.error, shown_all(at.error)
    digest = humming.Recording(HUMMED_TUNE.read_bytes(), "hummed.wav").digest
    at.button(key=f"generate_harmonize_{digest}").click().run()
    _followed(at)
    at.run()  # the page opens on the tune and harmonizes it at once: no second click
    assert not at.exception and not at.error, shown_all(at.error)
    assert at.radio(key=hz.SOURCE_KEY).value == hz.RECORD
    assert any("This is what I heard" in s for s in shown_all(at.markdown))
    view: HarmonizedView = at.session_state[RESULT]
    assert view.tune_id == digest and view.origin == "your recording"
    assert asked == [("chorale", 0)] and at.get("audio")
    at.run()  # and only once: a rerun (any click) does not harmonize it again
    assert asked == [("chorale", 0)]
    # Generate does not continue the tune again when it is opened once more
    made = len(at.session_state[gen.HISTORY])
    at.switch_page("app_pages/generate.py").run()
    assert len(at.session_state[gen.HISTORY]) == made


def test_a_missing_chorale_model_is_said_in_words(page, monkeypatch) -> None:
    from core.errors import InvalidModelError
    from core.harmonize import service

    def broken(melody, *, style, seed=0):
        raise InvalidModelError("harmonizer: not a harmonizer model folder")

    monkeypatch.setattr(service, "harmonize", broken)
    _upload(page, harmony.melody_midi())
    page.button(key=hz.GO_KEY).click().run()
    assert not page.exception
    (error,) = shown_all(page.error)
    assert error.startswith("Four voices cannot be made") and "Chords" in error
    assert not page.button(key=hz.GO_KEY).disabled  # unlocked: try again, or the other style


def test_a_recording_made_here_is_harmonized_at_once_in_the_style_chosen(page, asked) -> None:
    page.radio(key=hz.STYLE_KEY).set_value(HarmonyStyle.CHORDS).run()
    page.get("file_uploader")[0].set_value(
        ("hummed.wav", HUMMED_TUNE.read_bytes(), "audio/wav")
    ).run()
    assert not page.exception and not page.error, shown_all(page.error)
    assert asked == [("chords", 0)]
    view: HarmonizedView = page.session_state[RESULT]
    assert view.origin == "your recording" and view.harmonization.chords
    assert page.get("audio")
