"""Your pieces: the workspace's library on the Generate page. Every piece made is here, newest
first, five to a page: play it, rename it, share it, delete it (with undo), keep its good bars
or make it longer.

The list is read from the workspace on every run (core.library), so a reload, a second tab and
the workspace link on another device show the same pieces; a piece's audio and notes are
loaded once per session. When the library is full, the pieces it could not keep are shown
first, with the oldest pieces whose removal makes room.
"""

from __future__ import annotations

import time
from dataclasses import replace

import streamlit as st

from core.errors import TunesmithError
from core.harmonize.keeping import is_harmonized
from core.library import Library, PieceRecord, piece_title, spoken_key
from core.library.pieces import TRASH_KEEP_DAYS, key_of
from core.library.titles import MAX_TITLE_CHARS
from core.settings import number_text
from ui import generation as gen
from ui.generation import GenerationView
from ui.piece_actions import piece_actions, share_link_control
from ui.text import plain

VIEWS = "library_views"  # {piece id: GenerationView}: pieces loaded in this session
UNDO = "library_undo"  # list[tuple[piece id, title]]: deleted in this session, newest last
MESSAGE = "library_message"  # {piece id: message}: a rename or delete's answer
PIECES_PER_PAGE = 5  # each shows a player and a piano roll: a phone scrolls through five
MAX_LOADED_VIEWS = 12  # pieces whose audio a session holds (about 0.3 MB each)
MAX_UNDO = 5
# A piece handed to the Harmonize page ("Harmonize it" on its card): its id, read there once.
HARMONIZE_PIECE = "harmonize_piece_handed"


# ---------------------------------------------------------------- one piece


def view_of(shelf: Library, record: PieceRecord) -> GenerationView:
    """The piece as the page shows it: from this session when it was made or loaded here,
    else read from the workspace (its audio rendered again when it was not kept).

    Raises:
        StorageError: its files cannot be read.
    """
    cache: dict[str, GenerationView] = st.session_state.setdefault(VIEWS, {})
    view = cache.pop(record.id, None)
    if view is None:
        view = next((v for v in gen.history() if v.piece_id == record.id), None)
    if view is None:
        soundfont = shelf.soundfont_path(record)
        view = GenerationView(
            id=record.id,
            label=record.title,
            result=shelf.result(record.id),
            ogg_bytes=shelf.audio(record.id),
            soundfont=str(soundfont) if soundfont else None,
            model_path=shelf.model_path(record),
            model_label=record.style,
            piece_id=record.id,
        )
    if view.label != record.title:  # renamed, here or in another tab
        view = replace(view, label=record.title)
    cache[record.id] = view
    while len(cache) > MAX_LOADED_VIEWS:
        del cache[next(iter(cache))]  # the one used longest ago
    return view


