"""Sound: audio files decoded to mono blocks, and MIDI rendered to audio with FluidSynth
(WAV, OGG and MP3 bytes)."""

from core.audio.decoding import AUDIO_UPLOAD_TYPES
from core.audio.rendering import (
    DEFAULT_INSTRUMENT,
    DEFAULT_SAMPLE_RATE_HZ,
    INSTRUMENT_PROGRAMS,
    audio_to_mp3_bytes,
    audio_to_ogg_and_mp3,
    audio_to_ogg_bytes,
    audio_to_wav_bytes,
    midi_to_audio,
    ogg_to_mp3_bytes,
    validate_soundfont,
)

__all__ = [
    "AUDIO_UPLOAD_TYPES",
    "DEFAULT_INSTRUMENT",
    "DEFAULT_SAMPLE_RATE_HZ",
    "INSTRUMENT_PROGRAMS",
    "audio_to_mp3_bytes",
    "audio_to_ogg_and_mp3",
    "audio_to_ogg_bytes",
    "audio_to_wav_bytes",
    "midi_to_audio",
    "ogg_to_mp3_bytes",
    "validate_soundfont",
]
