"""How to sample a piece: `SamplingSettings`, the plain-language creativity levels the pages offer,
and the seed that makes a piece again."""

from __future__ import annotations

import secrets
from dataclasses import KW_ONLY, dataclass
from typing import Any

import numpy as np

from core.config import Config
from core.errors import InvalidSettingError
from core.generation.form import FORM_STYLE, FORMS
from core.music.meter import parse_meter
from core.music.piece import DEFAULT_TEMPO_BPM
from core.music.scales import check_tonic, parse_scale

DEFAULT_TEMPERATURE = 1.0
# The tempo the pages play new pieces at (Generate's default, Home's tune, Evaluate's pieces);
# `SamplingSettings` and the CLI keep a piece's own default, `core.music.piece.DEFAULT_TEMPO_BPM`.
PAGE_TEMPO_BPM = 100.0
DEFAULT_TOP_K = 0  # 0: off
DEFAULT_TOP_P = 0.95
DEFAULT_LENGTH_TOKENS = 400
MAX_LENGTH_TOKENS = 20_000
MAX_LENGTH_S = 600.0
SEED_LIMIT = 2**31  # seeds shown to people stay short
MIN_TEMPO_BPM = 20.0
MAX_TEMPO_BPM = 400.0


@dataclass(frozen=True)
class SamplingSettings(Config):
    """How to sample. Length is in new tokens, or in seconds of new music at `tempo_bpm`."""

    temperature: float = DEFAULT_TEMPERATURE
    top_k: int = DEFAULT_TOP_K
    top_p: float = DEFAULT_TOP_P
    length_tokens: int | None = DEFAULT_LENGTH_TOKENS
    length_s: float | None = None  # when set, wins over length_tokens
    tempo_bpm: float = DEFAULT_TEMPO_BPM
    program: int = 0  # General MIDI instrument written into the MIDI file
    loop_guard: bool = True
    keep_pace: bool = True  # the piece keeps its opening's pace and chord size (`pace`)
    avoid_copies: bool = True  # no 2 bars copied from the training music (`copy_guard`)
    _: KW_ONLY
    key: int | None = None  # tonic (0 = C .. 11 = B) of the output; None: the tune's / model's
    scale: str | None = None  # a core.music.scales.Scale value; None: the tune's / model's mode
    lock_scale: bool = False  # new notes only on the scale's pitch classes
    # Follow the model's training music (`core.model.model_data.read_music_summary`): a single
    # line when it was one, new notes within its range. No effect for folders without the record.
    follow_training_music: bool = True
    # "style": the phrases return as in the model's training music (its form plan,
    # `core.generation.form`); "free": the model writes on, never restating (as before).
    form: str = FORM_STYLE
    # The piece's meter ("6/8"); "": the one it starts from (a primer's, a tune's own), 4/4
    # without one. The models know no meter: it sets the bars (sheet music, "keep bars", the
    # copy guard, the form plan), not the notes the model writes.
    meter: str = ""

    def __post_init__(self) -> None:
        if not 0.0 <= self.temperature <= 10.0:
            raise InvalidSettingError("temperature must be within 0..10")
        if self.top_k < 0:
            raise InvalidSettingError("top_k must be 0 (off) or positive")
        if not 0.0 < self.top_p <= 1.0:
            raise InvalidSettingError("top_p must be within (0, 1]")
        if self.length_s is None and self.length_tokens is None:
            raise InvalidSettingError("give a length in tokens or in seconds")
        if self.length_tokens is not None and not 1 <= self.length_tokens <= MAX_LENGTH_TOKENS:
            raise InvalidSettingError(f"length_tokens must be within 1..{MAX_LENGTH_TOKENS}")
        if self.length_s is not None and not 0.0 < self.length_s <= MAX_LENGTH_S:
            raise InvalidSettingError(f"length_s must be within (0, {MAX_LENGTH_S:g}]")
        if not MIN_TEMPO_BPM <= self.tempo_bpm <= MAX_TEMPO_BPM:
            raise InvalidSettingError("tempo_bpm must be within 20..400")
        if not 0 <= self.program <= 127:
            raise InvalidSettingError("program must be a General MIDI program 0..127")
        if self.key is not None:
            object.__setattr__(self, "key", check_tonic(self.key, name="key"))
        if self.scale is not None:  # "minor", "natural-minor", a Scale: stored as its value
            object.__setattr__(self, "scale", parse_scale(self.scale).value)
        if self.form not in FORMS:
            raise InvalidSettingError(f"form must be one of {', '.join(FORMS)}")
        if self.meter:
            try:
                object.__setattr__(self, "meter", str(parse_meter(self.meter)))
            except ValueError as error:
                raise InvalidSettingError(f"meter: {error}") from error


# The plain-language levels the pages offer; "Balanced" is the default everywhere (the Generate
# page, Home's "Play me a new tune", and the pieces an evaluation generates).
CREATIVITY_LEVELS: dict[str, float] = {
    "Calm": 0.15,
    "Balanced": 0.5,
    "Adventurous": 0.75,
    "Wild": 1.0,
}
DEFAULT_CREATIVITY = "Balanced"
# Creativity 0 / 0.5 / 1 → (temperature, top-p), straight lines between. The middle is the
# model's own distribution without its least likely 5% (SamplingSettings' defaults, so the CLI
# and the pages agree), because its music is measurably closer to the real held-out music than
# cooler settings (docs/generation.md, "Sampling settings, measured").
CREATIVITY_POINTS = (0.0, 0.5, 1.0)
CREATIVITY_TEMPERATURES = (0.6, DEFAULT_TEMPERATURE, 1.3)
CREATIVITY_TOP_PS = (0.85, DEFAULT_TOP_P, 1.0)


def creativity_to_settings(creativity: float, **overrides: Any) -> SamplingSettings:
    """Plain-language "creativity" 0..1 → temperature 0.6..1.3 and top-p 0.85..1.0."""
    level = min(max(float(creativity), 0.0), 1.0)
    temperature = round(float(np.interp(level, CREATIVITY_POINTS, CREATIVITY_TEMPERATURES)), 3)
    top_p = round(float(np.interp(level, CREATIVITY_POINTS, CREATIVITY_TOP_PS)), 3)
    return SamplingSettings(temperature=temperature, top_p=top_p, **overrides)


def new_seed() -> int:
    """A fresh random seed ("surprise me"), small enough to read aloud."""
    return secrets.randbelow(SEED_LIMIT)
