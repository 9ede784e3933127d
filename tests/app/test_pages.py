"""AppTest smoke of every page through the router, and the Data page's main interactions."""

import pytest
from streamlit.testing.v1 import AppTest

from tests.app.shown import shown_all
from tests.app.workspaces import PAGES, upload_script
from tests.conftest import REPO


@pytest.fixture
def app(isolated_data_dir):
    at = AppTest.from_file(str(REPO / "streamlit_app.py"), default_timeout=120)
    at.run()
    return at


@pytest.mark.parametrize("page", PAGES)
def test_every_page_renders_without_error(app, page):
    app.switch_page(page).run()
    assert not app.exception
    assert app.title  # every page says what it is


def test_data_page_shows_a_preset_with_its_table_and_piano_roll(app):
    app.switch_page("app_pages/data.py").run()
    app.number_input(key="data_limit").set_value(6)
    app.button(key="data_use_preset").click().run()
    assert not app.exception and not app.error
    metrics = {m.label: m.value for m in app.metric}
    # the first six chorales, and a held-out one the base never trained on (none of the six is)
    assert metrics["Pieces"] == "7"
    assert int(metrics["Vocabulary"]) > 20
    table = app.dataframe[0].value
    assert table.shape[0] == 7 and table["split"].tolist() == ["training"] * 6 + ["validation"]
    assert any("never trained on" in c for c in app.caption.values)
    assert app.get("plotly_chart")  # the piano roll
    # the choice stays selected for the Train page
    from ui import state

    assert app.session_state[state.DATASET_SOURCES] == ["bach-chorales"]


def test_data_page_uploads_refuse_bad_files_and_keep_good_ones(music_fixture, isolated_data_dir):
    at = AppTest.from_function(upload_script, default_timeout=60)
    names = ("scale.mid", "truncated.mid", "tunes.abc", "empty.mid")
    at.session_state["files"] = [str(music_fixture(n)) for n in names]
    at.run()
    assert not at.exception
    assert [e.split(":")[0] for e in shown_all(at.error)] == ["truncated.mid", "empty.mid"]
    assert len(at.success) == 2
    assert at.session_state["accepted"] == ["scale.mid", "tunes.abc"]
    # Whoever adds their own music means to train on it: "my dataset" is now the one chosen.
    from ui import state

    assert at.session_state[state.DATASET_NAME] == "My dataset"
    [source] = at.session_state[state.DATASET_SOURCES]
    assert source.startswith(str(isolated_data_dir)) and source.endswith("/music")


def test_data_page_plays_the_selected_piece(app):
    app.switch_page("app_pages/data.py").run()
    app.number_input(key="data_limit").set_value(2)
    app.button(key="data_use_preset").click().run()
    app.toggle(key="data_listen").set_value(True).run()
    assert not app.exception
    audio = app.get("audio")
    assert audio and audio[0].proto.url  # OGG bytes handed to the browser


def test_data_page_reruns_reuse_the_built_dataset(app, monkeypatch):
    from ui import data_widgets

    calls = []
    real = data_widgets.load_sources
    monkeypatch.setattr(
        data_widgets, "load_sources", lambda *a, **k: calls.append(a) or real(*a, **k)
    )
    app.switch_page("app_pages/data.py").run()
    app.number_input(key="data_limit").set_value(3)
    app.button(key="data_use_preset").click().run()
    app.toggle(key="data_listen").set_value(False).run()  # any rerun
    assert len(calls) == 1
    app.checkbox(key="data_normalize").check().run()  # other settings: built again
    assert len(calls) == 2
    assert not app.exception


def test_the_encoding_options_stay_as_chosen_across_pages_and_reloads(app):
    from ui import data_widgets as dw
    from ui import state

    app.switch_page("app_pages/data.py").run()
    app.number_input(key="data_limit").set_value(3)
    app.button(key="data_use_preset").click().run()
    app.checkbox(key=dw.NORMALIZE_KEY).check().run()
    app.selectbox(key=dw.GRID_KEY).set_value("eighth triplet").run()
    chosen = dict(app.session_state[state.DATASET_ENCODING])
    assert chosen["normalize_key"] and chosen["steps_per_quarter"] == 3
    app.switch_page("app_pages/train.py").run()
    app.switch_page("app_pages/data.py").run()
    assert not app.exception
    assert app.checkbox(key=dw.NORMALIZE_KEY).value  # not back at its default
    assert app.selectbox(key=dw.GRID_KEY).value == "eighth triplet"
    assert dict(app.session_state[state.DATASET_ENCODING]) == chosen  # nothing changed it
    # A reload is a new session: the workspace's record of the dataset sets the options.
    reloaded = AppTest.from_file(str(REPO / "streamlit_app.py"), default_timeout=60)
    reloaded.query_params["ws"] = app.session_state[state.WORKSPACE_ID]
    reloaded.run()
    reloaded.switch_page("app_pages/data.py").run()
    assert not reloaded.exception
    assert reloaded.checkbox(key=dw.NORMALIZE_KEY).value
    assert reloaded.selectbox(key=dw.GRID_KEY).value == "eighth triplet"
