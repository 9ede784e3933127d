"""What a listener can do with a piece they like: keep its good bars and regenerate the rest,
make it longer, and share it by link.

Keeping bars and making longer take a second or more, so they go through the page's work lock
(ui.generation `ask_for`): the click asks, the next run draws the buttons locked, makes the
pieces once and keeps them, and a second click meanwhile asks for nothing. A refusal is kept in
session state and shown under the piece it belongs to.

Sharing publishes a listen-only copy of the piece (core.library.published) and shows its link,
`<app>/listen?p=<id>`: the id is unguessable and leads to nothing else of the workspace, and
the owner can stop sharing at any time. The workspace link is never offered as a share link.
"""

from __future__ import annotations

import html
from urllib.parse import urlsplit, urlunsplit

import streamlit as st

from core.errors import TunesmithError
from core.generation import bar_count, keep_bars, make_longer
from core.harmonize.keeping import is_harmonized
from core.library import CopyState, Kind, copy_state
from ui import generation as gen
from ui.generate_controls import seed_for_next_piece
from ui.generation import GenerationView, load_generator, make_views_of
from ui.text import plain

ACTION_ERROR = "generate_action_error"  # {view id: message}
MAX_VARIATIONS = 4
DEFAULT_LONGER_S = 10
MAX_LONGER_S = 60
LISTEN_PAGE_PATH = "listen"  # the page a shared piece opens on (streamlit_app.py)
PUBLISHED_PARAM = "p"  # the published id in a listen link: /listen?p=<id>
# The pages' URL paths (st.navigation names them after their files), dropped from the address
# the browser shows to find the app's own root.
PAGE_PATHS = ("home", "data", "train", "generate", "harmonize", "evaluate", LISTEN_PAGE_PATH)


def page_url(page_path: str) -> str:
    """This app's address of a page, as the visitor's browser sees it (no query)."""
    url = st.context.url or "http://localhost:8501/"
    parts = urlsplit(url)
    segments = [s for s in parts.path.split("/") if s]
    if segments and segments[-1] in PAGE_PATHS:
        segments.pop()
    path = "/".join([*segments, page_path])
    return urlunsplit((parts.scheme, parts.netloc, f"/{path}", "", ""))


def listen_link(published_id: str) -> str:
    """The share link of a published piece."""
    return f"{page_url(LISTEN_PAGE_PATH)}?{PUBLISHED_PARAM}={published_id}"


# A one-click "Copy link": Streamlit has no clipboard button (st.code's copy icon shows only on
# hover, inside a box), so this is a small button with a script. The link is our own URL,
# escaped for the attribute; the clipboard API needs a secure context (https, localhost), so
# plain http falls back to a selected textarea and the browser's copy command.
COPY_BUTTON_HTML = """
<button id="{element_id}" data-link="{link}" style="font: inherit; font-size: 0.875rem;
  padding: 0.4rem 0.75rem;
  border: 1px solid rgba(49, 51, 63, 0.2); border-radius: 0.5rem; background: white;
  cursor: pointer">Copy link</button>
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
    button.textContent = "Link copied";
    setTimeout(() => {{ button.textContent = "Copy link"; }}, 2500);
  }});
}})();
</script>
"""


def copy_link_button(link: str, *, element_id: str) -> None:
    """A button that puts `link` on the clipboard in one click."""
    safe_id = "".join(c if c.isalnum() else "-" for c in element_id)
    body = COPY_BUTTON_HTML.format(element_id=safe_id, link=html.escape(link, quote=True))
    st.html(body, width="content", unsafe_allow_javascript=True)


def _error(view_id: str, message: str | None) -> None:
    errors: dict[str, str] = st.session_state.setdefault(ACTION_ERROR, {})
    if message is None:
        errors.pop(view_id, None)
    else:
        errors[view_id] = message


# ---------------------------------------------------------------- sharing


def _publish(piece_id: str) -> None:
    shelf = gen.library()
    try:
        if shelf is None:
            raise TunesmithError("sharing needs the server's storage, which cannot be used now")
        shelf.publish(piece_id)
        _error(piece_id, None)
    except TunesmithError as error:
        _error(piece_id, f"Share: {error}")


def _unpublish(piece_id: str) -> None:
    shelf = gen.library()
    try:
        if shelf is not None:
            shelf.unpublish(piece_id)
        _error(piece_id, None)
    except TunesmithError as error:
        _error(piece_id, f"Stop sharing: {error}")


