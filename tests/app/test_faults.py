"""Every page walked with faulty state and a broken data directory: no page ever raises.

Each case is made here: a workspace holding a broken model, unreadable job and dataset files,
and a file whose name is Markdown and HTML; a data directory that cannot be created; one that
is deleted while the session uses it.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from core import jobs
from core.data.user_music import NAMES_FILE
from core.storage.files import new_workspace_id, workspace_dir
from tests.app.shown import shown_all
from tests.app.workspaces import PAGES, save_broken_model, upload_script
from tests.conftest import MUSIC_FIXTURES, REPO

EVIL = "[click me](https:evil.example) <img src=x onerror=alert(1)> **bold**.mid"
UNESCAPED = re.compile(r"(?<!\\)\[click me|(?<!\\)<img|(?<!\\)\*\*bold")  # would render


def _app(workspace_id: str | None = None) -> AppTest:
    at = AppTest.from_file(str(REPO / "streamlit_app.py"), default_timeout=120)
    if workspace_id:
        at.query_params["ws"] = workspace_id
    return at.run()


def _hostile_workspace() -> str:
    ws = new_workspace_id()
    workspace = workspace_dir(ws)
    save_broken_model(workspace)
    music = workspace / "music"
    music.mkdir()
    shutil.copy(MUSIC_FIXTURES / "scale.mid", music / "0123456789abcdef.mid")
    (music / NAMES_FILE).write_text(json.dumps({"0123456789abcdef.mid": EVIL}))
    (workspace / "dataset.json").write_text("{not json")
    job = jobs.job_dir(workspace, "00000000000000ff")
    job.mkdir(parents=True)
    (job / jobs.STATUS_FILE).write_text('{"state": 42}')
    (job / jobs.REQUEST_FILE).write_text("[]")
    return ws


def _rendered_markdown(at: AppTest) -> list[str]:
    return [str(m.value) for m in at.markdown] + [str(e.value) for e in at.error]


def test_every_page_survives_a_hostile_workspace(isolated_data_dir):
    ws = _hostile_workspace()
    at = _app(ws)
    for page in PAGES:
        at.switch_page(page).run()
        assert not at.exception, page
        for text in _rendered_markdown(at):  # user text is escaped, never a link or HTML
            assert not UNESCAPED.search(text), (page, text)
    at.switch_page("app_pages/data.py").run()
    listed = " ".join(m for m in shown_all(at.markdown))
    assert EVIL in listed  # shown as the user named it
    at.switch_page("app_pages/train.py").run()
    assert any("Broken" in e for e in shown_all(at.error))
    at.button(key="train_model_Broken_delete_broken").click().run()
    assert not at.exception
    assert not (workspace_dir(ws) / "models" / "Broken").exists()


def test_every_page_survives_a_data_directory_that_cannot_be_made(tmp_path, monkeypatch):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("TUNESMITH_DATA_DIR", str(blocker / "data"))
    at = _app()
    for page in PAGES:
        at.switch_page(page).run()
        assert not at.exception, page
    at.switch_page("app_pages/data.py").run()
    opened = "Your space cannot be opened: the server's storage"
    assert any(e.startswith(opened) for e in shown_all(at.error))
    at.switch_page("app_pages/home.py").run()  # what needs no storage still works
    at.button(key="home_play_tune").click().run()
    assert not at.exception
    assert at.get("audio")


def test_every_page_survives_the_data_directory_deleted_in_use(isolated_data_dir):
    ws = new_workspace_id()
    at = _app(ws)
    at.switch_page("app_pages/data.py").run()
    at.number_input(key="data_limit").set_value(2)
    at.button(key="data_use_preset").click().run()
    assert not at.exception
    shutil.rmtree(isolated_data_dir)
    for page in PAGES:
        at.switch_page(page).run()
        assert not at.exception, page
    assert Path(isolated_data_dir).is_dir()  # made again; the session goes on


@pytest.mark.parametrize("count", [3])
def test_a_batch_over_the_file_limit_names_each_file_left_out(isolated_data_dir, monkeypatch,
                                                              count):
    monkeypatch.setenv("TUNESMITH_MAX_FILES_PER_BATCH", str(count - 1))
    at = AppTest.from_function(upload_script, default_timeout=60)
    at.session_state["files"] = [str(MUSIC_FIXTURES / n)
                                 for n in ("scale.mid", "tunes.abc", "triplets.mid")][:count]
    at.run()
    assert not at.exception
    assert len(at.success) == count - 1
    assert shown_all(at.error) == [
        "triplets.mid: not added, one batch holds at most 2 files; add it in another batch"
    ]

