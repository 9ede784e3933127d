"""The Home page's "Play me a new tune": a short piece from a bundled model, a fresh seed each
time, with the next one made while this one plays.

Making a tune takes about a second on two cores (writing it 0.1-0.2 s, synthesizing 0.1-0.3 s,
encoding the MP3 0.3 s), so the page begins the next tune of the chosen style in a background
thread on a first visit and as soon as a click takes one (`prefetch`), and the next click takes
it (`play_new_tune`): a visitor who listens for a few seconds before asking again hears the new
tune at once. The thread
only makes the tune; it is kept in the library, and the session's state changed, by the click
that takes it, so a tune nobody asked for is never kept. One worker for the whole server: a
prefetch still waiting for it when the click comes is cancelled and the tune made at once.
"""

from __future__ import annotations

import logging
import time
from concurrent.futures import CancelledError, Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import streamlit as st

from core.audio import DEFAULT_INSTRUMENT, INSTRUMENT_PROGRAMS
from core.generation import (
    CREATIVITY_LEVELS,
    DEFAULT_CREATIVITY,
    DEFAULT_MODEL_DIR,
    PAGE_TEMPO_BPM,
    Generator,
    SamplingSettings,
    creativity_to_settings,
    new_seed,
)
from core.library import Kind
from ui.generation import GenerationView, keep, load_generator, make_views

log = logging.getLogger(__name__)

HOME_TUNE_SECONDS = 16.0
NEXT_TUNE = "home_next_tune"  # _NextTune: the tune being made for the next click
PREFETCH_WAIT_S = 30.0  # a tune in the making is waited for; past this it is made again
_PREFETCH = ThreadPoolExecutor(max_workers=1, thread_name_prefix="tunesmith-next-tune")


@dataclass(frozen=True)
class _NextTune:
    model_dir: str
    future: Future[GenerationView]


def _settings() -> SamplingSettings:
    return creativity_to_settings(
        CREATIVITY_LEVELS[DEFAULT_CREATIVITY],
        length_tokens=None,
        length_s=HOME_TUNE_SECONDS,
        tempo_bpm=PAGE_TEMPO_BPM,
        program=INSTRUMENT_PROGRAMS[DEFAULT_INSTRUMENT],
    )


def _make(generator: Generator, seed: int) -> GenerationView:
    (made,) = make_views(generator, _settings(), seed=seed, label="Your new tune")
    return made


def prefetch(model_dir: Path = DEFAULT_MODEL_DIR) -> None:
    """Start making this session's next tune of the model in `model_dir`, unless one is being
    made already (a tune of another model is dropped). A model that does not load starts
    nothing: the click says why."""
    waiting: _NextTune | None = st.session_state.get(NEXT_TUNE)
    if waiting is not None and waiting.model_dir == str(model_dir):
        return
    if waiting is not None:
        waiting.future.cancel()
    try:
        generator = load_generator(model_dir)  # here: the model cache is the script's
    except Exception:  # the click loads it again and shows what is wrong
        st.session_state.pop(NEXT_TUNE, None)
        return
    future = _PREFETCH.submit(_make, generator, new_seed())
    st.session_state[NEXT_TUNE] = _NextTune(str(model_dir), future)


def _prefetched(model_dir: Path) -> GenerationView | None:
    """The tune made ahead for this click, if it is of this model and has begun; None: make
    one now."""
    waiting: _NextTune | None = st.session_state.pop(NEXT_TUNE, None)
    if waiting is None or waiting.model_dir != str(model_dir) or waiting.future.cancel():
        return None
    try:
        return waiting.future.result(timeout=PREFETCH_WAIT_S)
    except CancelledError:
        return None
    except Exception:  # a failed or stuck prefetch costs only its time: the click makes one
        log.exception("the next Home tune could not be made ahead")
        return None


def play_new_tune(model_dir: Path = DEFAULT_MODEL_DIR) -> GenerationView:
    """A new tune of the bundled model in `model_dir`, kept in the library (Home's tune joins
    "Your pieces" on Generate): the one made ahead when there is one, else made now.

    Raises:
        InvalidModelError: the bundled model is missing or broken.
    """
    started = time.perf_counter()
    made = _prefetched(model_dir)
    ahead = made is not None
    if made is None:
        made = _make(load_generator(model_dir), new_seed())
    (view,) = keep([made], kind=Kind.HOME)
    log.info("home tune: %s in %.2f s", "taken" if ahead else "made", time.perf_counter() - started)
    return view
