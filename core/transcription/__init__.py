"""Audio to notes with Spotify's Basic Pitch (bundled ONNX model), and a hummed tune to one line."""

from core.transcription.basic_pitch import (
    Transcription,
    audio_to_midi,
    transcribe,
    transcription_to_dataset_midi,
    transcription_to_melody,
    transcription_to_piece,
    transcription_to_training_midi,
)
from core.transcription.events import NoteEvent
from core.transcription.humming import HeardTune, recording_to_heard_tune
from core.transcription.model import BasicPitchModel, load_model
from core.transcription.params import (
    DEFAULT_TRANSCRIPTION_PRESET,
    TRANSCRIPTION_PRESETS,
    TranscriptionParams,
    TranscriptionPreset,
)

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
    "transcription_to_dataset_midi",
    "transcription_to_melody",
    "transcription_to_piece",
    "transcription_to_training_midi",
]
