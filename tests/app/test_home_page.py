"""Home page: plain words first, a style always chosen, and a new tune that plays as MP3 with
its picture, its downloads and its share link."""

import io
import json

import soundfile
from streamlit.testing.v1 import AppTest

from tests.conftest import REPO

# Words a newcomer who came to listen should not meet before "How it works".
MACHINE_LEARNING_WORDS = ("LSTM", "neural", "baseline", "model", "train", "perplexity", "token")


def _home() -> AppTest:
    at = AppTest.from_file(str(REPO / "streamlit_app.py"), default_timeout=120)
    at.run()
    at.switch_page("app_pages/home.py").run()
    assert not at.exception
    return at


def _player_data(at: AppTest) -> dict:
    (roll,) = [e for e in at.get("bidi_component") if e.proto.component_name == "tunesmith_player"]
    return json.loads(roll.proto.json)


def test_home_speaks_plain_words_before_any_machine_learning_term(isolated_data_dir):
    at = _home()
    how_it_works = at.expander[0]
    assert how_it_works.label == "How it works"
    inside = {m.value for m in how_it_works.markdown}
    outside = [m.value for m in at.markdown if m.value not in inside]
    first = outside[0]
    assert first.startswith("Press the button") and "no music reading" in first
    words = " ".join([at.title[0].value, *outside, *(b.label for b in at.button)]).lower()
    for word in MACHINE_LEARNING_WORDS:
        assert word.lower() not in words, word
    assert "LSTM" in " ".join(inside)  # the details are still there, behind the expander
    assert not at.get("audio")  # nothing plays before the visitor asks


def test_the_style_picker_always_has_a_style(isolated_data_dir):
    from core.model.bundled import available_styles

    styles = available_styles()
    assert len(styles) >= 2, styles  # models/ ships a chorale and a folk-tune style
    at = _home()
    picker = at.segmented_control(key="home_style")
    assert list(picker.options) == [s.title for s in styles]
    assert picker.value == styles[0].title
    # the browser keeps a required choice when its chosen option is clicked again
    assert picker.proto.required
    picker.set_value(styles[1].title).run()
    at.button(key="home_play_tune").click().run()
    assert not at.exception and not at.error
    assert at.session_state["home_tune"].result.model_name == styles[1].name


def test_play_me_a_new_tune_plays_mp3_with_its_picture_and_downloads(isolated_data_dir):
    at = _home()
    button = at.button(key="home_play_tune")
    assert button.label == "Play me a new tune" and button.proto.icon == ":material/play_arrow:"
    button.click().run()
    assert not at.exception and not at.error
    tune = at.session_state["home_tune"]
    assert tune.result.piece.notes
    (audio,) = at.get("audio")
    assert audio.proto.url.endswith(".mp3")  # served as MP3: it plays in Safari and on iPhones
    data = _player_data(at)
    assert data["autoplay"] is True  # the click that asked for the tune starts it
    assert len(data["notes"]) == len(tune.result.piece.notes)
    assert data["total_s"] >= tune.result.piece.duration_s
    downloads = {d.label: d for d in at.get("download_button")}
    assert list(downloads) == ["MP3", "MIDI", "WAV"]
    assert downloads["MP3"].proto.url.endswith(".mp3")
    assert all(d.proto.icon.startswith(":material/") for d in downloads.values())
    assert at.get("page_link")  # "Make more, your way"
    # a rerun that made nothing (another style picked) shows the tune again, without replaying
    picker = at.segmented_control(key="home_style")
    picker.set_value(picker.options[1]).run()
    assert _player_data(at)["autoplay"] is False
    # a second click makes a different tune (a fresh seed)
    at.button(key="home_play_tune").click().run()
    assert at.session_state["home_tune"].result.seed != tune.result.seed
    assert "Tunesmith" in at.title[0].value  # the intro stays


def test_the_mp3_is_the_tune_heard(isolated_data_dir):
    from ui.player import view_mp3

    at = _home()
    at.button(key="home_play_tune").click().run()
    tune = at.session_state["home_tune"]
    mp3, ogg = view_mp3(tune), tune.ogg_bytes
    decoded, rate = soundfile.read(io.BytesIO(mp3), dtype="float32")
    original, original_rate = soundfile.read(io.BytesIO(ogg), dtype="float32")
    assert rate == original_rate and len(decoded) == len(original)


def test_the_picture_draws_each_note_when_the_audio_plays_it(isolated_data_dir):
    from ui.player import midi_to_roll, piece_to_roll

    at = _home()
    at.button(key="home_play_tune").click().run()
    result = at.session_state["home_tune"].result
    # the piece's grid at its tempo, and the MIDI the audio was rendered from, agree
    def by_onset_and_pitch(note: tuple[float, float, int]) -> tuple[float, int]:
        return round(note[0], 3), note[2]  # a chord's notes start together: order them by pitch

    from_piece = sorted(piece_to_roll(result.piece), key=by_onset_and_pitch)
    from_midi = sorted(midi_to_roll(result.midi_bytes), key=by_onset_and_pitch)
    assert len(from_piece) == len(from_midi) > 10
    ends_apart = 0
    for (start, end, pitch), (midi_start, midi_end, midi_pitch) in zip(
        from_piece, from_midi, strict=True
    ):
        assert pitch == midi_pitch and abs(start - midi_start) < 0.01
        # A note struck again while it still sounds is cut there in MIDI (one note-off ends
        # it): the only place the two may differ, and only in a note's end.
        ends_apart += abs(end - midi_end) >= 0.01
    assert ends_apart <= len(from_piece) // 20


def test_the_next_tune_is_made_while_this_one_plays_and_kept_only_when_asked_for(
    isolated_data_dir,
):
    from core.library import Library
    from core.model.bundled import available_styles
    from core.storage.files import workspace_dir
    from ui import home_tune, state

    at = _home()
    waiting = at.session_state[home_tune.NEXT_TUNE]  # begun on the first visit
    ahead = waiting.future.result(timeout=60)
    at.button(key="home_play_tune").click().run()
    assert not at.exception and not at.error
    tune = at.session_state["home_tune"]
    assert tune.result.seed == ahead.result.seed  # the click took the tune made ahead
    following = at.session_state[home_tune.NEXT_TUNE]
    assert following.future is not waiting.future  # the one after is on its way
    following.future.result(timeout=60)
    shelf = Library(workspace_dir(at.session_state[state.WORKSPACE_ID]))
    assert [r.id for r in shelf.pieces()] == [tune.piece_id]  # kept: the one asked for, only
    # another style: the tune made ahead for the first is dropped, one of the new style begun
    picker = at.segmented_control(key="home_style")
    picker.set_value(picker.options[1]).run()
    other = at.session_state[home_tune.NEXT_TUNE]
    assert other.model_dir == str(available_styles()[1].path)
    at.button(key="home_play_tune").click().run()
    assert at.session_state["home_tune"].result.model_name == available_styles()[1].name
