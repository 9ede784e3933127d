"""What a listener can do with a piece they like: keep its good bars and regenerate the rest,
make it longer, and share it by link.

The buttons work through `on_click` callbacks, so the new pieces are in the history before the
page draws it; a refusal is kept in session state and shown under the piece it belongs to.
"""

from __future__ import annotations

import html
from urllib.parse import urlsplit, urlunsplit

import streamlit as st

from core.errors import NotShareableError, TunesmithError
from core.generation import (
    GENERATE_PAGE_PATH,
    PieceRecipe,
    bar_count,
    keep_bars,
    make_longer,
    recipe_to_link,
)
from ui.generation import GenerationView, load_generator, make_views_of, remember
from ui.text import plain

ACTION_ERROR = "generate_action_error"  # {view id: message}
MAX_VARIATIONS = 4
DEFAULT_LONGER_S = 10
MAX_LONGER_S = 60
# The pages' URL paths (st.navigation names them after their files); a share link always
# points at the Generate page, whichever page the piece is shown on.
PAGE_PATHS = ("home", "data", "train", "generate", "evaluate")


def generate_page_url() -> str:
    """This app's Generate page address, as the visitor's browser sees it."""
    url = st.context.url or "http://localhost:8501/"
    parts = urlsplit(url)
    segments = [s for s in parts.path.split("/") if s]
    if segments and segments[-1] in PAGE_PATHS:
        segments.pop()
    path = "/".join([*segments, GENERATE_PAGE_PATH])
    return urlunsplit((parts.scheme, parts.netloc, f"/{path}", "", ""))


# A one-click "Copy link": Streamlit has no clipboard button (st.code's copy icon shows only on
# hover, inside a box), so this is a small button with a script. The link is our own URL,
# escaped for the attribute; the clipboard API needs a secure context (https, localhost), so
# plain http falls back to a selected textarea and the browser's copy command.
COPY_BUTTON_HTML = """
<button id="{element_id}" data-link="{link}" style="font: inherit; font-size: 0.875rem;
  padding: 0.4rem 0.75rem;
  border: 1px solid rgba(49, 51, 63, 0.2); border-radius: 0.5rem; background: white;
  cursor: pointer">🔗 Copy link</button>
<script>
(() => {{
  const button = document.getElementById("{element_id}");
  if (!button || button.dataset.ready) return;
  button.dataset.ready = "1";
  button.addEventListener("click", async () => {{
    const link = button.dataset.link;
    try {{
      await navigator.clipboard.writeText(link);
    }} catch (error) {{
      const area = document.createElement("textarea");
      area.value = link;
      document.body.appendChild(area);
      area.select();
      document.execCommand("copy");
      area.remove();
    }}
    button.textContent = "✅ Link copied";
    setTimeout(() => {{ button.textContent = "🔗 Copy link"; }}, 2500);
  }});
}})();
</script>
"""


def copy_link_button(link: str, *, element_id: str) -> None:
    """A button that puts `link` on the clipboard in one click."""
    safe_id = "".join(c if c.isalnum() else "-" for c in element_id)
    body = COPY_BUTTON_HTML.format(element_id=safe_id, link=html.escape(link, quote=True))
    st.html(body, width="content", unsafe_allow_javascript=True)


def share_link_control(view: GenerationView, *, key_prefix: str) -> None:
    """"Copy link" (one click) and the link itself to read; or why this piece has none."""
    try:
        link = recipe_to_link(PieceRecipe.of(view.result), generate_page_url())
    except NotShareableError as error:
        with st.popover("🔗 Share", key=f"{key_prefix}_share_{view.id}"):
            reason = str(error).removeprefix(f"{view.result.model_name}: ")
            st.info(plain(reason[:1].upper() + reason[1:]))
            _workspace_link()
        return
    left, right = st.columns([1, 4], vertical_alignment="center")
    with left:
        copy_link_button(link, element_id=f"copy-{key_prefix}-{view.id}")
    with right, st.popover("Show the link", key=f"{key_prefix}_share_{view.id}"):
        st.code(link, language=None, wrap_lines=True)
        st.caption("Anyone who opens this link hears this same piece: no account, no upload.")


