""" "Hum it, hear it continued": from the end of a 10-second recording to playable audio, warm.

The recording is tests/fixtures/hummed_tune.wav (a sung tune made by scripts/make_fixtures.py).
The stages, as the Generate page runs them once a recording stops: hear the tune
(`recording_to_tune`: decode, Basic Pitch, clean-up, grid), make it a primer, continue it for
20 s with the folk-tunes model at the default creativity, render it with FluidSynth at 44.1 kHz
and encode it as OGG. The Basic Pitch model and the generator are loaded first and the whole
chain runs once to warm up; the figures are medians of `WARM_RUNS` runs. Goal: at most 3 s.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from typing import Any

import soundfile as sf

from core.storage import REPO_DIR

RECORDING = REPO_DIR / "tests" / "fixtures" / "hummed_tune.wav"
STYLE = "folk-tunes"
CONTINUATION_S = 20.0
RENDER_SAMPLE_RATE_HZ = 44100
WARM_RUNS = 5
SEED = 0
GOAL_TOTAL_S = 3.0
STAGES = ("hear_s", "primer_s", "generate_s", "render_s", "ogg_s")


def _chain(model: Any, generator: Any) -> tuple[dict[str, float], dict[str, Any]]:
    """One run of the whole chain: seconds per stage, and what it made."""
    from core.humming import recording_to_tune
    from core.primers import piece_to_primer
    from core.rendering import audio_to_ogg_bytes, midi_to_audio
    from core.sampling import CREATIVITY_LEVELS, DEFAULT_CREATIVITY, creativity_to_settings

    recording = RECORDING.read_bytes()
    seconds: dict[str, float] = {}

    def timed(stage: str, work: Callable[[], Any]) -> Any:
        began = time.perf_counter()
        result = work()
        seconds[stage] = time.perf_counter() - began
        return result

    tune = timed("hear_s", lambda: recording_to_tune(recording, model=model))
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


def run() -> dict[str, Any]:
    from core.sampling import Generator
    from core.transcription import load_model

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
    figures["goal_total_s"] = GOAL_TOTAL_S
    figures["within_goal"] = total <= GOAL_TOTAL_S
    return figures
