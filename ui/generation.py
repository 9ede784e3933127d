"""Generate and listen: model choice, plain-language controls, and the view of one piece.

Loaded generators are shared read-only things (`st.cache_resource`, keyed by folder and
modification time); rendered audio is a pure function of the MIDI (`st.cache_data`). A piece
the user made lives in this session's state only. The bundled model is loaded in a background
thread as soon as a page asks for it (`prewarm_default`), so the first click is quick too.
"""

from __future__ import annotations

import functools
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import streamlit as st

from core.audio import (
    DEFAULT_INSTRUMENT,
    INSTRUMENT_PROGRAMS,
    audio_to_ogg_bytes,
    audio_to_wav_bytes,
    midi_to_audio,
)
from core.errors import InvalidModelError, TunesmithError
from core.evaluation import new_notes_in_key
from core.generation import (
    CREATIVITY_LEVELS,
    DEFAULT_CREATIVITY,
    DEFAULT_MODEL_DIR,
    PAGE_TEMPO_BPM,
    GenerationResult,
    Generator,
    Primer,
    SamplingSettings,
    creativity_to_settings,
    new_seed,
)
from core.model import MODEL_FILE, available_styles, list_model_folders, read_model_info
from core.music import musicxml_to_svg, piece_to_musicxml
from ui.text import plain

log = logging.getLogger(__name__)

# Session-state keys.
HISTORY = "generate_history"  # list[GenerationView], newest first
HOME_TUNE = "home_tune"  # GenerationView: the Home page's quick demo

MAX_HISTORY = 12  # recent pieces kept per session (their OGG audio lives in session state)
PLAYBACK_SAMPLE_RATE_HZ = 44100
HOME_TUNE_SECONDS = 16.0


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
    if _PREWARM_STARTED.is_set() or not available_styles():
        return
    _PREWARM_STARTED.set()

    def work() -> None:
        try:
            for style in available_styles():
                path = style.path.resolve()
                generator = _load_shared(str(path), model_mtime_ns(path))
                result = generator.generate(SamplingSettings(length_tokens=8), seed=0)
            midi_to_audio(result.midi_bytes, sample_rate_hz=PLAYBACK_SAMPLE_RATE_HZ)
        except Exception:  # a failed warm-up only costs the first click its speed
            log.exception("warming up the bundled models failed")

    threading.Thread(target=work, name="tunesmith-prewarm", daemon=True).start()


# ---------------------------------------------------------------- audio and notation


@st.cache_data(show_spinner=False, max_entries=64)
def render_ogg(midi_bytes: bytes, soundfont: str | None = None) -> bytes:
    """OGG Vorbis of the MIDI (its own instrument), for the player and the download."""
    audio = midi_to_audio(midi_bytes, sample_rate_hz=PLAYBACK_SAMPLE_RATE_HZ, soundfont=soundfont)
    return audio_to_ogg_bytes(audio, PLAYBACK_SAMPLE_RATE_HZ)


@st.cache_data(show_spinner=False, max_entries=16)
def render_wav(midi_bytes: bytes, soundfont: str | None = None) -> bytes:
    audio = midi_to_audio(midi_bytes, sample_rate_hz=PLAYBACK_SAMPLE_RATE_HZ, soundfont=soundfont)
    return audio_to_wav_bytes(audio, PLAYBACK_SAMPLE_RATE_HZ)


@st.cache_data(show_spinner=False, max_entries=32)
def musicxml_of(result_id: str, _result: GenerationResult) -> bytes:
    """MusicXML of a generated piece (cached by the piece's id)."""
    return piece_to_musicxml(_result.piece, title=f"{_result.model_name} · seed {_result.seed}")


@st.cache_data(show_spinner=False, max_entries=32)
def score_svg(result_id: str, _result: GenerationResult) -> str:
    """The first page of the piece's sheet music as SVG."""
    pages = musicxml_to_svg(musicxml_of(result_id, _result), pages=1)
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
    for index, result in enumerate(results, start=1):
        title = f"{label} · seed {result.seed}"
        if len(results) > 1:
            title += f" · variation {index}"
        views.append(
            GenerationView(
                id=f"{result.seed}-{time.time_ns()}",
                label=title,
                result=result,
                ogg_bytes=render_ogg(result.midi_bytes, soundfont),
                soundfont=soundfont,
                model_path=model_path,
                model_label=model_label,
            )
        )
    return views


