"""Harmonize: where the tune comes from (a recording, a music file, one of your pieces), how it
should sound (four voices, or chords and an accompaniment), and the work of harmonizing it.

A tune is read once per recording, file or piece (session state, by its hash or id). The tune
can also be handed over by another page: a recording heard on Generate (ui.humming
`HARMONIZE_HEARD`) or a piece of the library (ui.library `HARMONIZE_PIECE`); the page then opens
on it. Harmonizing goes through the page's work lock (ui.generation `ask_for`): the click asks,
the next run draws the buttons locked and harmonizes once. The same tune, style and seed give
the same harmonization; "Another harmonization" asks for the next seed.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass

import streamlit as st

from core.errors import InvalidModelError, TunesmithError
from core.harmonize import HarmonyStyle, Melody, melody_from_piece, read_melody, service
from core.music import MUSIC_UPLOAD_TYPES
from ui import clicks, humming
from ui import generation as gen
from ui.harmonized import RESULT, HarmonizedView, harmonized_view, show_harmonization
from ui.library import HARMONIZE_PIECE
from ui.text import plain

# Session-state keys.
TUNES = "harmonize_tunes"  # {file hash or piece id: Melody | the sentence why not}
HEARD = "harmonize_heard"  # this page's transcriptions (ui.humming `heard_tune`)
HANDED = "harmonize_handed"  # humming.HandedTune: a recording heard on Generate
ERROR = "harmonize_error"  # the sentence of a harmonization that could not be made
MADE = "harmonize_made"  # the id of a harmonization just made: its player starts once
AUTO = "harmonize_auto"  # the recordings already harmonized on their own (by their hash)
# Widget keys.
SOURCE_KEY = "harmonize_source"
SOUND_KEY = "harmonize_sound"
RECORD_KEY = "harmonize_record"
AUDIO_UPLOAD_KEY = "harmonize_audio_upload"
FILE_KEY = "harmonize_file"
PIECE_KEY = "harmonize_piece"
STYLE_KEY = "harmonize_style"
GO_KEY = "harmonize_go"
AGAIN_KEY = "harmonize_again"

WORK = "harmonize"  # the work asked for (ui.generation `ask_for`)
MAX_TUNES = 8  # files and pieces whose tune a session keeps read

RECORD, FILE, PIECE = "record", "file", "piece"
RECORDING_ORIGIN = "your recording"
SOURCES = {
    RECORD: "Sing, hum or play it",
    FILE: "A music file",
    PIECE: "One of your pieces",
}
STYLE_LABELS = {
    HarmonyStyle.CHORALE: "Four voices, like a Bach chorale",
    HarmonyStyle.CHORDS: "Chords and an accompaniment (folk)",
}
STYLE_CAPTIONS = {
    HarmonyStyle.CHORALE: "Three more voices sing under your tune, each its own line, as a "
    "choir sings a hymn.",
    HarmonyStyle.CHORDS: "Chords for your tune, named the way a guitarist reads them (G, D7), "
    "played under it by a piano.",
}


@dataclass(frozen=True)
class Tune:
    """The tune to harmonize, and where it came from."""

    melody: Melody
    id: str  # the recording's or file's hash, or the piece's id
    origin: str  # in words: "your recording", "the file tune.mid", "your piece “…”"


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:24]


def _read_once(key: str, read: Callable[[], Melody]) -> Melody | str:
    """The tune read by `read`, once per `key` in this session; or the sentence why not."""
    tunes: dict[str, Melody | str] = st.session_state.setdefault(TUNES, {})
    if key not in tunes:
        try:
            tunes[key] = read()
        except TunesmithError as error:
            tunes[key] = str(error)
        while len(tunes) > MAX_TUNES:
            del tunes[next(iter(tunes))]
    return tunes[key]


def _take_handed_over() -> None:
    """A tune another page handed over: the page opens on it."""
    handed = st.session_state.pop(humming.HARMONIZE_HEARD, None)
    if handed is not None:
        st.session_state[HANDED] = handed
        st.session_state[SOURCE_KEY] = RECORD
    piece_id = st.session_state.pop(HARMONIZE_PIECE, None)
    if piece_id is not None:
        st.session_state[SOURCE_KEY] = PIECE
        st.session_state[PIECE_KEY] = piece_id


def _recorded_tune() -> Tune | None:
    preset = humming.preset_choice(key=SOUND_KEY)
    recording = humming.recording_input(record_key=RECORD_KEY, upload_key=AUDIO_UPLOAD_KEY)
    handed: humming.HandedTune | None = st.session_state.get(HANDED)
    if recording is None and handed is not None:  # the tune heard on Generate
        st.caption("The tune you recorded on the Generate page; record here for another.")
        humming.show_heard(handed.tune, key=f"harmonize_{handed.digest}")
        name, digest, heard = handed.name, handed.digest, handed.tune
    elif recording is None:
        st.info("Press the microphone, hum a tune for a few seconds, then press stop.")
        return None
    else:
        found = humming.heard_tune(recording, preset, cache=HEARD)
        if isinstance(found, str):
            st.error(plain(found))
            return None
        humming.show_heard(found, key=f"harmonize_{recording.digest}")
        name, digest, heard = recording.name, recording.digest, found
    # A transcription may hold a note over into the next: its top line is the tune
    melody = _read_once(digest, lambda: melody_from_piece(heard.piece, name=name, top_line=True))
    if isinstance(melody, str):
        st.error(plain(melody))
        return None
    return Tune(melody, digest, RECORDING_ORIGIN)


def _file_tune() -> Tune | None:
    upload = st.file_uploader(
        "Your tune as a MIDI, MusicXML or ABC file",
        type=MUSIC_UPLOAD_TYPES,
        key=FILE_KEY,
        help="The tune alone, one note at a time: a file with chords in it is refused.",
    )
    if upload is None:
        st.info("Choose a file that holds your tune, one note at a time.")
        return None
    data, name = upload.getvalue(), upload.name
    digest = _digest(data)
    melody = _read_once(digest, lambda: read_melody(data, name=name))
    if isinstance(melody, str):
        st.error(plain(melody))
        return None
    return Tune(melody, digest, f"the file {name}")


def _piece_tune() -> Tune | None:
    shelf = gen.library()
    records = shelf.pieces() if shelf is not None else []
    if shelf is None or not records:
        st.info("You have no pieces yet: make one on the Generate page, or bring your tune "
                "another way.")  # fmt: skip
        return None
    titles = {r.id: r.title for r in records}
    if st.session_state.get(PIECE_KEY) not in titles:  # deleted meanwhile
        st.session_state.pop(PIECE_KEY, None)
    piece_id = st.selectbox("Which piece?", list(titles), format_func=titles.__getitem__,
                            key=PIECE_KEY)  # fmt: skip
    title = titles[piece_id]
    melody = _read_once(
        f"{piece_id}-{title}",
        lambda: melody_from_piece(shelf.result(piece_id).piece, name=title, top_line=True),
    )
    if isinstance(melody, str):
        st.error(plain(melody))
        return None
    st.caption("Its top line is the tune: the highest note at each moment. The rest of the "
               "piece is left out and made again.")  # fmt: skip
    return Tune(melody, piece_id, f"your piece “{title}”")


def tune_picker() -> Tune | None:
    """Where the tune comes from, and the tune; None (with what to do) while there is none."""
    _take_handed_over()
    source = st.radio(
        "Where is your tune?", list(SOURCES), format_func=SOURCES.__getitem__,
        key=SOURCE_KEY, horizontal=True,
    )  # fmt: skip
    if source == RECORD:
        return _recorded_tune()
    if source == FILE:
        return _file_tune()
    return _piece_tune()


def describe_tune(tune: Tune) -> str:
    piece = tune.melody.piece
    return (
        f"{len(piece.notes)} notes · {piece.duration_s:.0f} s at {piece.tempo_bpm:.0f} BPM "
        f"· in {piece.key or 'an unknown key'}"
    )


def style_picker() -> HarmonyStyle:
    style: HarmonyStyle = st.radio(
        "How should it sound?",
        list(STYLE_LABELS),
        format_func=STYLE_LABELS.__getitem__,
        captions=[STYLE_CAPTIONS[s] for s in STYLE_LABELS],
        key=STYLE_KEY,
    )
    return style


# ---------------------------------------------------------------- harmonizing


def _ask(tune_id: str, style: str, seed: int) -> None:
    if not gen.busy():
        st.session_state.pop(ERROR, None)
    gen.ask_for(WORK, tune=tune_id, style=style, seed=seed)


def harmonize_new_recording(tune: Tune | None, style: HarmonyStyle) -> None:
    """A recording not harmonized yet is harmonized at once (number 1), as Generate continues a
    new recording: hum, stop, and hear it with voices or chords under it, no second click. Call
    before `harmonize_buttons`, so they are drawn locked while it is made."""
    if tune is None or tune.origin != RECORDING_ORIGIN or gen.busy():
        return
    done: set[str] = st.session_state.setdefault(AUTO, set())
    if tune.id not in done:
        done.add(tune.id)
        _ask(tune.id, style.value, 0)


def harmonize_buttons(tune: Tune | None, style: HarmonyStyle) -> None:
    """"Harmonize it", and "Another harmonization" of the tune shown; both locked meanwhile."""
    asked = gen.work_asked(WORK)
    locked = gen.busy() or tune is None
    shown: HarmonizedView | None = st.session_state.get(RESULT)
    tune_id = tune.id if tune is not None else ""
    with st.container(horizontal=True):
        clicks.button(
            "Harmonizing…" if asked else "Harmonize it",
            icon=":material/hourglass_top:" if asked else ":material/queue_music:",
            type="primary",
            key=GO_KEY,
            on_click=_ask,
            args=(tune_id, style.value, 0),
            disabled=locked,
        )
        again = shown is not None and shown.tune_id == tune_id
        if again and shown is not None and shown.harmonization.style is style:
            clicks.button(
                "Another harmonization",
                icon=":material/autorenew:",
                key=AGAIN_KEY,
                on_click=_ask,
                args=(tune_id, style.value, shown.harmonization.seed + 1),
                disabled=locked,
                help="The same tune harmonized another way. Each one can be made again: "
                "number 1 is always the same.",
            )


def do_asked_work(tune: Tune | None) -> None:
    """The harmonization asked for, made once (then a fresh run unlocks the buttons)."""
    asked = gen.work_asked(WORK)
    if asked is None:
        return
    if tune is not None and asked["tune"] == tune.id:
        try:
            with st.spinner("Harmonizing your tune…"):
                harmonization = service.harmonize(
                    tune.melody, style=HarmonyStyle(asked["style"]), seed=asked["seed"]
                )
                view = harmonized_view(harmonization, tune_id=tune.id, origin=tune.origin)
            st.session_state[RESULT] = view
            st.session_state[MADE] = view.id
            st.session_state.pop(ERROR, None)
        except InvalidModelError as error:  # the chorale model is missing or broken here
            st.session_state[ERROR] = (
                f"Four voices cannot be made on this server now ({error}). Chords and an "
                "accompaniment still can"
            )
        except TunesmithError as error:
            st.session_state[ERROR] = str(error)
    gen.work_done()


def show_result() -> None:
    """The harmonization made last (with why one could not be made, if that happened)."""
    refusal = st.session_state.get(ERROR)
    if refusal:
        st.error(plain(refusal))
    view: HarmonizedView | None = st.session_state.get(RESULT)
    if view is not None:
        made = st.session_state.pop(MADE, None) == view.id
        show_harmonization(view, autoplay=made)
