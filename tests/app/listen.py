"""The listen page as a friend opens it: a fresh browser session at a share link's address."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

from tests.conftest import REPO


def listen_page(params: dict[str, str]) -> AppTest:
    """The listen page of a fresh browser session opened at ?params, its first run done."""
    at = AppTest.from_file(str(REPO / "streamlit_app.py"), default_timeout=120)
    at.query_params.update(params)
    at.switch_page("app_pages/listen.py").run()
    assert not at.exception
    return at