def remember(views: list[GenerationView]) -> None:
    """Put new pieces at the top of this session's recent list."""
    history: list[GenerationView] = st.session_state.get(HISTORY, [])
    st.session_state[HISTORY] = (list(views) + history)[:MAX_HISTORY]


def history() -> list[GenerationView]:
    return list(st.session_state.get(HISTORY, []))


def play_new_tune(model_dir: Path = DEFAULT_MODEL_DIR) -> GenerationView:
    """The Home page's demo: a short piece from a bundled model, a fresh seed each time.

    Raises:
        InvalidModelError: the bundled model is missing or broken.
    """
    started = time.perf_counter()
    generator = load_generator(model_dir)
    loaded = time.perf_counter()
    settings = creativity_to_settings(
        CREATIVITY_LEVELS[DEFAULT_CREATIVITY],
        length_tokens=None,
        length_s=HOME_TUNE_SECONDS,
        tempo_bpm=PAGE_TEMPO_BPM,
        program=INSTRUMENT_PROGRAMS[DEFAULT_INSTRUMENT],
    )
    (view,) = make_views(generator, settings, seed=new_seed(), label="Your new tune")
    log.info(
        "home tune: model ready in %.2f s, generated and rendered in %.2f s",
        loaded - started,
        time.perf_counter() - loaded,
    )
    return view


# ---------------------------------------------------------------- showing a piece


def download_stem(result: GenerationResult) -> str:
    """A file name that says what the piece is: `folk-tunes-d-major-seed42`."""
    import re

    parts = [result.model_name or "tunesmith"]
    if result.key_label:
        parts.append(result.key_label)
    parts.append(f"seed{result.seed}")
    slug = re.sub(r"[^a-z0-9]+", "-", " ".join(parts).lower().replace("#", "sharp"))
    return slug.strip("-")[:80] or "tunesmith"


def show_generation(view: GenerationView, *, key_prefix: str, details: bool = True) -> None:
    """Player, piano roll, optional sheet music and the four downloads of one piece."""
    result = view.result
    st.audio(view.ogg_bytes, format="audio/ogg")
    piece = result.piece
    key = ""
    in_key = new_notes_in_key(result)
    if in_key is not None:
        locked = ", locked" if result.settings.lock_scale else ""
        key = f" · {result.key_label}: {in_key:.0%} of the new notes in its scale{locked}"
    st.caption(
        f"{len(piece.notes)} notes · {piece.duration_s:.0f} s at {piece.tempo_bpm:.0f} BPM"
        f"{key} · seed {result.seed}"
    )
    if not details:
        return
    from core.music import piece_to_figure

    figure = piece_to_figure(piece, height_px=260, seam_s=result.seam_s if result.primer else None)
    st.plotly_chart(figure, key=f"{key_prefix}_roll_{view.id}")
    if st.toggle("Show sheet music", key=f"{key_prefix}_score_{view.id}"):
        try:
            with st.spinner("Engraving…"):
                svg = score_svg(view.id, result)
            st.image(svg, caption="First page", width="stretch")
        except TunesmithError as error:
            st.error(plain(f"Sheet music: {error}"))
    stem = download_stem(result)
    # (label, data or a function that makes it, extension, MIME type, key part, icon); the WAV
    # and the MusicXML are only made when their button is clicked.
    downloads: tuple[tuple[str, bytes | Callable[[], bytes], str, str, str, str], ...] = (
        ("MIDI", result.midi_bytes, "mid", "audio/midi", "mid", "🎼"),
        ("WAV", functools.partial(render_wav, result.midi_bytes, view.soundfont), "wav",
         "audio/wav", "wav", "🔊"),
        ("OGG", view.ogg_bytes, "ogg", "audio/ogg", "ogg", "🎧"),
        ("MusicXML", functools.partial(musicxml_of, view.id, result), "musicxml",
         "application/vnd.recordare.musicxml+xml", "xml", "📄"),
    )
    for column, (label, data, extension, mime, key, icon) in zip(
        st.columns(len(downloads)), downloads, strict=True
    ):
        column.download_button(label, data, file_name=f"{stem}.{extension}", mime=mime,
                               key=f"{key_prefix}_{key}_{view.id}", icon=icon)
