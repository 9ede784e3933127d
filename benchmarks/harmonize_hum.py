""" "Hum it, hear it harmonized": from the end of a 10-second recording to playable audio, warm.

The recording is tests/fixtures/hummed_tune.wav (a sung tune made by scripts/make_fixtures.py),
as in `bench hum`. The stages, as the Harmonize page runs them once a recording stops: hear the
tune (`recording_to_heard_tune`: decode, Basic Pitch, clean-up, grid), take it as one line
(`melody_from_piece`, its top line), harmonize it in each style (the chorale harmonizer, the
folk chords), render the harmonization with FluidSynth at 44.1 kHz and encode it as MP3, the
format the pages play. The models load first and the chain runs once to warm up; the figures
are medians of `WARM_RUNS` runs. Goal (issue 28): at most 4 s from hum to harmonized audio.

`browser_*` is the same journey as a person makes it, as `bench hum` measures Generate's: a real
`streamlit run`, Debian's Chromium with its fake microphone playing the recording, the Harmonize
page, Record, 10 s, Stop; the time from the Stop click until the harmonization's <audio> is
playable (the page hears the tune, shows it and harmonizes a new recording at once, in the
default style: four voices). A first, shorter recording warms the server up; the figure is the
median of the next ones (each a little longer, so each is a new recording).
"""

from __future__ import annotations

import statistics
import time
from typing import Any

import soundfile as sf

from benchmarks.hum import RECORDING, stage_timer, stop_to_playing_s

RENDER_SAMPLE_RATE_HZ = 44_100
WARM_RUNS = 5
SEED = 0
GOAL_TOTAL_S = 4.0
STAGES = ("hear_s", "melody_s", "harmonize_s", "render_s", "mp3_s")


def _chain(model: Any, style: str) -> tuple[dict[str, float], dict[str, Any]]:
    """One run of the whole chain: seconds per stage, and what it made."""
    from core.audio.rendering import audio_to_mp3_bytes, midi_to_audio
    from core.harmonize.melody import melody_from_piece
    from core.harmonize.service import harmonize
    from core.transcription.humming import recording_to_heard_tune

    recording = RECORDING.read_bytes()
    seconds: dict[str, float] = {}
    timed = stage_timer(seconds)

    tune = timed("hear_s", lambda: recording_to_heard_tune(recording, model=model).piece)
    melody = timed("melody_s", lambda: melody_from_piece(tune, top_line=True))
    harmonization = timed("harmonize_s", lambda: harmonize(melody, style=style, seed=SEED))
    audio = timed(
        "render_s",
        lambda: midi_to_audio(harmonization.midi_bytes, sample_rate_hz=RENDER_SAMPLE_RATE_HZ),
    )
    mp3 = timed("mp3_s", lambda: audio_to_mp3_bytes(audio, RENDER_SAMPLE_RATE_HZ))
    made = {
        "tune_notes": len(melody.notes),
        "tune_key": melody.piece.key,
        "tune_s": round(melody.piece.duration_s, 2),
        "voices": len(harmonization.voices),
        "notes": len(harmonization.piece.notes),
        "chords": harmonization.chord_line(),
        "mp3_bytes": len(mp3),
    }
    return seconds, made


BROWSER_RECORDINGS_S = (6.0, 10.0, 10.25, 10.5)  # the first warms the server up
# The page's first <audio> plays the tune heard; the second the harmonization.
HARMONIZED_AUDIO = 1


def browser_stop_to_playing_s() -> list[float]:
    """Seconds from Stop to a playable harmonization, per recording (the first one cold)."""
    return stop_to_playing_s("harmonize", BROWSER_RECORDINGS_S, HARMONIZED_AUDIO)


def run() -> dict[str, Any]:
    from core.harmonize.chorale import load_chorale_harmonizer
    from core.harmonize.result import HarmonyStyle
    from core.transcription.model import load_model

    began = time.perf_counter()
    model = load_model()
    load_chorale_harmonizer()
    figures: dict[str, Any] = {
        "recording_s": round(sf.info(str(RECORDING)).duration, 2),
        "load_models_s": round(time.perf_counter() - began, 3),
    }
    totals = []
    for style in HarmonyStyle:
        _chain(model, style.value)  # warm-up: thread pools, FluidSynth's soundfont, caches
        runs = [_chain(model, style.value) for _ in range(WARM_RUNS)]
        for stage in STAGES:
            median = statistics.median(r[0][stage] for r in runs)
            figures[f"{style.value}_median_{stage}"] = round(median, 3)
        total = statistics.median(sum(r[0].values()) for r in runs)
        totals.append(total)
        figures[f"{style.value}_median_total_s"] = round(total, 3)
        figures.update({f"{style.value}_{k}": v for k, v in runs[-1][1].items()})
    browser = browser_stop_to_playing_s()
    figures["browser_warm_up_recording_s"] = round(browser[0], 3)
    figures["browser_warm_median_s"] = round(statistics.median(browser[1:]), 3)
    figures["goal_total_s"] = GOAL_TOTAL_S
    figures["within_goal"] = max(*totals, statistics.median(browser[1:])) <= GOAL_TOTAL_S
    return figures
