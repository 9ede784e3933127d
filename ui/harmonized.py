"""A harmonization as the Harmonize page shows it: its player (each voice its instrument), the
chord names, a chord changed and heard again, the sheet music, the downloads, and keeping it in
"Your pieces" (where it plays and is shared like any piece).

Its audio is rendered from the harmonization's MIDI, one track per voice; its sheet music from
`harmonization_musicxml` (a staff per voice, the chord names above the tune), cached by the
harmonization's id, which is a hash of its MIDI.
"""

from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass, replace

import streamlit as st

from core.errors import TunesmithError
from core.generation import GenerationResult
from core.harmonize import Harmonization, HarmonyStyle
from core.library import Kind, title_to_stem
from core.music import musicxml_to_svg
from core.music.piece import bar_grid
from ui import clicks
from ui import generation as gen
from ui.generation import GenerationView
from ui.piece_actions import share_link_control
from ui.player import ogg_to_mp3, player
from ui.text import plain

RESULT = "harmonize_result"  # HarmonizedView: the harmonization shown
KEEP_ERROR = "harmonize_keep_error"  # {view id: why it was not kept}
CHORD_ERROR = "harmonize_chord_error"  # {view id: why the chord was not changed}
RECHORD = "harmonize_rechord"  # the work of remaking the accompaniment (ui.generation ask_for)
SCORE_PAGES = 2  # a hymn tune's four staves fill a page or two; the rest is in the download
# What "Your pieces" says made a kept harmonization (its style), and what the page calls it.
STYLE_NAMES = {
    HarmonyStyle.CHORALE: "Four voices (chorale)",
    HarmonyStyle.CHORDS: "Chords (folk)",
}


@dataclass(frozen=True)
class HarmonizedView:
    """A harmonization as the page keeps it: its audio, the tune it is of, and once kept,
    its piece in the library."""

    id: str  # a hash of its MIDI: the same harmonization, the same id
    harmonization: Harmonization
    ogg_bytes: bytes
    tune_id: str
    origin: str
    piece_id: str = ""  # its id in "Your pieces"; "" while it is not kept
    title: str = ""  # its title there
    result: GenerationResult | None = None  # what the library keeps of it, once kept


def harmonized_view(harmonization: Harmonization, *, tune_id: str, origin: str) -> HarmonizedView:
    """The harmonization rendered for playback."""
    midi = harmonization.midi_bytes
    return HarmonizedView(
        id=hashlib.blake2b(midi, digest_size=8).hexdigest(),
        harmonization=harmonization,
        ogg_bytes=gen.render_ogg(midi),
        tune_id=tune_id,
        origin=origin,
    )


def _name(view: HarmonizedView) -> str:
    return view.title or f"{view.harmonization.melody.name}, harmonized"


def describe(view: HarmonizedView) -> str:
    """"Your recording on top, with Alto, Tenor and Bass below · harmonization 2"."""
    h = view.harmonization
    below = list(h.voice_names[1:])
    voices = ", ".join(below[:-1]) + f" and {below[-1]}" if len(below) > 1 else "".join(below)
    origin = view.origin[0].upper() + view.origin[1:]
    parts = [f"{origin} on top" + (f", with {voices} below" if voices else "")]
    parts.append(f"harmonization {h.seed + 1}")
    return " · ".join(parts)


# ---------------------------------------------------------------- chords


def _where(harmonization: Harmonization, index: int) -> str:
    """"Bar 2, beat 3": where a chord starts, in the bars the sheet music draws."""
    piece = harmonization.melody.piece
    grid = bar_grid(piece)
    onset = harmonization.chords[index].onset_step
    bar = grid.bar_of(onset)
    beat = (onset - grid.bar_start(bar)) // piece.steps_per_quarter + 1
    return f"Bar {bar + 1}, beat {beat}"


def _ask_rechord(view_id: str, at_key: str, name_key: str) -> None:
    gen.ask_for(
        RECHORD,
        view_id=view_id,
        index=int(st.session_state[at_key]),
        name=str(st.session_state[name_key]),
    )


