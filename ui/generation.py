"""Generate and listen: model choice, generating and keeping a piece, and the view of one piece.

Loaded generators are shared read-only things (`st.cache_resource`, keyed by folder and
modification time); rendered audio is a pure function of the MIDI (`st.cache_data`). Every
piece made is kept in the workspace's library (core.library, `keep`), so a reload, a second tab
and the workspace link on another device find it; the session also keeps the pieces it made
(`history`). The bundled model is loaded in a background thread as soon as a page asks for it
(`prewarm_default`), so the first click is quick too.

Work that takes a while (generating, keeping bars, making longer) goes through `ask_for` /
`work_asked`: a click asks, the run that follows draws every work button locked and does the
work once, and a second click while it runs is not queued again.
"""

from __future__ import annotations

import functools
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import streamlit as st

from core.audio import (
    audio_to_ogg_and_mp3,
    audio_to_ogg_bytes,
    audio_to_wav_bytes,
    midi_to_audio,
)
from core.errors import InvalidModelError, QuotaError, StorageError, TunesmithError
from core.evaluation import new_notes_in_key
from core.generation import (
    GenerationResult,
    Generator,
    Primer,
    SamplingSettings,
)
from core.library import PLAYBACK_SAMPLE_RATE_HZ, Kind, Library, title_to_stem
from core.model import MODEL_FILE, STYLES, available_styles, list_model_folders, read_model_info
from core.music import Piece, musicxml_to_svg, piece_to_musicxml
from ui.player import player, view_mp3
from ui.text import plain

log = logging.getLogger(__name__)

# Session-state keys.
HISTORY = "generate_history"  # list[GenerationView]: made in this session, newest first
HOME_TUNE = "home_tune"  # GenerationView: the Home page's quick demo
NOT_KEPT = "library_not_kept"  # {view id: NotKept}: pieces the library had no room for
LIBRARY_PAGE = "generate_library_page"  # which page of "Your pieces" is shown, 0 the newest
SCROLL_TO = "generate_scroll_to"  # the id of a new piece to bring into view once
WORK = "generate_work"  # the work a click asked for: {"what": ..., "asked_at": ..., ...}

MAX_HISTORY = 12  # recent pieces kept per session (their OGG audio lives in session state)
# Work asked for this long ago and never done (its page was left at once) is dropped, not
# done on the next visit: the longest piece takes a few seconds, a rerun far less.
STALE_WORK_S = 60.0


@dataclass(frozen=True)
class ModelChoice:
    label: str
    path: Path


@dataclass(frozen=True)
class GenerationView:
    """A generated piece as the UI keeps it: the result, its playback audio and its label."""

    id: str
    label: str
    result: GenerationResult
    ogg_bytes: bytes
    soundfont: str | None = None  # path of an uploaded soundfont, None: the default
    model_path: Path | None = None  # the model that made it, for "keep bars" and "longer"
    model_label: str = ""  # the model as the page names it ("Bach chorales (bundled)")
    piece_id: str = ""  # its id in the workspace's library; "" while it is not kept
    # The player's MP3, encoded beside the OGG when the piece was made (`render_ogg_and_mp3`);
    # None for a piece read back from the library: `ui.player.view_mp3` encodes it then.
    mp3_bytes: bytes | None = None


# ---------------------------------------------------------------- models


def bundled_choices() -> list[ModelChoice]:
    """The bundled style models by name ("Bach chorales (bundled)", ...), default first."""
    return [ModelChoice(f"{m.title} (bundled)", m.path) for m in available_styles()]


def model_choices(workspace: Path | None) -> list[ModelChoice]:
    """The bundled style models, then this session's own models ("My models"), newest first.

    Only a cheap look at the folders (their files and metrics.json): loading checks the rest,
    and a broken model is reported when it is chosen.
    """
    choices = bundled_choices()
    mine = list_model_folders(workspace / "models") if workspace else []
    for path in sorted(mine, key=lambda p: p.stat().st_mtime, reverse=True):
        dataset = _metrics(path).get("dataset", "")
        label = f"My model: {path.name}" + (f" ({dataset})" if dataset else "")
        choices.append(ModelChoice(label, path))
    return choices