def _workspace_link() -> None:
    """This session's own address (its workspace id): it opens the same models elsewhere."""
    from ui.state import WORKSPACE_ID, WORKSPACE_QUERY_PARAM

    workspace_id = st.session_state.get(WORKSPACE_ID)
    if workspace_id:
        st.code(f"{generate_page_url()}?{WORKSPACE_QUERY_PARAM}={workspace_id}", language=None)
        st.caption(
            "Your workspace link: whoever opens it sees all your music and models, and can "
            "change them. Share it only with people you trust."
        )


def _error(view_id: str, message: str | None) -> None:
    errors: dict[str, str] = st.session_state.setdefault(ACTION_ERROR, {})
    if message is None:
        errors.pop(view_id, None)
    else:
        errors[view_id] = message


def _keep_bars(view: GenerationView, key_prefix: str, seed: int) -> None:
    bars = int(st.session_state[f"{key_prefix}_keep_{view.id}"])
    count = int(st.session_state[f"{key_prefix}_keepn_{view.id}"])
    try:
        if view.model_path is None:
            raise TunesmithError("this piece's model is not at hand any more")
        generator = load_generator(view.model_path)
        results = keep_bars(generator, view.result, bars, seed=seed, count=count)
        label = f"{view.model_label} · bars 1–{bars} of seed {view.result.seed}"
        remember(make_views_of(results, label=label, view=view))
        _error(view.id, None)
    except (TunesmithError, ValueError) as error:
        _error(view.id, f"Keep bars: {error}")


def _longer(view: GenerationView, key_prefix: str, seed: int) -> None:
    seconds = float(st.session_state[f"{key_prefix}_longer_{view.id}"])
    try:
        if view.model_path is None:
            raise TunesmithError("this piece's model is not at hand any more")
        generator = load_generator(view.model_path)
        result = make_longer(generator, view.result, seconds, seed=seed)
        label = f"{view.model_label} · seed {view.result.seed}, {seconds:.0f} s longer"
        remember(make_views_of([result], label=label, view=view))
        _error(view.id, None)
    except (TunesmithError, ValueError) as error:
        _error(view.id, f"Make it longer: {error}")


def piece_actions(view: GenerationView, *, key_prefix: str, seed: int) -> None:
    """Keep bars 1..N and regenerate the rest; make it longer. `seed`: the page's seed."""
    bars = bar_count(view.result)
    left, right = st.columns(2)
    with left:
        if bars >= 2:
            st.slider(
                "Keep bars 1 to",
                1,
                bars - 1,
                max(1, (bars - 1) // 2),
                key=f"{key_prefix}_keep_{view.id}",
                help="These bars stay exactly as they are; the rest is made again.",
            )
            st.number_input(
                "Variations of the rest", 1, MAX_VARIATIONS, 2, key=f"{key_prefix}_keepn_{view.id}"
            )
            st.button(
                "♻️ Regenerate the rest",
                key=f"{key_prefix}_keepgo_{view.id}",
                on_click=_keep_bars,
                args=(view, key_prefix, seed),
            )
        else:
            st.caption("One bar only: nothing to keep apart from the rest.")
    with right:
        st.number_input(
            "Seconds more", 2, MAX_LONGER_S, DEFAULT_LONGER_S, key=f"{key_prefix}_longer_{view.id}"
        )
        st.button(
            "➕ Make it longer",
            key=f"{key_prefix}_longergo_{view.id}",
            on_click=_longer,
            args=(view, key_prefix, seed),
        )
    message = st.session_state.get(ACTION_ERROR, {}).get(view.id)
    if message:
        st.error(plain(message))