def _rechord(view: HarmonizedView, index: int, name: str) -> None:
    """The accompaniment made again with chord `index` changed to `name`; shown at once."""
    from core.harmonize.chords import accompany, with_chord

    h = view.harmonization
    chords = with_chord(h.chords, index, name)
    remade = accompany(h.melody, chords, seed=h.seed)
    new = harmonized_view(remade, tune_id=view.tune_id, origin=view.origin)
    st.session_state[RESULT] = new
    st.session_state[f"harmonize_chord_at_{new.id}"] = index  # the same chord stays chosen


def _chord_changer(view: HarmonizedView) -> None:
    """Pick a chord by where it starts, pick another for it, hear the tune with it."""
    from core.harmonize.chords import chord_choices

    h = view.harmonization
    st.markdown("**Change a chord**")
    at_key, name_key = f"harmonize_chord_at_{view.id}", f"harmonize_chord_name_{view.id}"
    left, right = st.columns(2)
    index: int = left.selectbox(
        "Which chord?",
        range(len(h.chords)),
        format_func=lambda i: f"{_where(h, i)}: {h.chords[i].name}",
        key=at_key,
    )
    choices = list(chord_choices(h.melody, h.chords, index))
    current = h.chords[index].name
    if current not in choices:
        choices.insert(0, current)
    if st.session_state.get(name_key) not in choices:  # another chord was picked above
        st.session_state[name_key] = current
    right.selectbox(
        "Play this chord there",
        choices,
        key=name_key,
        help="Chords that suit the tune's notes there, the likeliest first.",
    )
    clicks.button(
        "Hear it with this chord",
        icon=":material/music_note:",
        key=f"harmonize_chord_go_{view.id}",
        on_click=_ask_rechord,
        args=(view.id, at_key, name_key),
        disabled=gen.busy(),
    )
    work = gen.work_asked(RECHORD)
    if work is not None and work["view_id"] == view.id:
        errors: dict[str, str] = st.session_state.setdefault(CHORD_ERROR, {})
        try:
            with st.spinner("Playing it with the new chord…"):
                _rechord(view, work["index"], work["name"])
            errors.pop(view.id, None)
        except (TunesmithError, ValueError) as error:
            errors[view.id] = f"That chord: {error}"
        gen.work_done()
    message = st.session_state.get(CHORD_ERROR, {}).get(view.id)
    if message:
        st.error(plain(message))


# ---------------------------------------------------------------- sheet music and files


@st.cache_data(show_spinner=False, max_entries=16)
def harmonization_xml(view_id: str, title: str, _harmonization: Harmonization) -> bytes:
    """MusicXML of the harmonization, a part per voice (cached by its id and title)."""
    from core.harmonize.notation import harmonization_musicxml

    return harmonization_musicxml(_harmonization, title=title)


@st.cache_data(show_spinner=False, max_entries=16)
def harmonization_svg(view_id: str, title: str, _harmonization: Harmonization) -> list[str]:
    """The first pages of its sheet music as SVG."""
    return musicxml_to_svg(harmonization_xml(view_id, title, _harmonization), pages=SCORE_PAGES)


def _sheet_music(view: HarmonizedView) -> None:
    try:
        with st.spinner("Writing the sheet music…"):
            pages = harmonization_svg(view.id, _name(view), view.harmonization)
    except TunesmithError as error:
        st.error(plain(f"Sheet music: {error}"))
        return
    for number, svg in enumerate(pages, start=1):
        st.image(svg, caption=f"Sheet music, page {number}", width="stretch")