def _metrics(path: Path) -> dict[str, Any]:
    """The folder's checked metrics; none for a broken folder (the Train page shows why)."""
    try:
        return dict(read_model_info(path)["metrics"])
    except InvalidModelError:
        return {}


def model_mtime_ns(path: Path) -> int:
    model_file = path / MODEL_FILE
    return model_file.stat().st_mtime_ns if model_file.exists() else 0


_LOADED: dict[tuple[str, int], Generator] = {}
_LOAD_LOCK = threading.Lock()


def _load_shared(path: str, mtime_ns: int) -> Generator:
    """One load per (folder, mtime) per process, shared by the prewarm thread and pages."""
    key = (path, mtime_ns)
    with _LOAD_LOCK:
        if key not in _LOADED:
            _LOADED[key] = Generator.from_folder(path)
        return _LOADED[key]


@st.cache_resource(show_spinner="Loading the model…", max_entries=8)
def _cached_generator(path: str, mtime_ns: int) -> Generator:
    return _load_shared(path, mtime_ns)


def load_generator(path: Path) -> Generator:
    """The generator for a model folder, loaded once per folder version.

    Raises:
        InvalidModelError: the folder is not a usable model.
    """
    return _cached_generator(str(path.resolve()), model_mtime_ns(path))


_PREWARM_STARTED = threading.Event()
_HARMONIZER_PREWARM_STARTED = threading.Event()


def load_chosen(choice: ModelChoice | None) -> Generator | None:
    """The chosen model's generator, or None with an error shown that names the model."""
    if choice is None:
        return None
    try:
        return load_generator(choice.path)
    except TunesmithError as error:
        message = str(error)  # core's messages start with the folder's name; say it once
        name = choice.path.name
        st.error(plain(message if message.startswith(name) else f"{name}: {message}"))
        return None


def prewarm_default() -> None:
    """Load the bundled models and the soundfont in a background thread (once per process)."""
    if not available_styles():
        return

    def work() -> None:
        try:
            for style in available_styles():
                path = style.path.resolve()
                generator = _load_shared(str(path), model_mtime_ns(path))
                result = generator.generate(SamplingSettings(length_tokens=8), seed=0)
            midi_to_audio(result.midi_bytes, sample_rate_hz=PLAYBACK_SAMPLE_RATE_HZ)
        except Exception:  # a failed warm-up only costs the first click its speed
            log.exception("warming up the bundled models failed")

    _once_in_background(_PREWARM_STARTED, work, name="tunesmith-prewarm")


def prewarm_harmonizer() -> None:
    """Load the chorale harmonizer's models in a background thread (once per process), from
    the Harmonize page only: its six Keras models bring TensorFlow in, seconds of both cores,
    and warmed from Home they slowed Home's first tunes (click to audio 5.0 s first, 1.7 s
    warm, against 1.4 s and 1.3 s without; bench home_tune)."""

    def work() -> None:
        try:
            from core.harmonize.chorale import load_chorale_harmonizer

            load_chorale_harmonizer()
        except Exception:  # the first harmonization loads it, and says what failed
            log.exception("warming up the chorale harmonizer failed")

    _once_in_background(_HARMONIZER_PREWARM_STARTED, work, name="tunesmith-prewarm-harmonizer")


def _once_in_background(started: threading.Event, work: Callable[[], None], *, name: str) -> None:
    """Run `work` in a daemon thread, the first time only (`started` marks it)."""
    if started.is_set():
        return
    started.set()
    threading.Thread(target=work, name=name, daemon=True).start()


# ---------------------------------------------------------------- audio and notation


@st.cache_data(show_spinner=False, max_entries=64)
def render_ogg(midi_bytes: bytes, soundfont: str | None = None) -> bytes:
    """OGG Vorbis of the MIDI (its own instrument), for the player and the download."""
    audio = midi_to_audio(midi_bytes, sample_rate_hz=PLAYBACK_SAMPLE_RATE_HZ, soundfont=soundfont)
    return audio_to_ogg_bytes(audio, PLAYBACK_SAMPLE_RATE_HZ)


