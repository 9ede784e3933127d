"""Hum it, hear it continued: a microphone recording (or an audio file) becomes a tune the
model can continue, shown first as "this is what I heard".

The transcription of one recording is kept in session state by the recording's hash, so a
rerun (any click) does not transcribe it again; a new recording is continued at once.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import streamlit as st

from core.audio import AUDIO_UPLOAD_TYPES
from core.errors import TunesmithError
from core.generation import Generator, Primer, piece_to_primer
from core.music import key_label, midi_to_bytes, piece_to_midi
from core.transcription import (
    TRANSCRIPTION_PRESETS,
    HeardTune,
    TranscriptionPreset,
    recording_to_heard_tune,
)
from ui.audio_import import PRESET_LABELS
from ui.text import plain

RECORD_KEY = "generate_record"
SOUND_KEY = "generate_record_sound"
AUDIO_UPLOAD_KEY = "generate_audio_upload"
HEARD = "generate_heard"  # {recording hash and preset: HeardTune | error message}
CONTINUED = "generate_heard_continued"  # the hash of the last recording continued on its own
MAX_HEARD = 8  # recordings whose transcription a session keeps (the oldest go first)
HEARD_PROGRAM = 73  # the tune played back with a flute: a voice-like, clear sound


@dataclass(frozen=True)
class Recording:
    data: bytes
    name: str

    @property
    def digest(self) -> str:
        return hashlib.sha256(self.data).hexdigest()[:24]


def _preset() -> TranscriptionPreset:
    """What the recording is: the voice preset unless an instrument is named."""
    return st.selectbox(
        "What will you record?",
        list(PRESET_LABELS),
        format_func=PRESET_LABELS.__getitem__,
        index=list(PRESET_LABELS).index(TranscriptionPreset.VOICE),
        key=SOUND_KEY,
    )


def _recording() -> Recording | None:
    recorded = st.audio_input("Record: hum, sing, whistle or play", key=RECORD_KEY)
    uploaded = st.file_uploader(
        "…or an audio file", type=AUDIO_UPLOAD_TYPES, key=AUDIO_UPLOAD_KEY
    )
    if uploaded is not None:
        return Recording(uploaded.getvalue(), uploaded.name)
    if recorded is not None:
        return Recording(recorded.getvalue(), "my recording")
    return None


def heard_tune(recording: Recording, preset: TranscriptionPreset) -> HeardTune | str:
    """The recording's tune, transcribed once per recording and preset; an error line when
    unusable."""
    from ui.audio_import import cached_model

    heard: dict[str, HeardTune | str] = st.session_state.setdefault(HEARD, {})
    key = f"{recording.digest}-{preset.value}"
    if key not in heard:
        try:
            with st.spinner("Listening…"):
                heard[key] = recording_to_heard_tune(
                    recording.data,
                    model=cached_model(),
                    name=recording.name,
                    params=TRANSCRIPTION_PRESETS[preset],
                )
        except TunesmithError as error:
            heard[key] = str(error)
        while len(heard) > MAX_HEARD:
            del heard[next(iter(heard))]
    return heard[key]


def show_heard(tune: HeardTune, primer: Primer, *, key: str) -> None:
    """"This is what I heard": the tune in the player (MP3, its notes with a playhead)."""
    from ui.generation import render_ogg
    from ui.player import ogg_to_mp3, player

    piece = tune.piece
    st.markdown("**This is what I heard**")
    midi = midi_to_bytes(piece_to_midi(piece, program=HEARD_PROGRAM))
    player(piece, ogg_to_mp3(render_ogg(midi)), key=f"heard_{key}")
    # The primer's key, spelt as the key and scale controls spell it ("Eb", not music21's "E-")
    heard_key = key_label(primer.tonic, primer.scale or "major") if primer.tonic is not None else ""
    st.caption(
        f"{len(piece.notes)} notes · {piece.duration_s:.1f} s at {piece.tempo_bpm:.0f} BPM · "
        f"{heard_key or 'key unknown'}"
    )


def recording_primer(generator: Generator) -> Primer | str:
    """The recorded tune as a primer for `generator`, or a line saying what to do."""
    preset = _preset()
    recording = _recording()
    if recording is None:
        st.info("Press the microphone, hum a tune for a few seconds, then press stop.")
        return "no recording yet: record a tune or choose another start"
    tune = heard_tune(recording, preset)
    if isinstance(tune, str):
        st.error(plain(tune))
        return tune
    primer = piece_to_primer(tune.piece, generator.encoding)
    show_heard(tune, primer, key=recording.digest)
    return primer


def new_recording_to_continue() -> bool:
    """True once per new recording (or audio file): the page then continues it at once."""
    heard: dict[str, HeardTune | str] = st.session_state.get(HEARD, {})
    if not heard:
        return False
    latest = next(reversed(heard))
    if st.session_state.get(CONTINUED) == latest or isinstance(heard[latest], str):
        return False
    st.session_state[CONTINUED] = latest
    return True
