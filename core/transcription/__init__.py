"""Audio to notes with Spotify's Basic Pitch (bundled ONNX model), and a hummed tune to one line."""

from core.transcription.basic_pitch import (
    DEFAULT_TRANSCRIPTION_PRESET,
    TRANSCRIPTION_PRESETS,
    BasicPitchModel,
    NoteEvent,
    Transcription,
    TranscriptionParams,
    TranscriptionPreset,
    audio_to_midi,
    load_model,
    transcribe,
    transcription_to_piece,
    transcription_to_training_midi,
)
from core.transcription.humming import HeardTune, recording_to_heard_tune

__all__ = [
    "DEFAULT_TRANSCRIPTION_PRESET",
    "TRANSCRIPTION_PRESETS",
    "BasicPitchModel",
    "HeardTune",
    "NoteEvent",
    "Transcription",
    "TranscriptionParams",
    "TranscriptionPreset",
    "audio_to_midi",
    "load_model",
    "recording_to_heard_tune",
    "transcribe",
    "transcription_to_piece",
    "transcription_to_training_midi",
]