def _ago(seconds: float) -> str:
    if seconds < 60:
        return "just now"
    for unit, size in (("day", 86_400), ("hour", 3_600), ("minute", 60)):
        if seconds >= size:
            count = int(seconds // size)
            return f"{count} {unit}{'s' if count > 1 else ''} ago"
    return "just now"


def clock(seconds: float) -> str:
    """0:21, 2:05."""
    whole = round(seconds)
    return f"{whole // 60}:{whole % 60:02d}"


def describe(record: PieceRecord, *, now: float | None = None) -> str:
    """"Irish folk tunes · D major · 0:21 · longer · made 5 minutes ago · shared"."""
    made = _ago((time.time() if now is None else now) - record.made_at)
    parts = [record.style, spoken_key(record.key), clock(record.duration_s)]
    if record.kind.value != "new":
        parts.append(record.kind.value)
    parts.append(f"made {made}")
    if record.published_id:
        parts.append("shared")
    return " · ".join(p for p in parts if p)


def _message(piece_id: str, text: str | None) -> None:
    messages: dict[str, str] = st.session_state.setdefault(MESSAGE, {})
    if text is None:
        messages.pop(piece_id, None)
    else:
        messages[piece_id] = text


def _rename(piece_id: str, key: str) -> None:
    shelf = gen.library()
    if shelf is None:
        return
    wanted = str(st.session_state.get(key, ""))
    try:
        record = shelf.rename(piece_id, wanted)
        taken = record.title != " ".join(wanted.split())
        _message(piece_id, f"Another piece is called that, so this one is “{record.title}”."
                 if taken else None)  # fmt: skip
    except TunesmithError as error:
        _message(piece_id, f"Rename: {error}")


def _delete(piece_id: str) -> None:
    shelf = gen.library()
    if shelf is None:
        return
    try:
        record = shelf.delete(piece_id)
    except TunesmithError as error:
        _message(piece_id, f"Delete: {error}")
        return
    undo: list[tuple[str, str]] = st.session_state.setdefault(UNDO, [])
    undo.append((piece_id, record.title))
    del undo[:-MAX_UNDO]
    st.session_state.get(VIEWS, {}).pop(piece_id, None)


def _restore(piece_id: str) -> None:
    shelf = gen.library()
    undo: list[tuple[str, str]] = st.session_state.get(UNDO, [])
    st.session_state[UNDO] = [u for u in undo if u[0] != piece_id]
    if shelf is None:
        return
    try:
        shelf.restore(piece_id)
        _message(piece_id, None)
    except TunesmithError as error:
        st.session_state[UNDO] = undo  # still offered: say why it did not work
        _message(piece_id, f"Undo: {error}")


def _scroll_into_view(container_key: str) -> None:
    """Bring the new piece into view when it is out of sight (below the fold on a phone)."""
    st.html(
        f"""<script>
(() => {{
  const go = () => {{
    const card = document.querySelector(".st-key-{container_key}");
    if (!card) return;
    const top = card.getBoundingClientRect().top;
    if (top < 0 || top > window.innerHeight * 0.5) {{
      card.style.scrollMarginTop = "4.5rem";  // below the app's own header bar
      card.scrollIntoView({{ behavior: "smooth", block: "start" }});
    }}
  }};
  setTimeout(go, 100);
  setTimeout(go, 600);
}})();
</script>""",
        width="content",
        unsafe_allow_javascript=True,
    )


def piece_card(shelf: Library, record: PieceRecord, *, key_prefix: str) -> None:
    """One kept piece: its title, what it is, the player and downloads, and what to do."""
    container_key = f"{key_prefix}_piece_{record.id}"
    with st.container(border=True, key=container_key):
        st.subheader(plain(record.title), anchor=False)
        st.caption(plain(describe(record)))
        try:
            view = view_of(shelf, record)
            gen.show_generation(view, key_prefix=key_prefix)  # its kept audio may be damaged
        except TunesmithError as error:
            st.warning(plain(f"This piece cannot be played: {error}."))
            st.button("Delete", icon=":material/delete:", key=f"{key_prefix}_del_{record.id}",
                      on_click=_delete, args=(record.id,))  # fmt: skip
            return
        share, rename, delete = st.columns(3)
        with share:
            share_link_control(view, key_prefix=key_prefix)
        with rename.popover("Rename", icon=":material/edit:"):
            name_key = f"{key_prefix}_name_{record.id}"
            st.text_input("New name", value=record.title, max_chars=MAX_TITLE_CHARS, key=name_key)
            st.button("Save the name", key=f"{key_prefix}_rename_{record.id}",
                      on_click=_rename, args=(record.id, name_key))  # fmt: skip
        delete.button("Delete", icon=":material/delete:", key=f"{key_prefix}_del_{record.id}",
                      on_click=_delete, args=(record.id,), disabled=gen.busy())  # fmt: skip
        message = st.session_state.get(MESSAGE, {}).get(record.id)
        if message:
            st.info(plain(message))
        # Not an on_click: a callback runs before the router knows the pages it could switch to.
        if st.button(
            "Harmonize it",
            icon=":material/queue_music:",
            key=f"{key_prefix}_harmonize_{record.id}",
            help="Its tune with voices or chords under it, on the Harmonize page.",
        ):
            st.session_state[HARMONIZE_PIECE] = record.id
            st.switch_page("app_pages/harmonize.py")
        if not is_harmonized(view.result):  # no model made it: nothing to continue
            with st.expander("Keep the good bars, or make it longer"):
                piece_actions(view, key_prefix=key_prefix)
        if st.session_state.get(gen.SCROLL_TO) == record.id:
            del st.session_state[gen.SCROLL_TO]
            _scroll_into_view(container_key)


# ---------------------------------------------------------------- the list


def _make_room(view_id: str, piece_ids: list[str]) -> None:
    shelf = gen.library()
    if shelf is None:
        return
    try:
        shelf.delete_for_good(piece_ids)
    except TunesmithError as error:
        _message(view_id, str(error))
        return
    gen.keep_again(view_id)


def _not_kept_card(shelf: Library | None, view: GenerationView, *, key_prefix: str) -> None:
    """A piece made but not kept: why, the piece itself, and what would make room for it."""
    refused = gen.not_kept(view)
    if refused is None:
        return
    style, style_name, _ = gen.style_of(view)
    title = piece_title(
        seed=view.result.seed,
        style=style_name or style,
        key=key_of(view.result),
        meter=view.result.piece.meter,
    )
    titled = replace(view, label=title)
    with st.container(border=True, key=f"{key_prefix}_piece_{view.id}"):
        st.subheader(plain(title), anchor=False)
        st.warning(plain(f"{refused.reason}."), icon=":material/inventory_2:")
        if shelf is not None:
            size = len(view.result.midi_bytes) + len(view.ogg_bytes)
            room = shelf.room_for(size * 2)  # its details take about as much again
            gone = [*room.trash, *room.oldest]
            if gone and room.enough:
                names = ", ".join(f"“{r.title}”" for r in room.oldest[:3])
                more = len(room.oldest) - 3
                what = []
                if room.trash:
                    what.append(f"empty the trash ({len(room.trash)})")
                if room.oldest:
                    what.append(
                        f"remove your {len(room.oldest)} oldest piece"
                        f"{'s' if len(room.oldest) > 1 else ''}: {names}"
                        + (f" and {more} more" if more > 0 else "")
                    )
                st.write(plain(f"To keep it, {' and '.join(what)}. They go for good."))
                st.button(
                    "Make room and keep this piece",
                    key=f"{key_prefix}_room_{view.id}",
                    on_click=_make_room,
                    args=(view.id, [r.id for r in gone]),
                )
            elif gone:
                st.caption(
                    "Removing your older pieces would not be enough: your models and music "
                    "files fill most of your space. Delete what you no longer need on the "
                    "Train and Data pages, then make the piece again."
                )
        gen.show_generation(titled, key_prefix=key_prefix)
        message = st.session_state.get(MESSAGE, {}).get(view.id)
        if message:
            st.error(plain(message))
        if st.session_state.get(gen.SCROLL_TO) == view.id:
            del st.session_state[gen.SCROLL_TO]
            _scroll_into_view(f"{key_prefix}_piece_{view.id}")


def _undo_bar() -> None:
    undo: list[tuple[str, str]] = st.session_state.get(UNDO, [])
    if not undo:
        return
    piece_id, title = undo[-1]
    left, right = st.columns([4, 1], vertical_alignment="center")
    left.info(plain(f"“{title}” is in the trash."), icon=":material/delete:")
    right.button("Undo", icon=":material/undo:", key=f"library_undo_{piece_id}",
                 on_click=_restore, args=(piece_id,))  # fmt: skip
    message = st.session_state.get(MESSAGE, {}).get(piece_id)
    if message:
        st.error(plain(message))


def _trash(shelf: Library) -> None:
    deleted = shelf.trash()
    if not deleted:
        return
    with st.expander(f"Recently deleted ({len(deleted)})", icon=":material/delete:"):
        st.caption(
            f"Deleted pieces stay here for {number_text(TRASH_KEEP_DAYS)} days, then go for "
            "good. A shared one's link pauses meanwhile and plays again if you bring it back."
        )
        for record in deleted:
            left, right = st.columns([4, 1], vertical_alignment="center")
            left.write(plain(f"{record.title} · {clock(record.duration_s)}"))
            right.button("Bring back", icon=":material/restore_from_trash:",
                         key=f"library_restore_{record.id}", on_click=_restore,
                         args=(record.id,))  # fmt: skip


def _pager(total: int) -> int:
    """The page of the list to show (0 the newest), with "newer" and "older" buttons."""
    pages = max((total - 1) // PIECES_PER_PAGE + 1, 1)
    page = min(max(int(st.session_state.get(gen.LIBRARY_PAGE, 0)), 0), pages - 1)
    st.session_state[gen.LIBRARY_PAGE] = page
    return page


def _turn(step: int) -> None:
    st.session_state[gen.LIBRARY_PAGE] = int(st.session_state.get(gen.LIBRARY_PAGE, 0)) + step


def show_library(*, key_prefix: str = "generate") -> None:
    """The "Your pieces" section."""
    st.header("Your pieces")
    shelf = gen.library()
    for view in gen.history():
        _not_kept_card(shelf, view, key_prefix=key_prefix)
    if shelf is None:
        return
    _undo_bar()
    records = shelf.pieces()
    if not records:
        st.caption("Nothing yet: press Generate. Every piece you make is kept here.")
    page = _pager(len(records))
    first = page * PIECES_PER_PAGE
    shown = records[first : first + PIECES_PER_PAGE]
    for record in shown:
        piece_card(shelf, record, key_prefix=key_prefix)
    if len(records) > PIECES_PER_PAGE:
        newer, where, older = st.columns([1, 2, 1], vertical_alignment="center")
        newer.button("Newer", icon=":material/chevron_left:", key="library_newer",
                     on_click=_turn, args=(-1,), disabled=page == 0)  # fmt: skip
        where.caption(f"Pieces {first + 1}–{first + len(shown)} of {len(records)}")
        older.button("Older", icon=":material/chevron_right:", key="library_older",
                     on_click=_turn, args=(1,),
                     disabled=first + PIECES_PER_PAGE >= len(records))  # fmt: skip
    _trash(shelf)

