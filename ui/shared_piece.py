"""A share link opened: regenerate its piece (byte-identical to the one shared) and play it at
the top of the Generate page, or say plainly why the link cannot be played."""

from __future__ import annotations

from urllib.parse import urlencode

import streamlit as st

from core.errors import TunesmithError
from core.generation import (
    LINK_KEYS,
    is_share_link,
    model_changed,
    params_to_recipe,
    recipe_to_result,
)
from core.model import STYLES
from ui.generation import GenerationView, load_generator, make_views_of, remember, show_generation
from ui.text import plain

SHARED = "generate_shared"  # {the link's own parameters: GenerationView | error message}
SHARED_LABEL = "A piece shared with you"
# Links remembered per session, the latest kept: each piece holds its audio (about 1 MB a minute
# of OGG), and a session that opens link after link must not grow without end.
MAX_SHARED_LINKS = 4


def _shared_view(params: dict[str, str]) -> GenerationView | str:
    try:
        recipe = params_to_recipe(params)
        path = STYLES[recipe.model].path
        result = recipe_to_result(recipe, generator=load_generator(path))
        (view,) = make_views_of([result], label=SHARED_LABEL, model_path=path)
        return view
    except (TunesmithError, ValueError) as error:
        return str(error)


def _keep(view: GenerationView) -> None:
    remember([view])


def _close() -> None:
    """Take the link's parameters off the address: the page is the plain Generate page again."""
    for key in LINK_KEYS:
        if key in st.query_params:
            del st.query_params[key]


def show_shared_piece() -> None:
    """When the page's URL holds a share link, its piece (once per link per session)."""
    from ui.piece_actions import share_link_control

    params = {k: v for k, v in st.query_params.to_dict().items() if k in LINK_KEYS}
    if not is_share_link(params):
        return
    cache: dict[str, GenerationView | str] = st.session_state.setdefault(SHARED, {})
    link_id = urlencode(sorted(params.items()))
    if link_id not in cache:
        with st.spinner("Making the shared piece…"):
            cache[link_id] = _shared_view(params)
        for old in list(cache)[:-MAX_SHARED_LINKS]:  # dicts keep the order links were opened
            del cache[old]
    view = cache[link_id]
    with st.container(border=True):
        if isinstance(view, str):
            st.error(plain(f"This share link cannot be played: {view}."))
            st.caption("Make a piece of your own below.")
            st.button("Close", key="shared_close_error", on_click=_close)
            return
        st.subheader(f"🎁 {SHARED_LABEL}")
        title = STYLES[view.result.model_name].title
        st.caption(plain(f"{title} (bundled model)"))
        if model_changed(params_to_recipe(params)):
            st.info(
                plain(
                    f"The {title} model has been retrained since this link was made, so this "
                    "piece is not the one that was shared: it is what the same recipe gives "
                    "today."
                )
            )
        show_generation(view, key_prefix="shared")
        share_link_control(view, key_prefix="shared")
        left, right = st.columns(2)
        left.button(
            "Keep it in my recent pieces",
            key=f"shared_keep_{view.id}",
            on_click=_keep,
            args=(view,),
        )
        right.button("Close", key="shared_close", on_click=_close)