def render_ogg_and_mp3(midi_bytes: bytes, soundfont: str | None = None) -> tuple[bytes, bytes]:
    """(OGG, MP3) of the MIDI from one synthesis, encoded side by side: a new piece's player
    needs the MP3 at once, and the library keeps the OGG."""
    audio = midi_to_audio(midi_bytes, sample_rate_hz=PLAYBACK_SAMPLE_RATE_HZ, soundfont=soundfont)
    return audio_to_ogg_and_mp3(audio, PLAYBACK_SAMPLE_RATE_HZ)


@st.cache_data(show_spinner=False, max_entries=16)
def render_wav(midi_bytes: bytes, soundfont: str | None = None) -> bytes:
    audio = midi_to_audio(midi_bytes, sample_rate_hz=PLAYBACK_SAMPLE_RATE_HZ, soundfont=soundfont)
    return audio_to_wav_bytes(audio, PLAYBACK_SAMPLE_RATE_HZ)


@st.cache_data(show_spinner=False, max_entries=32)
def musicxml_of(piece_id: str, title: str, _piece: Piece) -> bytes:
    """MusicXML of a piece, under its title (cached by the piece's id and title)."""
    return piece_to_musicxml(_piece, title=title)


@st.cache_data(show_spinner=False, max_entries=32)
def score_svg(piece_id: str, title: str, _piece: Piece) -> str:
    """The first page of the piece's sheet music as SVG."""
    pages = musicxml_to_svg(musicxml_of(piece_id, title, _piece), pages=1)
    return pages[0] if pages else ""


# ---------------------------------------------------------------- generating


def make_views(
    generator: Generator,
    settings: SamplingSettings,
    *,
    seed: int,
    count: int = 1,
    primer: Primer | None = None,
    soundfont: str | None = None,
    label: str = "",
) -> list[GenerationView]:
    """Generate `count` variations (seeds seed, seed+1, ...) and render each for playback."""
    results = generator.generate_variations(settings, seed=seed, count=count, primer=primer)
    return make_views_of(
        results, label=label or generator.name, soundfont=soundfont, model_path=generator.path
    )


def make_views_of(
    results: list[GenerationResult],
    *,
    label: str,
    view: GenerationView | None = None,
    soundfont: str | None = None,
    model_path: Path | None = None,
) -> list[GenerationView]:
    """Views of new pieces, rendered for playback. `view`: the piece they were made from (its
    soundfont and model carry over)."""
    model_label = label
    if view is not None:
        soundfont, model_path, model_label = view.soundfont, view.model_path, view.model_label
    views = []
    for result in results:
        ogg, mp3 = render_ogg_and_mp3(result.midi_bytes, soundfont)
        views.append(
            GenerationView(
                id=f"{result.seed}-{time.time_ns()}",
                label=label,  # `keep` gives it its own title
                result=result,
                ogg_bytes=ogg,
                soundfont=soundfont,
                model_path=model_path,
                model_label=model_label,
                mp3_bytes=mp3,
            )
        )
    return views


def remember(views: list[GenerationView]) -> None:
    """Put new pieces at the top of this session's recent list."""
    history: list[GenerationView] = st.session_state.get(HISTORY, [])
    st.session_state[HISTORY] = (list(views) + history)[:MAX_HISTORY]


def history() -> list[GenerationView]:
    return list(st.session_state.get(HISTORY, []))


def library() -> Library | None:
    """This session's library, or None when the storage is unusable (the page said so once,
    when it first opened the workspace)."""
    from core.storage import workspace_dir
    from ui.state import WORKSPACE_ID, workspace_or_none

    if WORKSPACE_ID not in st.session_state:
        workspace = workspace_or_none()
        return Library(workspace) if workspace is not None else None
    try:
        return Library(workspace_dir(st.session_state[WORKSPACE_ID]))
    except OSError:
        return None


def style_of(view: GenerationView) -> tuple[str, str, str]:
    """(what the library calls the model, its bundled style's name or "", the own model's
    folder name or "")."""
    name = view.result.model_name
    bundled = name in STYLES and (
        view.model_path is None or view.model_path.resolve() == STYLES[name].path.resolve()
    )
    if bundled:
        return STYLES[name].title, name, ""
    folder = view.model_path.name if view.model_path is not None else ""
    return f"My model: {folder or name}", "", folder


