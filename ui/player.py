"""One player for a piece: its audio, a picture of its notes with a playhead that moves while it
plays, play/pause, and the tune starting on the click that asked for it.

The audio is Streamlit's own `<audio>` element (`st.audio`): the bytes travel over HTTP with
range requests, which Safari and iPhones need, AppTest sees it, and the page keeps working
without script. The picture is a small `st.components.v2` component mounted in the page itself
(not an iframe, which could not reach that `<audio>` and would carry the audio again as
base64); it finds the `<audio>` through their shared container's CSS class (`st-key-<key>`)
and starts it: desktop Chromium lets a page that was clicked start sound. Safari starts sound
only while a tap is handled (Chrome on phones within a few seconds of one), and a tune arrives
after the tap that asked for it, so there the picture may show one large play button.
Streamlit keeps the same `<audio>` for the next tune, and an `<audio>` once started by a tap
may play again, so the next tunes start by themselves.

The picture is an SVG the component draws from the notes (start, end, pitch). Measured on a
16 s tune of 119 notes: 2 kB of data made in 0.2 ms, against `piece_to_figure`'s 7 kB of plotly
JSON made in 22 ms, which the browser draws only after loading Streamlit's 4.7 MB plotly bundle.
"""

from __future__ import annotations

import hashlib
import io
import re
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import streamlit as st

from core.audio import ogg_to_mp3_bytes
from core.music import Piece
from core.music.pianoroll import SEAM_BEFORE_COLOR, SEAM_LABEL

if TYPE_CHECKING:  # ui.generation shows its pieces with this player: no import cycle
    from ui.generation import GenerationView

MAX_DRAWN_NOTES = 3000  # an SVG of more rectangles redraws slowly on a phone; the rest is cut
ROLL_HEIGHT_PX = 120  # fits a phone's width without pushing the downloads below the fold
TIME_DECIMALS = 3  # milliseconds: finer than a frame of the playhead
# What Streamlit does to a key to make the CSS class `st-key-<key>` of its container
# (its frontend's own rule): the picture finds its <audio> by that class.
_NOT_IN_A_CLASS = re.compile(r"[^a-zA-Z0-9_-]")

_HERE = Path(__file__).parent
_ROLL = st.components.v2.component(
    "tunesmith_player",
    css=(_HERE / "player.css").read_text(encoding="utf-8"),
    js=(_HERE / "player.js").read_text(encoding="utf-8"),
    isolate_styles=False,  # in the page's own DOM: tests and the page see its <audio>
)


def piece_to_roll(piece: Piece) -> list[tuple[float, float, int]]:
    """The piece's notes as (start s, end s, pitch) at its own tempo, the first
    `MAX_DRAWN_NOTES` of them."""
    seconds_per_step = 60.0 / piece.tempo_bpm / piece.steps_per_quarter
    return [
        (
            round(n.onset_step * seconds_per_step, TIME_DECIMALS),
            round(n.end_step * seconds_per_step, TIME_DECIMALS),
            n.pitch,
        )
        for n in piece.notes[:MAX_DRAWN_NOTES]
    ]


def midi_to_roll(midi_bytes: bytes) -> list[tuple[float, float, int]]:
    """The MIDI's pitched notes as (start s, end s, pitch), earliest first, the first
    `MAX_DRAWN_NOTES` of them.

    Raises:
        InvalidMusicError: not a readable MIDI file.
    """
    from core.music.midi import read_midi

    midi = read_midi(midi_bytes)
    notes = sorted(
        (n.start, n.end, n.pitch)
        for instrument in midi.instruments
        if not instrument.is_drum
        for n in instrument.notes
    )
    return [
        (round(start, TIME_DECIMALS), round(end, TIME_DECIMALS), pitch)
        for start, end, pitch in notes[:MAX_DRAWN_NOTES]
    ]


def _audio_seconds(audio: bytes) -> float | None:
    import soundfile

    try:
        return float(soundfile.info(io.BytesIO(audio)).duration)
    except (RuntimeError, ValueError):  # soundfile's LibsndfileError is a RuntimeError
        return None


def _player_data(
    notes: Sequence[tuple[float, float, int]],
    *,
    audio_s: float | None,
    tune_id: str,
    container: str,
    autoplay: bool,
    seam_s: float | None,
) -> dict[str, Any]:
    """What the component draws: JSON-ready, the x axis as long as the audio."""
    end_s = max((end for _, end, _ in notes), default=0.0)
    pitches = [pitch for _, _, pitch in notes] or [60]
    return {
        "id": tune_id,
        "container": container,
        "notes": [list(n) for n in notes],
        "range": [min(pitches), max(pitches)],
        "total_s": round(max(audio_s or 0.0, end_s, 0.1), TIME_DECIMALS),
        "height": ROLL_HEIGHT_PX,
        "autoplay": autoplay,
        "seam_s": seam_s,
        "seam_label": SEAM_LABEL,  # the words core.music.pianoroll puts at the seam
        "before_color": SEAM_BEFORE_COLOR,  # the continued tune's own notes, grey there too
        "accent": st.get_option("theme.primaryColor"),
    }


def player(
    music: Piece | bytes,
    audio: bytes,
    *,
    key: str,
    audio_format: str = "audio/mpeg",
    autoplay: bool = False,
    seam_s: float | None = None,
) -> None:
    """Show a piece's player: its audio, its notes with a moving playhead, play/pause.

    Args:
        music: the piece, or its MIDI bytes (the notes are drawn at the MIDI's own times).
        audio: the rendered audio (MP3 plays in every browser; see `core.audio`).
        key: names this player on the page (unique there); its parts' keys start with it.
        audio_format: the audio's MIME type.
        autoplay: start playing as soon as it is shown (once per piece and browser tab), where
            the browser allows it; otherwise the picture shows a large play button.
        seam_s: where a continuation starts (a dashed line there, the notes before it grey),
            None: no seam.

    Raises:
        InvalidMusicError: `music` is MIDI bytes that cannot be read.
    """
    notes = piece_to_roll(music) if isinstance(music, Piece) else midi_to_roll(music)
    container = f"{key}_player"
    with st.container(key=container):
        st.audio(audio, format=audio_format)
        tune_id = f"{key}-{hashlib.blake2b(audio, digest_size=6).hexdigest()}"
        data = _player_data(
            notes,
            audio_s=_audio_seconds(audio),
            tune_id=tune_id,
            container=_NOT_IN_A_CLASS.sub("-", container.strip()),
            autoplay=autoplay,
            seam_s=seam_s,
        )
        _ROLL(key=f"{key}_roll", data=data)


@st.cache_data(show_spinner=False, max_entries=32)
def ogg_to_mp3(ogg_bytes: bytes) -> bytes:
    """The rendered OGG as MP3 (cached: a page shows the same pieces on every rerun; about
    0.3 s for a 30 s piece on the 2-core test machine), for the player and the MP3 download.

    Raises:
        InvalidMusicError: the bytes are not audio.
    """
    return ogg_to_mp3_bytes(ogg_bytes)


def view_mp3(view: GenerationView) -> bytes:
    """The piece's audio as MP3 (made with the piece, else encoded once and cached): for the
    player and the MP3 download."""
    return view.mp3_bytes if view.mp3_bytes is not None else ogg_to_mp3(view.ogg_bytes)
