"""Session-state keys (constants, never literals in pages) and the per-session workspace."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable
from pathlib import Path

import streamlit as st

from core.storage import new_workspace_id, storage_error, storage_fault, workspace_dir
from ui.text import plain

# Session-state keys.
WORKSPACE_ID = "workspace_id"
DATASET_SOURCES = "dataset_sources"  # list[str]: preset names and file paths of the chosen dataset
DATASET_NAME = "dataset_name"
WORKSPACE_QUERY_PARAM = "ws"


_CLEAN_UP_STARTED = threading.Event()


def _clean_up_once() -> None:
    """Once per server process: bad `TUNESMITH_*` settings are logged, then idle workspaces and
    the oldest parse cache go in the background (core.housekeeping)."""
    if _CLEAN_UP_STARTED.is_set():
        return
    _CLEAN_UP_STARTED.set()
    from core.settings import check_settings

    for message in check_settings():  # streamlit_app.py serves no page while one is unusable
        logging.getLogger(__name__).warning(message)

    def work() -> None:
        from core.housekeeping import clean_up

        try:
            clean_up()
        except OSError:  # a read-only or vanished data directory: nothing to clean here
            logging.getLogger(__name__).exception("clean-up of the data directory failed")

    threading.Thread(target=work, name="tunesmith-clean-up", daemon=True).start()


def workspace() -> Path:
    """This browser session's private folder (uploads, models, jobs).

    The id lives in session state and in the URL (`?ws=...`), so a reload or a shared link of
    one's own tab finds the same workspace; ids are unguessable uuid4 hex strings. When the
    data directory cannot be used (read-only for a new session, gone, not a folder), the page
    says so and stops there; pages that can serve without it use `workspace_or_none`.
    """
    path = workspace_or_none()
    if path is None:
        st.stop()
    return path


def keep_workspace_link() -> None:
    """Keep the workspace of the link this tab opened, from the first run of whichever page it
    opened, and keep its id in the URL: a page switch drops the URL's query parameters, so a
    visitor who opened Home with their link and went on to Train found a new, empty space.
    Creates nothing: a visitor who only listens on Home gets no workspace. The router calls it
    before every page."""
    if WORKSPACE_ID not in st.session_state:
        from_url = st.query_params.get(WORKSPACE_QUERY_PARAM, "")
        if len(from_url) == 32 and from_url.isalnum():
            st.session_state[WORKSPACE_ID] = from_url
    workspace_id = st.session_state.get(WORKSPACE_ID)
    if workspace_id and st.query_params.get(WORKSPACE_QUERY_PARAM) != workspace_id:
        st.query_params[WORKSPACE_QUERY_PARAM] = workspace_id


def workspace_or_none() -> Path | None:
    """The workspace, or None with an error on the page when the storage cannot be used."""
    keep_workspace_link()
    if WORKSPACE_ID not in st.session_state:
        st.session_state[WORKSPACE_ID] = new_workspace_id()
        keep_workspace_link()
    workspace_id = st.session_state[WORKSPACE_ID]
    try:
        path = workspace_dir(workspace_id)
    except OSError as error:
        logging.getLogger(__name__).exception("the workspace cannot be opened")
        st.error(
            f"Your space cannot be opened: {storage_fault(error)}. The bundled models still "
            "play on the Home and Generate pages; please try again later.",
            icon=":material/save:",
        )
        return None
    _clean_up_once()  # after this session's workspace is marked in use
    return path


def user_music_dir() -> Path:
    """The folder of this session's own music files ("my dataset"): uploads and transcriptions."""
    return workspace() / "music"  # made by the first file added (core.data.user_music.add_file)


DATASET_ENCODING = "dataset_encoding"  # dict: EncodingConfig.to_dict() of the chosen dataset
DATASET_LIMIT = "dataset_limit"  # int | None: use only the first N files of the sources
LOADED_DATASET = "loaded_dataset"  # (fingerprint, Dataset): the Data page's last build
EVALUATE_MODEL = "evaluate_pending_model"  # str: a model path to open on the Evaluate page


KEPT_CHOICES = "kept_choices"  # dict: widget key -> its value when a page last drew it


def restore_choices(defaults: dict[str, object]) -> None:
    """Before a page draws its widgets: each back at the value it had when the page last drew
    it, else at its default. Streamlit forgets a widget's value in a run that does not draw it,
    so after a visit to another page every choice was back at its default (Length 40 came back
    as 20). The defaults come in here rather than as the widgets' `value`, because Streamlit
    warns about a widget given both a default and a value through session state."""
    kept = st.session_state.get(KEPT_CHOICES, {})
    for key, default in defaults.items():
        if key not in st.session_state and (key in kept or default is not None):
            st.session_state[key] = kept.get(key, default)


def keep_choices(keys: Iterable[str]) -> None:
    """After a page drew its widgets: their values, for `restore_choices` on the next visit."""
    kept = st.session_state.setdefault(KEPT_CHOICES, {})
    for key in keys:
        if key in st.session_state:
            kept[key] = st.session_state[key]


def open_evaluation(model_dir: Path) -> None:
    """Go to the Evaluate page with this model chosen."""
    st.session_state[EVALUATE_MODEL] = str(Path(model_dir).resolve())
    st.switch_page("app_pages/evaluate.py")


DATASET_FILE = "dataset.json"  # the chosen dataset, kept in the workspace for reloads
_DATASET_KEYS = (DATASET_SOURCES, DATASET_NAME, DATASET_LIMIT, DATASET_ENCODING)


def choose_dataset(sources: list[str], name: str, limit: int | None = None) -> None:
    """The dataset the Train page offers first: in session state and in the workspace, so a
    reload (which starts a new session) trains on the same music, never on a fallback."""
    st.session_state[DATASET_SOURCES] = list(sources)
    st.session_state[DATASET_NAME] = name
    st.session_state[DATASET_LIMIT] = limit
    _remember_dataset()


def set_dataset_encoding(encoding: dict[str, object]) -> None:
    if st.session_state.get(DATASET_ENCODING) != encoding:
        st.session_state[DATASET_ENCODING] = encoding
        if st.session_state.get(DATASET_SOURCES):
            _remember_dataset()


def _remember_dataset() -> None:
    from core.storage import atomic_write_json

    chosen = {key: st.session_state.get(key) for key in _DATASET_KEYS}
    try:
        atomic_write_json(workspace() / DATASET_FILE, chosen)
    except OSError as error:  # the choice still holds in this session; a reload forgets it
        st.warning(plain(str(storage_error(error, "Your dataset choice"))), icon=":material/save:")


def restore_dataset() -> None:
    """After a reload, the workspace's chosen dataset back into this session (once)."""
    import json

    if st.session_state.get(DATASET_SOURCES):
        return
    try:
        data = json.loads((workspace() / DATASET_FILE).read_text())
    except (OSError, ValueError):
        return
    if isinstance(data, dict) and isinstance(data.get(DATASET_SOURCES), list):
        for key in _DATASET_KEYS:
            st.session_state[key] = data.get(key)
