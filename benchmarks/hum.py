""" "Hum it, hear it continued": from the end of a 10-second recording to playable audio, warm.

The recording is tests/fixtures/hummed_tune.wav (a sung tune made by scripts/make_fixtures.py).
The stages, as the Generate page runs them once a recording stops: hear the tune
(`recording_to_heard_tune`: decode, Basic Pitch, clean-up, grid), make it a primer, continue it for
20 s with the folk-tunes model at the default creativity, render it with FluidSynth at 44.1 kHz
and encode it as OGG. The Basic Pitch model and the generator are loaded first and the whole
chain runs once to warm up; the figures are medians of `WARM_RUNS` runs. Goal: at most 3 s.

`browser_*` is the same journey as a person makes it: a real `streamlit run`, Debian's Chromium
with its fake microphone playing the recording, Record, 10 s, Stop; the time from the Stop click
until the continuation's <audio> is playable in the page (the page hears the tune, shows it,
continues it and renders it on its own). A first, shorter recording warms the server up; the
figure is the median of the next recordings, of 10 s and a little longer: the fake microphone
starts the file again for each recording, and the page continues a recording it has already
heard only once, so each one must differ.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Sequence
from typing import Any

import soundfile as sf

from core.storage.files import REPO_DIR

RECORDING = REPO_DIR / "tests" / "fixtures" / "hummed_tune.wav"
STYLE = "folk-tunes"
CONTINUATION_S = 20.0
RENDER_SAMPLE_RATE_HZ = 44100
WARM_RUNS = 5
SEED = 0
GOAL_TOTAL_S = 3.0
STAGES = ("hear_s", "primer_s", "generate_s", "render_s", "ogg_s")


def stage_timer(seconds: dict[str, float]) -> Callable[[str, Callable[[], Any]], Any]:
    """`timed(stage, work)`: runs `work()`, keeps its seconds in `seconds[stage]`, returns it."""

    def timed(stage: str, work: Callable[[], Any]) -> Any:
        began = time.perf_counter()
        result = work()
        seconds[stage] = time.perf_counter() - began
        return result

    return timed


def _chain(model: Any, generator: Any) -> tuple[dict[str, float], dict[str, Any]]:
    """One run of the whole chain: seconds per stage, and what it made."""
    from core.audio.rendering import audio_to_ogg_bytes, midi_to_audio
    from core.generation.primers import piece_to_primer
    from core.generation.settings import (
        CREATIVITY_LEVELS,
        DEFAULT_CREATIVITY,
        creativity_to_settings,
    )
    from core.transcription.humming import recording_to_heard_tune

    recording = RECORDING.read_bytes()
    seconds: dict[str, float] = {}
    timed = stage_timer(seconds)

    tune = timed("hear_s", lambda: recording_to_heard_tune(recording, model=model).piece)
    primer = timed("primer_s", lambda: piece_to_primer(tune, generator.encoding))
    settings = creativity_to_settings(
        CREATIVITY_LEVELS[DEFAULT_CREATIVITY],
        length_tokens=None,
        length_s=CONTINUATION_S,
        tempo_bpm=tune.tempo_bpm,
    )
    result = timed("generate_s", lambda: generator.generate(settings, seed=SEED, primer=primer))
    audio = timed(
        "render_s",
        lambda: midi_to_audio(result.midi_bytes, sample_rate_hz=RENDER_SAMPLE_RATE_HZ),
    )
    ogg = timed("ogg_s", lambda: audio_to_ogg_bytes(audio, RENDER_SAMPLE_RATE_HZ))
    made = {
        "tune_notes": len(tune.notes),
        "tune_key": tune.key,
        "tune_tempo_bpm": tune.tempo_bpm,
        "piece_notes": len(result.piece.notes),
        "piece_s": round(result.piece.duration_s, 2),
        "ogg_bytes": len(ogg),
    }
    return seconds, made


WARM_UP_RECORDING_S = 6.0
BROWSER_RECORDINGS_S = (10.0, 10.25)  # the fixture loops past its 10 s
# The first recent piece is the page's second <audio>: the first plays the tune heard.
PIECE_AUDIO = 1


def stop_to_playing_s(
    page_path: str,
    recordings_s: Sequence[float],
    audio_index: int,
    *,
    open_recorder: Callable[[Any], None] | None = None,
) -> list[float]:
    """Seconds from Stop to a new playable <audio> number `audio_index`, per recording of
    `recordings_s` seconds (the first one cold), on the app's page `page_path` in Chromium with
    the fake microphone playing `RECORDING`; `open_recorder(page)` shows the recorder first."""
    from playwright.sync_api import sync_playwright

    from tests.e2e.conftest import (
        AUDIO_SRC_JS,
        FINISHED,
        NEW_AUDIO_JS,
        app_server,
        chromium_options,
        fake_microphone_args,
    )

    times = []
    with app_server() as server, sync_playwright() as p:
        browser = p.chromium.launch(**chromium_options(*fake_microphone_args(RECORDING)))
        page = browser.new_context(permissions=["microphone"]).new_page()
        page.set_default_timeout(120_000)
        page.goto(f"{server.url}/{page_path}")
        page.wait_for_selector(FINISHED)
        if open_recorder is not None:
            open_recorder(page)
            page.wait_for_selector(FINISHED)
        for seconds in recordings_s:
            page.get_by_role("button", name="Record", exact=True).click()
            page.wait_for_timeout(seconds * 1000)
            old = page.evaluate(AUDIO_SRC_JS, audio_index)
            began = time.perf_counter()
            page.get_by_role("button", name="Stop recording").click()
            page.evaluate(NEW_AUDIO_JS, {"old": old, "index": audio_index})
            times.append(time.perf_counter() - began)
            page.wait_for_selector(FINISHED)
        browser.close()
    return times


def browser_stop_to_playing_s() -> list[float]:
    """Seconds from Stop to a playable continuation on Generate, per recording (the first cold)."""
    return stop_to_playing_s(
        "generate",
        (WARM_UP_RECORDING_S, *BROWSER_RECORDINGS_S),
        PIECE_AUDIO,
        open_recorder=lambda page: page.get_by_text("Hum, sing or play it to me").click(),
    )


def run() -> dict[str, Any]:
    from core.generation.generator import Generator
    from core.transcription.model import load_model

    began = time.perf_counter()
    model = load_model()
    generator = Generator.from_folder(STYLE)
    load_s = time.perf_counter() - began
    _chain(model, generator)  # warm-up: thread pools, FluidSynth's soundfont, caches
    runs = [_chain(model, generator) for _ in range(WARM_RUNS)]
    figures: dict[str, Any] = {
        "recording_s": round(sf.info(str(RECORDING)).duration, 2),
        "load_models_s": round(load_s, 3),
    }
    for stage in STAGES:
        figures[f"median_{stage}"] = round(statistics.median(r[0][stage] for r in runs), 3)
    total = statistics.median(sum(r[0].values()) for r in runs)
    figures["median_total_s"] = round(total, 3)
    figures.update(runs[-1][1])
    browser = browser_stop_to_playing_s()
    figures["browser_warm_up_recording_s"] = round(browser[0], 3)
    figures["browser_warm_median_s"] = round(statistics.median(browser[1:]), 3)
    figures["goal_total_s"] = GOAL_TOTAL_S
    figures["within_goal"] = max(total, statistics.median(browser[1:])) <= GOAL_TOTAL_S
    return figures