def _soundfont_in_workspace(view: GenerationView, library: Library) -> str:
    if not view.soundfont:
        return ""
    path = Path(view.soundfont)
    try:
        return str(path.relative_to(library.workspace))
    except ValueError:
        return ""


@dataclass(frozen=True)
class NotKept:
    """A piece the library could not keep: why, and how it was made (to keep it later)."""

    reason: str
    kind: Kind
    parent_id: str = ""


NO_STORAGE = "Your pieces cannot be kept now: the server's storage cannot be used"


def _keep_one(
    shelf: Library, view: GenerationView, *, kind: Kind, parent_id: str
) -> GenerationView:
    """Raises QuotaError or StorageError when the library cannot keep it."""
    style, style_name, folder = style_of(view)
    record = shelf.add(
        view.result,
        kind=kind,
        style=style,
        style_name=style_name,
        model_folder=folder,
        parent_id=parent_id,
        soundfont=_soundfont_in_workspace(view, shelf),
        audio=view.ogg_bytes,
    )
    return replace(view, id=record.id, label=record.title, piece_id=record.id)


def keep(views: list[GenerationView], *, kind: Kind, parent_id: str = "") -> list[GenerationView]:
    """Keep new pieces in the library (each gets its title there) and at the top of this
    session's list; "Your pieces" then opens on its first page, the first of them brought
    into view (not for Home's tune: the visitor is not looking at the list then). A piece the
    library has no room for is still shown, with why, and the page offers to make room."""
    kept: list[GenerationView] = []
    shelf = library()
    for view in views:
        try:
            if shelf is None:
                raise StorageError(NO_STORAGE)
            kept.append(_keep_one(shelf, view, kind=kind, parent_id=parent_id))
        except (QuotaError, StorageError) as error:
            refused = NotKept(str(error), kind, parent_id)
            st.session_state.setdefault(NOT_KEPT, {})[view.id] = refused
            kept.append(view)
    remember(kept)
    if kept and kind is not Kind.HOME:
        st.session_state[LIBRARY_PAGE] = 0
        st.session_state[SCROLL_TO] = kept[0].id
    return kept


def keep_again(view_id: str) -> None:
    """Try once more to keep a piece the library had no room for (after room was made)."""
    refused: NotKept | None = st.session_state.get(NOT_KEPT, {}).get(view_id)
    shelf = library()
    history = st.session_state.get(HISTORY, [])
    for index, view in enumerate(history):
        if view.id != view_id or refused is None or shelf is None:
            continue
        try:
            history[index] = _keep_one(shelf, view, kind=refused.kind, parent_id=refused.parent_id)
            del st.session_state[NOT_KEPT][view_id]
            st.session_state[SCROLL_TO] = history[index].id
        except (QuotaError, StorageError) as error:
            st.session_state[NOT_KEPT][view_id] = replace(refused, reason=str(error))


def not_kept(view: GenerationView) -> NotKept | None:
    """Why the library did not keep this piece; None when it is kept (or never tried)."""
    if view.piece_id:
        return None
    refused: NotKept | None = st.session_state.get(NOT_KEPT, {}).get(view.id)
    return refused


# ---------------------------------------------------------------- work that takes a while


def ask_for(what: str, **details: Any) -> None:
    """A button's `on_click`: ask for `what` to be done in the run that follows. While work
    is asked for or running, another click asks for nothing (it is never queued twice)."""
    if busy():
        return
    st.session_state[WORK] = {"what": what, "asked_at": time.monotonic(), **details}


def busy() -> bool:
    """Whether work is asked for or running: every work button is drawn locked meanwhile."""
    work = st.session_state.get(WORK)
    if work is not None and time.monotonic() - work["asked_at"] > STALE_WORK_S:
        del st.session_state[WORK]  # its page was left before it ran: it is not done later
        return False
    return work is not None


def work_asked(what: str) -> dict[str, Any] | None:
    """The details of the work of kind `what` asked for, if that is what was asked."""
    work: dict[str, Any] | None = st.session_state.get(WORK)
    return work if busy() and work is not None and work["what"] == what else None


