"""ui.clicks.button: a click does what it says once, also in a session that never drew it."""

from streamlit.testing.v1 import AppTest


def _page() -> None:
    import streamlit as st

    from ui import clicks

    class LostCallback:
        """What a replica that took over reports: the click, without running its callback."""

        def button(self, label, **options) -> bool:
            return not st.session_state.get("asked")

    def ask() -> None:
        st.session_state["asked"] = st.session_state.get("asked", 0) + 1

    if st.session_state.get("lost", False):
        clicks.button("Go", key="go", on_click=ask, place=LostCallback())
    else:
        clicks.button("Go", key="go", on_click=ask)


def test_a_click_runs_its_callback_once() -> None:
    at = AppTest.from_function(_page).run()
    assert "asked" not in at.session_state
    at.button(key="go").click().run()
    assert at.session_state["asked"] == 1
    at.run()  # a later run without a click asks for nothing
    assert at.session_state["asked"] == 1


def test_a_click_whose_callback_was_lost_still_runs_it_once() -> None:
    at = AppTest.from_function(_page)
    at.session_state["lost"] = True
    at.run()
    assert not at.exception
    assert at.session_state["asked"] == 1