def share_link_control(view: GenerationView, *, key_prefix: str) -> None:
    """"Share": a link to a listen-only copy of the piece (made on request), "Copy link" and
    "Stop sharing"; or why this piece cannot be shared now."""
    with st.popover("Share", icon=":material/share:", key=f"{key_prefix}_share_{view.id}"):
        shelf = gen.library() if view.piece_id else None
        if shelf is None:
            st.info(
                "This piece is not kept in your pieces, so it cannot be shared by link; "
                "download it instead."
            )
            return
        try:
            record = shelf.get(view.piece_id)
        except TunesmithError as error:
            st.info(plain(str(error)))
            return
        state = copy_state(record.published_id) if record.published_id else None
        if state is CopyState.LIVE:
            link = listen_link(record.published_id)
            copy_link_button(link, element_id=f"copy-{key_prefix}-{view.id}")
            st.code(link, language=None, wrap_lines=True)
            st.caption(
                "Anyone with this link can listen to this piece and download it, and see "
                "nothing else of yours. It stops working when you stop sharing it."
            )
            st.button(
                "Stop sharing",
                icon=":material/link_off:",
                key=f"{key_prefix}_unshare_{view.id}",
                on_click=_unpublish,
                args=(view.piece_id,),
            )
        else:
            if state is CopyState.EXPIRED:
                st.caption("Its last link has expired. Make a new one:")
            st.caption(
                "Makes a listen-only copy of this piece, under a link nobody can guess. "
                "Whoever opens it hears and sees this piece only; stop sharing at any time."
            )
            st.button(
                "Make a share link",
                icon=":material/add_link:",
                type="primary",
                key=f"{key_prefix}_publish_{view.id}",
                on_click=_publish,
                args=(view.piece_id,),
            )
        message = st.session_state.get(ACTION_ERROR, {}).get(view.piece_id)
        if message:
            st.error(plain(message))


# ---------------------------------------------------------------- keep bars, make longer


def _ask_keep_bars(view: GenerationView, key_prefix: str) -> None:
    gen.ask_for(
        "keep_bars",
        view_id=view.id,
        bars=int(st.session_state[f"{key_prefix}_keep_{view.id}"]),
        count=int(st.session_state[f"{key_prefix}_keepn_{view.id}"]),
    )


def _ask_longer(view: GenerationView, key_prefix: str) -> None:
    gen.ask_for(
        "longer",
        view_id=view.id,
        seconds=float(st.session_state[f"{key_prefix}_longer_{view.id}"]),
    )


def _do_keep_bars(view: GenerationView, bars: int, count: int, seed: int) -> None:
    if is_harmonized(view.result):
        raise TunesmithError("a harmonized tune has no model to write new bars for it")
    if view.model_path is None:
        raise TunesmithError("this piece's model is not at hand any more")
    generator = load_generator(view.model_path)
    results = keep_bars(generator, view.result, bars, seed=seed, count=count)
    new = make_views_of(results, label=view.label, view=view)
    gen.keep(new, kind=Kind.KEPT_BARS, parent_id=view.piece_id)


def _do_longer(view: GenerationView, seconds: float, seed: int) -> None:
    if is_harmonized(view.result):
        raise TunesmithError("a harmonized tune has no model to make it longer")
    if view.model_path is None:
        raise TunesmithError("this piece's model is not at hand any more")
    generator = load_generator(view.model_path)
    result = make_longer(generator, view.result, seconds, seed=seed)
    new = make_views_of([result], label=view.label, view=view)
    gen.keep(new, kind=Kind.LONGER, parent_id=view.piece_id)


def _run_asked_work(view: GenerationView) -> None:
    """The keep-bars or make-longer work asked for this piece, done once, then a fresh run."""
    for what, spinner, label in (
        ("keep_bars", "Writing new endings…", "Keep bars"),
        ("longer", "Making it longer…", "Make it longer"),
    ):
        work = gen.work_asked(what)
        if work is None or work["view_id"] != view.id:
            continue
        try:
            with st.spinner(spinner):
                seed = seed_for_next_piece()
                if what == "keep_bars":
                    _do_keep_bars(view, work["bars"], work["count"], seed)
                else:
                    _do_longer(view, work["seconds"], seed)
            _error(view.id, None)
        except (TunesmithError, ValueError) as error:
            _error(view.id, f"{label}: {error}")
        gen.work_done()


def piece_actions(view: GenerationView, *, key_prefix: str) -> None:
    """Keep bars 1..N and regenerate the rest; make it longer. Each press makes new pieces
    (a fresh seed, unless the page's "play it again the same way" is on). A harmonized
    tune was made by no model that could go on with it: it is said so instead."""
    if is_harmonized(view.result):
        st.caption("This is your tune harmonized, not a piece a model wrote, so there is no "
                   "model to write new bars for it. Harmonize the tune again instead.")  # fmt: skip
        return
    locked = gen.busy()
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
                "Regenerate the rest",
                icon=":material/autorenew:",
                key=f"{key_prefix}_keepgo_{view.id}",
                on_click=_ask_keep_bars,
                args=(view, key_prefix),
                disabled=locked,
            )
        else:
            st.caption("One bar only: nothing to keep apart from the rest.")
    with right:
        st.number_input(
            "Seconds more", 2, MAX_LONGER_S, DEFAULT_LONGER_S, key=f"{key_prefix}_longer_{view.id}"
        )
        st.button(
            "Make it longer",
            icon=":material/add:",
            key=f"{key_prefix}_longergo_{view.id}",
            on_click=_ask_longer,
            args=(view, key_prefix),
            disabled=locked,
        )
    _run_asked_work(view)
    message = st.session_state.get(ACTION_ERROR, {}).get(view.id)
    if message:
        st.error(plain(message))
