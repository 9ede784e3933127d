"""Your pieces, on the Generate page: every piece made is kept across reloads and tabs (and the
Home tune with them), renamed, deleted with undo, kept within the library's limits with the
oldest offered for removal, and a deleted piece's share link pauses until it is brought back."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from core.library import Library
from core.library.published import STOPPED, read_copy
from core.storage.files import workspace_dir
from tests.app.shown import shown, shown_all
from tests.conftest import REPO
from ui import generate_controls as controls
from ui import generation as gen
from ui import library, state
from ui.text import plain


def _open(page: str = "app_pages/generate.py", ws: str | None = None) -> AppTest:
    at = AppTest.from_file(str(REPO / "streamlit_app.py"), default_timeout=120)
    if ws:
        at.query_params["ws"] = ws
    at.run()
    at.switch_page(page).run()
    assert not at.exception
    return at


def _generate(at: AppTest, times: int = 1) -> list[gen.GenerationView]:
    at.slider(key=controls.LENGTH_KEY).set_value(5)
    for _ in range(times):
        at.button(key="generate_go").click().run()
        assert not at.exception and not at.error, shown_all(at.error)
    return at.session_state[gen.HISTORY][:times]


def _titles(at: AppTest) -> list[str]:
    return [shown(s) for s in at.subheader]


@pytest.fixture
def page(isolated_data_dir) -> AppTest:
    return _open()


def test_the_workspace_link_opened_on_home_holds_on_every_page(page: AppTest) -> None:
    (made,) = _generate(page)
    ws = page.session_state[state.WORKSPACE_ID]
    at = AppTest.from_file(str(REPO / "streamlit_app.py"), default_timeout=120)
    at.query_params["ws"] = ws
    at.run()  # Home, opened with one's own link
    at.query_params.clear()  # as the browser does: a page switch drops the URL's query
    at.switch_page("app_pages/generate.py").run()
    assert not at.exception
    assert at.session_state[state.WORKSPACE_ID] == ws
    assert at.query_params["ws"] == ws  # back in the URL, for a reload there
    assert _titles(at) == [made.label]


def test_a_reload_and_a_second_tab_show_the_same_pieces(page: AppTest) -> None:
    made = _generate(page, times=2)
    ws = page.session_state[state.WORKSPACE_ID]
    expected = [v.label for v in made]
    assert _titles(page) == expected
    reloaded = _open(ws=ws)  # a reload, another tab, the workspace link on another device
    assert _titles(reloaded) == expected
    assert len(reloaded.get("audio")) == 2
    # after a reload the piece works as one just made: keep its bars
    view = made[0]
    reloaded.button(key=f"generate_keepgo_{view.id}").click().run()
    assert not reloaded.exception and not reloaded.error
    assert _titles(reloaded)[0].startswith(f"{view.label}, new ending")
    assert _titles(_open(ws=ws))[:1] == _titles(reloaded)[:1]  # the new one is kept too


def test_the_home_tune_joins_the_pieces(isolated_data_dir) -> None:
    home = _open("app_pages/home.py")
    home.button(key="home_play_tune").click().run()
    assert not home.exception
    tune = home.session_state[gen.HOME_TUNE]
    assert tune.piece_id
    home.switch_page("app_pages/generate.py").run()
    assert _titles(home) == [tune.label]


def test_rename_a_piece_and_names_never_repeat(page: AppTest) -> None:
    first, second = _generate(page, times=2)
    page.text_input(key=f"generate_name_{first.id}").set_value("Song for <b>Ana</b> *")
    page.button(key=f"generate_rename_{first.id}").click().run()
    assert "Song for <b>Ana</b> *" in _titles(page)
    page.text_input(key=f"generate_name_{second.id}").set_value("Song for <b>Ana</b> *")
    page.button(key=f"generate_rename_{second.id}").click().run()
    assert "Song for <b>Ana</b> * 2" in _titles(page)
    assert any("Another piece is called that" in i for i in shown_all(page.info))
    page.text_input(key=f"generate_name_{second.id}").set_value("   ")
    page.button(key=f"generate_rename_{second.id}").click().run()
    assert any("a name needs at least one letter or digit" in i for i in shown_all(page.info))
    assert not page.exception


def test_delete_with_undo_and_the_trash(page: AppTest) -> None:
    (view,) = _generate(page)
    ws = page.session_state[state.WORKSPACE_ID]
    page.button(key=f"generate_del_{view.id}").click().run()
    assert view.label not in _titles(page)
    assert any(f"“{view.label}” is in the trash." == i for i in shown_all(page.info))
    assert _titles(_open(ws=ws)) == []  # deleted everywhere
    page.button(key=f"library_undo_{view.id}").click().run()
    assert _titles(page) == [view.label]
    # a later visit finds a deleted piece in "Recently deleted", and brings it back
    page.button(key=f"generate_del_{view.id}").click().run()
    later = _open(ws=ws)
    assert any(e.label.startswith("Recently deleted (1)") for e in later.expander)
    later.button(key=f"library_restore_{view.id}").click().run()
    assert _titles(later) == [view.label]


def test_a_deleted_piece_pauses_its_share_link_and_undo_brings_it_back(page: AppTest) -> None:
    (view,) = _generate(page)
    page.button(key=f"generate_publish_{view.id}").click().run()
    shelf = Library(workspace_dir(page.session_state[state.WORKSPACE_ID]))
    published_id = shelf.get(view.piece_id).published_id
    assert read_copy(published_id).title == view.label
    page.button(key=f"generate_del_{view.id}").click().run()
    with pytest.raises(Exception, match=STOPPED):
        read_copy(published_id)
    page.button(key=f"library_undo_{view.id}").click().run()
    assert read_copy(published_id).title == view.label
    # a rename reaches the shared copy too
    page.text_input(key=f"generate_name_{view.id}").set_value("For Grandma")
    page.button(key=f"generate_rename_{view.id}").click().run()
    assert read_copy(published_id).title == "For Grandma"


def test_a_full_library_offers_its_oldest_pieces_for_removal(page: AppTest, monkeypatch) -> None:
    monkeypatch.setenv("TUNESMITH_MAX_PIECES_PER_WORKSPACE", "2")
    oldest, _ = reversed(_generate(page, times=2))
    page.button(key="generate_go").click().run()
    assert not page.exception
    newest = page.session_state[gen.HISTORY][0]
    assert not newest.piece_id  # not kept, but shown with why
    assert any("the most this server keeps" in w for w in shown_all(page.warning))
    assert any(f"remove your 1 oldest piece: “{oldest.label}”" in m
               for m in shown_all(page.markdown))
    page.button(key=f"generate_room_{newest.id}").click().run()
    assert not page.exception and not page.warning
    titles = _titles(page)
    assert oldest.label not in titles and len(titles) == 2
    assert page.session_state[gen.HISTORY][0].piece_id  # kept now


def test_a_long_library_turns_pages(page: AppTest) -> None:
    made = _generate(page, times=library.PIECES_PER_PAGE + 1)
    assert len(_titles(page)) == library.PIECES_PER_PAGE
    assert any("Pieces 1–5 of 6" in c for c in shown_all(page.caption))
    page.button(key="library_older").click().run()
    assert _titles(page) == [made[-1].label]
    page.button(key="library_newer").click().run()
    assert _titles(page)[0] == made[0].label


def test_a_piece_that_cannot_be_read_says_so_and_can_be_deleted(page: AppTest) -> None:
    (view,) = _generate(page)
    ws = page.session_state[state.WORKSPACE_ID]
    (workspace_dir(ws) / "pieces" / view.piece_id / "result.json").write_text("{not json")
    later = _open(ws=ws)
    assert any("cannot be played" in w for w in shown_all(later.warning))
    later.button(key=f"generate_del_{view.id}").click().run()
    assert not later.exception and _titles(later) == []


def test_titles_are_shown_as_written(page: AppTest) -> None:
    (view,) = _generate(page)
    page.text_input(key=f"generate_name_{view.id}").set_value("[click](https:evil) **x**")
    page.button(key=f"generate_rename_{view.id}").click().run()
    assert page.subheader[0].value == plain("[click](https:evil) **x**")


def test_a_pieces_folder_that_is_a_file_costs_the_page_nothing(page: AppTest) -> None:
    ws = page.session_state[state.WORKSPACE_ID]
    (workspace_dir(ws) / "pieces").write_text("not a folder")
    at = _open(ws=ws)
    at.slider(key=controls.LENGTH_KEY).set_value(5)
    at.button(key="generate_go").click().run()
    assert not at.exception
    assert at.get("audio")  # the piece plays, and says it is not kept
    assert any("not saved" in w for w in shown_all(at.warning))


def test_the_listen_page_rides_out_an_unusable_data_directory(tmp_path, monkeypatch) -> None:
    from core.library.published import UNREADABLE

    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("TUNESMITH_DATA_DIR", str(blocker / "data"))
    at = AppTest.from_file(str(REPO / "streamlit_app.py"), default_timeout=120)
    at.query_params["p"] = "A" * 22
    at.switch_page("app_pages/listen.py").run()
    assert not at.exception
    assert [shown(e) for e in at.error] == [UNREADABLE]
