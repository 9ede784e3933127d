"""Home page: the quick demo plays a new tune from the bundled model."""

from streamlit.testing.v1 import AppTest

from tests.conftest import REPO


def test_play_me_a_new_tune_shows_an_audio_player(isolated_data_dir):
    at = AppTest.from_file(str(REPO / "streamlit_app.py"), default_timeout=120)
    at.run()
    at.switch_page("app_pages/home.py").run()
    assert not at.exception
    assert not at.get("audio")
    button = at.button(key="home_play_tune")
    assert "tune" in button.label
    button.click().run()
    assert not at.exception and not at.error
    assert len(at.get("audio")) == 1
    tune = at.session_state["home_tune"]
    assert tune.ogg_bytes[:4] == b"OggS"
    assert tune.result.piece.notes
    # a second click makes a different tune (a fresh seed)
    at.button(key="home_play_tune").click().run()
    assert at.session_state["home_tune"].result.seed != tune.result.seed
    assert "Tunesmith" in at.title[0].value  # the intro stays


def test_the_visitor_picks_the_style_of_the_tune(isolated_data_dir):
    from core.model.bundled import available_styles

    styles = available_styles()
    assert len(styles) >= 2, styles  # models/ ships a chorale and a folk-tune style
    at = AppTest.from_file(str(REPO / "streamlit_app.py"), default_timeout=120)
    at.run()
    at.switch_page("app_pages/home.py").run()
    picker = at.segmented_control(key="home_style")
    assert list(picker.options) == [s.title for s in styles]
    picker.set_value(styles[1].title).run()
    at.button(key="home_play_tune").click().run()
    assert not at.exception and not at.error
    assert at.session_state["home_tune"].result.model_name == styles[1].name
