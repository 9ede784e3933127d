"""Generate page: model choice, controls, variations, history, refusals."""

import pytest
from streamlit.testing.v1 import AppTest

from tests.app.shown import shown
from tests.conftest import REPO
from ui import generate_controls as controls
from ui import generation as gen


@pytest.fixture
def page(isolated_data_dir):
    at = AppTest.from_file(str(REPO / "streamlit_app.py"), default_timeout=120)
    at.run()
    at.switch_page("app_pages/generate.py").run()
    assert not at.exception
    return at


def test_generate_two_variations_shows_players_and_downloads(page):
    page.select_slider(key=controls.CREATIVITY_KEY).set_value("Calm")
    page.slider(key=controls.LENGTH_KEY).set_value(6)
    page.slider(key=controls.VARIATIONS_KEY).set_value(2)
    page.selectbox(key=controls.INSTRUMENT_KEY).set_value("Flute")
    page.number_input(key=controls.SEED_KEY).set_value(1234)
    page.button(key="generate_go").click().run()
    assert not page.exception and not page.error
    history = page.session_state[gen.HISTORY]
    assert [v.result.seed for v in history] == [1234, 1235]
    assert all(v.result.settings.program == 73 for v in history)
    assert len(page.get("audio")) == 2
    assert len(page.get("plotly_chart")) == 2
    labels = [b.label for b in page.get("download_button")]
    assert labels.count("MIDI") == 2 and labels.count("MusicXML") == 2


def test_same_seed_same_piece_and_surprise_me_changes_the_seed(page):
    page.slider(key=controls.LENGTH_KEY).set_value(5)
    page.number_input(key=controls.SEED_KEY).set_value(77)
    page.button(key="generate_go").click().run()
    page.button(key="generate_go").click().run()
    first, second = page.session_state[gen.HISTORY][:2]
    assert first.result.midi_bytes == second.result.midi_bytes
    page.button(key="generate_surprise").click().run()
    assert page.number_input(key=controls.SEED_KEY).value != 77


def test_sheet_music_toggle_shows_the_score(page):
    page.slider(key=controls.LENGTH_KEY).set_value(5)
    page.button(key="generate_go").click().run()
    view = page.session_state[gen.HISTORY][0]
    page.toggle(key=f"generate_score_{view.id}").set_value(True).run()
    assert not page.exception and not page.error
    types = {getattr(node, "type", "") for node in _walk(page._tree)}
    assert "imgs" in types or "image" in types, types


def _walk(node):
    yield node
    for child in getattr(node, "children", {}).values():
        yield from _walk(child)


def test_excerpt_primer_starts_the_piece_with_training_music(page):
    page.radio(key=controls.START_KEY).set_value(controls.START_EXCERPT)
    page.slider(key=controls.LENGTH_KEY).set_value(5)
    page.button(key="generate_go").click().run()
    assert not page.exception and not page.error
    page.number_input(key=controls.SEED_KEY).set_value(5)
    page.button(key="generate_go").click().run()
    page.button(key="generate_go").click().run()
    first, second = page.session_state[gen.HISTORY][:2]
    assert first.result.primer_length > 0
    assert first.result.tokens == second.result.tokens  # the same seed picks the same snippet


def test_my_own_tune_without_a_file_says_so(page):
    page.radio(key=controls.START_KEY).set_value(controls.START_MY_TUNE)
    page.button(key="generate_go").click().run()
    assert page.error and "no tune chosen" in shown(page.error[0])


def test_a_broken_model_in_my_models_is_reported_with_its_name(page):
    from core.storage.files import workspace_dir
    from ui import state

    ws_id = page.session_state[state.WORKSPACE_ID]
    broken = workspace_dir(ws_id) / "models" / "broken"
    broken.mkdir(parents=True)
    for name in ("model.keras", "encoding.json", "vocab.json", "config.json"):
        (broken / name).write_text("{}")
    (broken / "config.json").write_text('{"model": {}}')
    page.run()
    labels = page.selectbox(key=controls.MODEL_KEY).options
    assert any("broken" in label for label in labels)
    page.selectbox(key=controls.MODEL_KEY).set_value("My model: broken").run()
    assert page.error and shown(page.error[0]).startswith("broken:")


def test_the_tempo_starts_at_the_tempo_of_the_music_my_model_learned(page):
    import shutil

    from core.data.datasets import MusicSummary
    from core.model.bundled import STYLES
    from core.model.model_data import write_music_summary
    from core.storage.files import workspace_dir
    from ui import state

    assert page.slider(key=controls.TEMPO_KEY).value == 100  # a bundled model: no record
    mine = workspace_dir(page.session_state[state.WORKSPACE_ID]) / "models" / "slow tunes"
    shutil.copytree(STYLES["folk-tunes"].path, mine)
    write_music_summary(mine, MusicSummary(tempo_bpm=84.0, chord_onset_share=0.0,
                                           max_notes_per_onset=1, pitch_low=62, pitch_high=79,
                                           pieces=20))
    page.run()
    options = page.selectbox(key=controls.MODEL_KEY).options
    label = next(o for o in options if o.startswith("My model: slow tunes"))
    page.selectbox(key=controls.MODEL_KEY).set_value(label).run()
    assert page.slider(key=controls.TEMPO_KEY).value == 84
    assert page.toggle(key=controls.FOLLOW_KEY).value
    page.slider(key=controls.LENGTH_KEY).set_value(6)
    page.button(key="generate_go").click().run()
    assert not page.exception and not page.error
    result = page.session_state[gen.HISTORY][0].result
    assert result.piece.tempo_bpm == 84.0 and result.one_line
    assert result.settings.follow_training_music
    page.selectbox(key=controls.MODEL_KEY).set_value(options[0]).run()
    assert page.slider(key=controls.TEMPO_KEY).value == 100