def work_done() -> None:
    """The asked work is over (done or refused): unlock the buttons in a fresh run."""
    st.session_state.pop(WORK, None)
    st.rerun()


def drop_unhandled_work() -> None:
    """At the end of a page's run: work still asked for was for nothing on the page (a piece
    deleted in another tab, a model that failed to load), so it is dropped, never left to
    lock the buttons."""
    if WORK in st.session_state:
        work_done()


# ---------------------------------------------------------------- showing a piece


def download_stem(music: GenerationView | GenerationResult) -> str:
    """A file name that says what the piece is: its title (`misty-reel-in-d-major`), which no
    other kept piece has; for a bare result, its model, key and seed
    (`folk-tunes-d-major-seed42`)."""
    if isinstance(music, GenerationView):
        return title_to_stem(music.label)
    parts = [music.model_name or "tunesmith"]
    if music.key_label:
        parts.append(music.key_label)
    parts.append(f"seed{music.seed}")
    return title_to_stem(" ".join(parts))


def show_generation(view: GenerationView, *, key_prefix: str, details: bool = True) -> None:
    """The piece's player (MP3, its notes with a moving playhead: its piano roll), optional
    sheet music and its downloads."""
    result = view.result
    seam_s = result.seam_s if result.primer else None
    mp3 = view_mp3(view)
    player(result.piece, mp3, key=f"{key_prefix}_play_{view.id}", seam_s=seam_s)
    key = ""
    in_key = new_notes_in_key(result)
    if in_key is not None:
        locked = ", locked" if result.settings.lock_scale else ""
        key = f" · {result.key_label}: {in_key:.0%} of the new notes in its scale{locked}"
    piece = result.piece
    st.caption(
        f"{len(piece.notes)} notes · {piece.duration_s:.0f} s at {piece.tempo_bpm:.0f} BPM"
        f"{f' in {piece.meter}' if piece.meter else ''}{key} · seed {result.seed}"
    )
    if not details:
        return
    show_piece_details(
        piece,
        title=view.label,
        piece_id=view.id,
        midi_bytes=result.midi_bytes,
        mp3_bytes=mp3,
        ogg_bytes=view.ogg_bytes,
        soundfont=view.soundfont,
        key_prefix=key_prefix,
    )


def show_piece_details(
    piece: Piece,
    *,
    title: str,
    piece_id: str,
    midi_bytes: bytes,
    mp3_bytes: bytes,
    ogg_bytes: bytes,
    soundfont: str | None = None,
    key_prefix: str,
) -> None:
    """A piece's sheet music (on request) and downloads, named after its title. Its piano
    roll is the player's picture (ui.player), drawn above with the audio."""
    if st.toggle("Show sheet music", key=f"{key_prefix}_score_{piece_id}"):
        try:
            with st.spinner("Engraving…"):
                svg = score_svg(piece_id, title, piece)
            st.image(svg, caption="First page", width="stretch")
        except TunesmithError as error:
            st.error(plain(f"Sheet music: {error}"))
    stem = title_to_stem(title)
    # (label, data or a function that makes it, extension, MIME type, key part, icon); the WAV
    # and the MusicXML are only made when their button is clicked.
    downloads: tuple[tuple[str, bytes | Callable[[], bytes], str, str, str, str], ...] = (
        ("MP3", mp3_bytes, "mp3", "audio/mpeg", "mp3", ":material/music_note:"),
        ("MIDI", midi_bytes, "mid", "audio/midi", "mid", ":material/piano:"),
        ("WAV", functools.partial(render_wav, midi_bytes, soundfont), "wav",
         "audio/wav", "wav", ":material/graphic_eq:"),
        ("OGG", ogg_bytes, "ogg", "audio/ogg", "ogg", ":material/headphones:"),
        ("MusicXML", functools.partial(musicxml_of, piece_id, title, piece), "musicxml",
         "application/vnd.recordare.musicxml+xml", "xml", ":material/description:"),
    )
    with st.container(horizontal=True):  # one row that wraps on a phone, as on Home
        for label, data, extension, mime, key, icon in downloads:
            st.download_button(label, data, file_name=f"{stem}.{extension}", mime=mime,
                               key=f"{key_prefix}_{key}_{piece_id}", icon=icon)
