"""Basic Pitch's note-decoding settings, and the presets for what is playing."""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import Enum
from typing import Any

from core.config import Config
from core.errors import InvalidSettingError

# basic-pitch's defaults.
DEFAULT_ONSET_THRESHOLD = 0.5
DEFAULT_FRAME_THRESHOLD = 0.3
DEFAULT_MIN_NOTE_LENGTH_MS = 127.70
DEFAULT_MIDI_TEMPO_BPM = 120.0
MIN_MIDI_TEMPO_BPM = 1.0
MAX_MIDI_TEMPO_BPM = 1000.0


@dataclass(frozen=True)
class TranscriptionParams(Config):
    """Basic Pitch's note-decoding settings (its defaults are the defaults)."""

    onset_threshold: float = DEFAULT_ONSET_THRESHOLD
    frame_threshold: float = DEFAULT_FRAME_THRESHOLD
    min_note_length_ms: float = DEFAULT_MIN_NOTE_LENGTH_MS
    min_frequency_hz: float | None = None
    max_frequency_hz: float | None = None
    melodia_trick: bool = True
    midi_tempo_bpm: float = DEFAULT_MIDI_TEMPO_BPM
    # Polyphonic piano: recover the top line and drop octave ghosts (core/transcription/
    # cleanup.py). Off by default, so the default decoding stays basic-pitch's.
    top_line: bool = False

    def __post_init__(self) -> None:
        for name in ("onset_threshold", "frame_threshold"):
            if not 0.0 < getattr(self, name) < 1.0:
                raise InvalidSettingError(f"{name} must lie strictly between 0 and 1")
        if self.min_note_length_ms < 0:
            raise InvalidSettingError("min_note_length_ms must not be negative")
        for name in ("min_frequency_hz", "max_frequency_hz"):
            value = getattr(self, name)
            if value is not None and value <= 0:
                raise InvalidSettingError(f"{name} must be positive")
        if (
            self.min_frequency_hz is not None
            and self.max_frequency_hz is not None
            and self.min_frequency_hz >= self.max_frequency_hz
        ):
            raise InvalidSettingError("min_frequency_hz must be below max_frequency_hz")
        if not MIN_MIDI_TEMPO_BPM <= self.midi_tempo_bpm <= MAX_MIDI_TEMPO_BPM:
            raise InvalidSettingError(
                f"midi_tempo_bpm must lie within {MIN_MIDI_TEMPO_BPM:g}..{MAX_MIDI_TEMPO_BPM:g}"
            )


class TranscriptionPreset(Enum):
    """What is playing; each picks parameters measured on rendered examples."""

    PIANO = "piano"
    VOICE = "voice"
    GUITAR = "guitar"
    OTHER = "other"


# Chosen by measurement (scripts/tune_transcription_presets.py) on FluidSynth renders of each
# family, scored by onset F-measures; the setup and the figures: docs/transcription.md.
TRANSCRIPTION_PRESETS: dict[TranscriptionPreset, TranscriptionParams] = {
    TranscriptionPreset.PIANO: TranscriptionParams(
        onset_threshold=0.7, frame_threshold=0.5, min_note_length_ms=58.0, top_line=True
    ),
    TranscriptionPreset.VOICE: TranscriptionParams(
        onset_threshold=0.8, frame_threshold=0.3, min_note_length_ms=127.7
    ),
    TranscriptionPreset.GUITAR: TranscriptionParams(
        onset_threshold=0.8, frame_threshold=0.5, min_note_length_ms=90.0, melodia_trick=False
    ),
    TranscriptionPreset.OTHER: TranscriptionParams(
        onset_threshold=0.7, frame_threshold=0.5, min_note_length_ms=58.0
    ),
}
DEFAULT_TRANSCRIPTION_PRESET = TranscriptionPreset.OTHER


def preset_params(preset: TranscriptionPreset | str) -> TranscriptionParams:
    """The parameters of a preset, given as the Enum or its value ("voice")."""
    return TRANSCRIPTION_PRESETS[TranscriptionPreset(preset) if isinstance(preset, str) else preset]


def with_overrides(params: TranscriptionParams, **overrides: Any) -> TranscriptionParams:
    """`params` with the given fields replaced; None values are ignored."""
    return replace(params, **{k: v for k, v in overrides.items() if v is not None})
