"""Buttons whose `on_click` runs even when the click reaches another server than the one that
drew them.

Behind a proxy in front of several replicas (docs/replicas.md), a page drawn by a replica that
stops reconnects to another, in a new session; its next click reaches that session, which never
drew the button and so has no callback for it: Streamlit reports the click (the button returns
True) but runs nothing. `button` notices that case and runs the callback then, with a rerun, so
the click does what it says instead of needing a second one.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import streamlit as st

_RAN = "__callback_ran"


def button(
    label: str,
    *,
    key: str,
    on_click: Callable[..., None],
    args: tuple[Any, ...] = (),
    place: Any = st,
    **options: Any,
) -> None:
    """`place.button(label, key=key, on_click=on_click, args=args, **options)` (place: st, a
    column or an st.empty slot), whose callback also runs when Streamlit did not run it."""
    ran = key + _RAN

    def callback(*values: Any) -> None:
        st.session_state[ran] = True
        on_click(*values)

    clicked = place.button(label, key=key, on_click=callback, args=args, **options)
    if st.session_state.pop(ran, False) or not clicked:
        return
    on_click(*args)  # a click whose callback this session never had
    st.rerun()
