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
# A heard tune handed to the Harmonize page ("Harmonize it"): HandedTune, read there once.
HARMONIZE_HEARD = "harmonize_heard_handed"
MAX_HEARD = 8  # recordings whose transcription a session keeps (the oldest go first)
HEARD_PROGRAM = 73  # the tune played back with a flute: a voice-like, clear sound


@dataclass(frozen=True)
class Recording:
    data: bytes
    name: str

    @property
    def digest(self) -> str:
        return hashlib.sha256(self.data).hexdigest()[:24]


@dataclass(frozen=True)
class HandedTune:
    """A tune heard on one page and handed to another: the recording's name and hash, and
    what was heard."""

    name: str
    digest: str
    tune: HeardTune


def preset_choice(*, key: str = SOUND_KEY) -> TranscriptionPreset:
    """What the recording is: the voice preset unless an instrument is named."""
    return st.selectbox(
        "What will you record?",
        list(PRESET_LABELS),
        format_func=PRESET_LABELS.__getitem__,
        index=list(PRESET_LABELS).index(TranscriptionPreset.VOICE),
        key=key,
    )


def recording_input(
    *, record_key: str = RECORD_KEY, upload_key: str = AUDIO_UPLOAD_KEY
) -> Recording | None:
    """The microphone and an audio upload; the upload wins when both are given."""
    recorded = st.audio_input("Record: hum, sing, whistle or play", key=record_key)
    uploaded = st.file_uploader("…or an audio file", type=AUDIO_UPLOAD_TYPES, key=upload_key)
    if uploaded is not None:
        return Recording(uploaded.getvalue(), uploaded.name)
    if recorded is not None:
        return Recording(recorded.getvalue(), "my recording")
    return None


def heard_tune(
    recording: Recording, preset: TranscriptionPreset, *, cache: str = HEARD
) -> HeardTune | str:
    """The recording's tune, transcribed once per recording and preset; an error line when
    unusable. `cache`: the session-state key of the page's own transcriptions (Generate
    continues the newest of its own at once, so another page keeps its apart)."""
    from ui.audio_import import cached_model

    heard: dict[str, HeardTune | str] = st.session_state.setdefault(cache, {})
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


def show_heard(tune: HeardTune, primer: Primer | None = None, *, key: str) -> None:
    """"This is what I heard": the tune in the player (MP3, its notes with a playhead), in the
    primer's key (else the key estimated from the notes)."""
    from ui.generation import render_ogg
    from ui.player import ogg_to_mp3, player

    piece = tune.piece
    st.markdown("**This is what I heard**")
    midi = midi_to_bytes(piece_to_midi(piece, program=HEARD_PROGRAM))
    player(piece, ogg_to_mp3(render_ogg(midi)), key=f"heard_{key}")
    # The primer's key, spelt as the key and scale controls spell it ("Eb", not music21's "E-")
    heard_key = (
        key_label(primer.tonic, primer.scale or "major")
        if primer is not None and primer.tonic is not None
        else tune.key
    )
    st.caption(
        f"{len(piece.notes)} notes · {piece.duration_s:.1f} s at {piece.tempo_bpm:.0f} BPM · "
        f"{heard_key or 'key unknown'}"
    )


def recording_primer(generator: Generator) -> Primer | str:
    """The recorded tune as a primer for `generator`, or a line saying what to do."""
    preset = preset_choice()
    recording = recording_input()
    if recording is None:
        st.info("Press the microphone, hum a tune for a few seconds, then press stop.")
        return "no recording yet: record a tune or choose another start"
    tune = heard_tune(recording, preset)
    if isinstance(tune, str):
        st.error(plain(tune))
        return tune
    primer = piece_to_primer(tune.piece, generator.encoding)
    show_heard(tune, primer, key=recording.digest)
    harmonize_button(recording, tune)
    return primer


def harmonize_button(recording: Recording, tune: HeardTune) -> None:
    """"Harmonize it": the Harmonize page opens with this heard tune."""
    # Not an on_click: a callback runs before the router knows the pages it could switch to.
    if st.button("Harmonize it", icon=":material/queue_music:",
                 key=f"generate_harmonize_{recording.digest}",
                 help="Hear this tune with voices or chords under it."):  # fmt: skip
        st.session_state[HARMONIZE_HEARD] = HandedTune(recording.name, recording.digest, tune)
        st.switch_page("app_pages/harmonize.py")


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