def _downloads(view: HarmonizedView, mp3: bytes) -> None:
    h = view.harmonization
    stem = title_to_stem(_name(view))
    downloads = (
        ("MP3", mp3, "mp3", "audio/mpeg", ":material/music_note:"),
        ("MIDI", h.midi_bytes, "mid", "audio/midi", ":material/piano:"),
        ("MusicXML", functools.partial(harmonization_xml, view.id, _name(view), h), "musicxml",
         "application/vnd.recordare.musicxml+xml", ":material/description:"),
        ("WAV", functools.partial(gen.render_wav, h.midi_bytes), "wav", "audio/wav",
         ":material/graphic_eq:"),
    )  # fmt: skip
    with st.container(horizontal=True):
        for label, data, extension, mime, icon in downloads:
            st.download_button(label, data, file_name=f"{stem}.{extension}", mime=mime,
                               icon=icon, on_click="ignore",
                               key=f"harmonize_{extension}_{view.id}")  # fmt: skip


# ---------------------------------------------------------------- keeping and sharing


def generation_view(view: HarmonizedView) -> GenerationView | None:
    """The kept harmonization as "Your pieces" shows it (None while it is not kept)."""
    if not view.piece_id or view.result is None:
        return None
    style = STYLE_NAMES[view.harmonization.style]
    return GenerationView(id=view.piece_id, label=view.title, result=view.result,
                          ogg_bytes=view.ogg_bytes, model_label=style,
                          piece_id=view.piece_id)  # fmt: skip


def _keep(view_id: str) -> None:
    from core.harmonize.keeping import harmonization_to_result

    view: HarmonizedView | None = st.session_state.get(RESULT)
    if view is None or view.id != view_id or view.piece_id:
        return
    errors: dict[str, str] = st.session_state.setdefault(KEEP_ERROR, {})
    shelf = gen.library()
    try:
        if shelf is None:
            raise TunesmithError(gen.NO_STORAGE)
        result = harmonization_to_result(view.harmonization)
        record = shelf.add(result, kind=Kind.HARMONIZED,
                           style=STYLE_NAMES[view.harmonization.style],
                           audio=view.ogg_bytes, title=_name(view))  # fmt: skip
    except TunesmithError as error:
        errors[view_id] = str(error)
        return
    errors.pop(view_id, None)
    kept = replace(view, piece_id=record.id, title=record.title, result=result)
    st.session_state[RESULT] = kept
    shown = generation_view(kept)
    if shown is not None:
        gen.remember([shown])  # "Your pieces" finds its audio in this session
    st.session_state[gen.LIBRARY_PAGE] = 0


def _keep_and_share(view: HarmonizedView) -> None:
    shown = generation_view(view)
    if shown is None:
        clicks.button("Keep it in my pieces", icon=":material/bookmark_add:",
                      key=f"harmonize_keep_{view.id}", on_click=_keep, args=(view.id,))  # fmt: skip
        st.caption("Kept pieces wait for you in “Your pieces” on the Generate page, and can be "
                   "shared by a link.")  # fmt: skip
    else:
        st.success(plain(f"Kept in your pieces as “{view.title}”."), icon=":material/check:")
        with st.container(horizontal=True):
            share_link_control(shown, key_prefix="harmonize")
            st.page_link("app_pages/generate.py", label="See your pieces",
                         icon=":material/library_music:")  # fmt: skip
    message = st.session_state.get(KEEP_ERROR, {}).get(view.id)
    if message:
        st.error(plain(message))


def show_harmonization(view: HarmonizedView, *, autoplay: bool = False) -> None:
    """The harmonization: player, chords (and changing one), sheet music, files, keep, share."""
    h = view.harmonization
    st.subheader("Your tune, harmonized", anchor=False)
    st.caption(plain(describe(view)))
    mp3 = ogg_to_mp3(view.ogg_bytes)
    player(h.piece, mp3, key=f"harmonize_play_{view.id}", autoplay=autoplay)
    if h.chords:
        st.markdown(plain(f"Chords: {h.chord_line()}"))
        st.caption("The names of the chords under your tune, in order, as a guitarist or "
                   "pianist reads them: a letter is the chord's main note, “m” makes it minor "
                   "(sadder), “7” adds a note that leads on to the next chord.")  # fmt: skip
        _chord_changer(view)
    _keep_and_share(view)
    _downloads(view, mp3)
    _sheet_music(view)
