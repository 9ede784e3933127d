"""The Generate page's controls: the model, how the music should feel (creativity, length,
tempo, instrument, key and scale), the seed, how a piece starts, and an optional soundfont.

Each returns what it chose; the page generates. Widget keys are prefixed `generate_`. Every
press of Generate draws a fresh seed (`generate_clicked`), so every press makes a new piece;
"Play it again the same way" (`seed_control`) keeps the seed instead.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import streamlit as st

from core.audio import DEFAULT_INSTRUMENT, INSTRUMENT_PROGRAMS
from core.data import stored_files
from core.errors import InvalidSoundfontError, TunesmithError
from core.generation import (
    CREATIVITY_LEVELS,
    DEFAULT_CREATIVITY,
    PAGE_TEMPO_BPM,
    Generator,
    Primer,
    SamplingSettings,
    creativity_to_settings,
    new_seed,
)
from core.generation.form import FORM_FREE, FORM_STYLE
from core.generation.primers import whole_piece_length
from ui import generation as gen
from ui.generation import ModelChoice, model_choices
from ui.text import plain

MODEL_KEY = "generate_model"
START_KEY = "generate_start"
UPLOAD_KEY = "generate_primer_upload"
MY_TUNE_KEY = "generate_primer_mine"
CREATIVITY_KEY = "generate_creativity"
LENGTH_KEY = "generate_length_s"
TEMPO_KEY = "generate_tempo"
INSTRUMENT_KEY = "generate_instrument"
VARIATIONS_KEY = "generate_variations"
SEED_KEY = "generate_seed"
SAME_SEED_KEY = "generate_same_seed"  # "play it again the same way": keep the seed
USED_SEED = "generate_used_seed"  # the newest piece's seed, shown in the seed box next run
PENDING_MODEL = "generate_pending_model"  # a model path the next Generate run starts on
GENERATE_ERROR = "generate_error"  # why the last press made nothing, shown once
ADVANCED_KEY = "generate_advanced"
TEMPERATURE_KEY = "generate_temperature"
TOP_K_KEY = "generate_top_k"
TOP_P_KEY = "generate_top_p"
SOUNDFONT_KEY = "generate_soundfont"
KEY_KEY = "generate_key"
SCALE_KEY = "generate_scale"
LOCK_KEY = "generate_lock_scale"
TUNE_TEMPO_KEY = "generate_tune_tempo"
FORM_KEY = "generate_form"
# The Form choice in words: its phrases come back as in the style's music, or never.
FORM_CHOICES = {
    "Like its music: phrases come back": FORM_STYLE,
    "Free: always something new": FORM_FREE,
}
METER_KEY = "generate_meter"
# The Meter choice in words. The models know no meter (issue 27): a piece takes the meter of
# what it starts from (a snippet of the training music its tune's, a tune of yours its own),
# and a blank page is in 4/4, unless one is chosen here; the bars of its sheet music, "keep
# bars", the form plan and the copy guard then follow it, and no note is held over a bar line.
METER_AS_IT_STARTS = "As it starts (4/4 from a blank page)"
METER_CHOICES = {
    METER_AS_IT_STARTS: "",
    "4/4: four beats to a bar": "4/4",
    "3/4: three, a waltz": "3/4",
    "2/4: two, a march or polka": "2/4",
    "6/8: two beats of three, a jig": "6/8",
    "9/8: three beats of three, a slip jig": "9/8",
}
TEMPO_MODEL_KEY = "generate_tempo_model"  # the model the tempo slider was last started for
FOLLOW_KEY = "generate_follow_music"

START_NOTHING = "A blank page"
START_EXCERPT = "A snippet of the music the model learned from"
START_MY_TUNE = "My own tune (continue it)"
START_HUM = "Hum, sing or play it to me (microphone)"
AS_MY_TUNE = "As my tune"  # with no tune to continue: the model's own key
DEFAULT_LENGTH_S = 20
MAX_LENGTH_S = 120
MAX_VARIATIONS = 4
MIN_PAGE_TEMPO_BPM = 40
MAX_PAGE_TEMPO_BPM = 200

# Every choice on the page, with its default (None: the widget's own), kept while the visitor
# is on other pages (`ui.state.restore_choices`); not the uploads, which Streamlit keeps no
# value of.
CHOICE_DEFAULTS: dict[str, object] = {
    MODEL_KEY: None,
    CREATIVITY_KEY: DEFAULT_CREATIVITY,
    LENGTH_KEY: DEFAULT_LENGTH_S,
    TEMPO_KEY: None,  # the model's tempo (`_start_tempo_for`)
    FOLLOW_KEY: True,
    FORM_KEY: None,
    METER_KEY: None,
    KEY_KEY: None,
    SCALE_KEY: None,
    LOCK_KEY: None,
    INSTRUMENT_KEY: DEFAULT_INSTRUMENT,
    ADVANCED_KEY: None,
    TEMPERATURE_KEY: None,  # the creativity's, when first shown
    TOP_K_KEY: None,
    TOP_P_KEY: None,
    VARIATIONS_KEY: 1,
    SAME_SEED_KEY: None,
    SEED_KEY: None,
    START_KEY: None,
    TUNE_TEMPO_KEY: True,
    MY_TUNE_KEY: None,
}


def choose_model_next(path: Path) -> None:
    """The Generate page opens on this model next time (the user may choose another there)."""
    st.session_state[PENDING_MODEL] = str(path)


def open_with_model(path: Path) -> None:
    """Go to the Generate page with this model chosen ("make one like it")."""
    choose_model_next(path)
    st.switch_page("app_pages/generate.py")


def model_picker(workspace: Path | None) -> ModelChoice | None:
    choices = model_choices(workspace)
    if not choices:
        st.warning("No model yet: train one on the Train page.")
        return None
    labels = [c.label for c in choices]
    pending = st.session_state.pop(PENDING_MODEL, None)
    for choice in choices:
        if pending and Path(pending).resolve() == choice.path.resolve():
            st.session_state[MODEL_KEY] = choice.label
    label = st.selectbox(
        "Model",
        labels,
        key=MODEL_KEY,
        help="The bundled models each learned one style; yours appear after training.",
    )
    return choices[labels.index(label)] if label in labels else choices[0]


def music_controls(generator: Generator | None = None) -> SamplingSettings:
    """Creativity, length, tempo, instrument (and, for the curious, the raw sampling knobs).

    The tempo starts at the tempo of the music `generator`'s model learned from, when its folder
    records it (else PAGE_TEMPO_BPM), and again whenever another model is chosen.
    """
    creativity = st.select_slider(
        "Creativity",
        options=list(CREATIVITY_LEVELS),
        key=CREATIVITY_KEY,
        help="Calm sticks to what the model knows best; Wild takes risks.",
    )
    length_s = st.slider("Length (seconds)", 5, MAX_LENGTH_S, key=LENGTH_KEY)
    _start_tempo_for(generator)
    tempo = st.slider(
        "Tempo (beats per minute)", MIN_PAGE_TEMPO_BPM, MAX_PAGE_TEMPO_BPM, key=TEMPO_KEY
    )
    follow = _follow_control(generator)
    form = _form_control(generator)
    meter = METER_CHOICES[
        str(
            st.selectbox(
                "Meter (beats in a bar)",
                list(METER_CHOICES),
                key=METER_KEY,
                help="How the beats group into bars, as in the sheet music. The models write "
                "in the bars of the tune they start from (4/4 from a blank page); choose one "
                "to hear it another way.",
            )
        )
    ]
    key, scale, lock = key_controls()
    instruments = list(INSTRUMENT_PROGRAMS)
    instrument = st.selectbox("Instrument", instruments, key=INSTRUMENT_KEY)
    settings = creativity_to_settings(
        CREATIVITY_LEVELS[creativity],
        length_tokens=None,
        length_s=float(length_s),
        tempo_bpm=float(tempo),
        program=INSTRUMENT_PROGRAMS[instrument],
        key=key,
        scale=scale,
        lock_scale=lock,
        follow_training_music=follow,
        form=form,
        meter=meter,
    )
    with st.expander("Fine-tune the randomness"):
        if st.toggle("Set temperature, top-k and top-p myself", key=ADVANCED_KEY):
            # They start at the creativity's settings (set here, not as the widgets' value:
            # `ui.state.restore_choices` says why).
            st.session_state.setdefault(TEMPERATURE_KEY, settings.temperature)
            st.session_state.setdefault(TOP_P_KEY, settings.top_p)
            temperature = st.number_input(
                "Temperature",
                0.0,
                3.0,
                step=0.05,
                key=TEMPERATURE_KEY,
                help="0 always picks the likeliest next note.",
            )
            top_k = st.number_input("Top-k (0: off)", 0, 500, key=TOP_K_KEY)
            top_p = st.number_input("Top-p", 0.05, 1.0, step=0.05, key=TOP_P_KEY)
            settings = SamplingSettings.from_dict(
                {
                    **settings.to_dict(),
                    "temperature": float(temperature),
                    "top_k": int(top_k),
                    "top_p": float(top_p),
                }
            )
    return settings


def _start_tempo_for(generator: Generator | None) -> None:
    """Put the tempo slider at the model's tempo when the model changes (first run included)."""
    model = str(generator.path or generator.name) if generator is not None else ""
    if st.session_state.get(TEMPO_MODEL_KEY) == model and TEMPO_KEY in st.session_state:
        return
    st.session_state[TEMPO_MODEL_KEY] = model
    tempo = generator.tempo_bpm if generator is not None else None
    start = round(tempo) if tempo is not None else int(PAGE_TEMPO_BPM)
    st.session_state[TEMPO_KEY] = min(max(start, MIN_PAGE_TEMPO_BPM), MAX_PAGE_TEMPO_BPM)


def _form_control(generator: Generator | None) -> str:
    """"Form": the style's (its tunes come back to their phrases as its music does) or free,
    shown for models whose folder has a form plan (`core.generation.form`)."""
    if generator is None or generator.form_plan is None:
        return FORM_STYLE  # no plan: both write the same free music
    choice = st.radio(
        "Form",
        list(FORM_CHOICES),
        key=FORM_KEY,
        horizontal=True,
        help="Real tunes come back to their phrases: a line answers the one before, a strain "
        "is played twice. Free never looks back. A snippet of its music goes on in its form; "
        "a continuation of your own tune is always free.",
    )
    return FORM_CHOICES[str(choice)]


def _follow_control(generator: Generator | None) -> bool:
    """"Sound like the music it learned from", shown for models whose folder says what that
    music is like (a single line, its range); the bundled models' does not."""
    music = generator.music if generator is not None else None
    if music is None:
        return True  # nothing recorded: the switch changes nothing
    texture = "one note at a time" if music.single_line else "chords as it likes"
    return st.toggle(
        "Keep to the music it learned from",
        key=FOLLOW_KEY,
        help=(
            f"That music was {texture}, over {music.pitch_high - music.pitch_low} semitones, at "
            f"about {music.tempo_bpm:.0f} BPM; new notes stay within that range, give or take a "
            "few semitones."
        ),
    )


def key_controls() -> tuple[int | None, str | None, bool]:
    """Key (a tonic or "as my tune"), scale, and whether new notes are locked to the scale."""
    from core.music import TONIC_NAMES, Scale

    left, right = st.columns(2)
    own = "“As my tune”: the key of the tune you continue, or the model's own key."
    key = left.selectbox("Key", [AS_MY_TUNE, *TONIC_NAMES], key=KEY_KEY, help=own)
    scale = right.selectbox(
        "Scale", [AS_MY_TUNE, *(s.value for s in Scale)], key=SCALE_KEY, help=own
    )
    lock = st.toggle(
        "Lock the new notes to this scale",
        key=LOCK_KEY,
        help="Every new note stays in the scale (your own tune is kept as you played it).",
    )
    return (
        None if key == AS_MY_TUNE else TONIC_NAMES.index(key),
        None if scale == AS_MY_TUNE else scale,
        bool(lock),
    )


def _tune_tempo_control() -> None:
    """Shown only while a tune is continued: with a blank page or a snippet it means nothing."""
    st.toggle(
        "Continue my tune at its own tempo",
        key=TUNE_TEMPO_KEY,
        help="Keep the tempo your tune was played at instead of the tempo slider's.",
    )


def continuing() -> bool:
    """Whether the piece continues a tune of one's own (a file or a recording)."""
    return st.session_state.get(START_KEY) in (START_MY_TUNE, START_HUM)


def with_tune_tempo(settings: SamplingSettings, primer: Primer | str | None) -> SamplingSettings:
    """The settings at the tune's own tempo when continuing a tune and the toggle says so."""
    from dataclasses import replace

    tempo = primer.tempo_bpm if isinstance(primer, Primer) else None
    if tempo and continuing() and st.session_state.get(TUNE_TEMPO_KEY, True):
        return replace(settings, tempo_bpm=min(max(float(tempo), 20.0), 400.0))
    return settings


def with_whole_length(
    settings: SamplingSettings, primer: Primer | str | None, generator: Generator
) -> SamplingSettings:
    """A piece started from a snippet of the model's music is as long as the slider says (the
    snippet counts); a tune of one's own is continued by that long."""
    if st.session_state.get(START_KEY) != START_EXCERPT or not isinstance(primer, Primer):
        return settings
    return whole_piece_length(
        settings, primer, steps_per_quarter=generator.encoding.steps_per_quarter
    )


def generate_clicked() -> None:
    """The Generate button's `on_click`: a fresh seed (unless "the same way"), then the work."""
    if gen.busy():
        return
    if not st.session_state.get(SAME_SEED_KEY):
        st.session_state[SEED_KEY] = new_seed()
    gen.ask_for("generate")


def seed_for_next_piece() -> int:
    """The seed the next piece made without the Generate button (a recording continued, keep
    bars, make longer) takes: fresh, unless "the same way"."""
    if st.session_state.get(SAME_SEED_KEY):
        return int(st.session_state.get(SEED_KEY, 0))
    return new_seed()


def show_used_seed(seed: int) -> None:
    """After the work: the seed box shows the newest piece's seed in the next run."""
    st.session_state[USED_SEED] = seed


def seed_control() -> int:
    """The seed of the next press: fresh each time, shown; "play it again the same way"
    keeps it (same seed and settings, same piece)."""
    if USED_SEED in st.session_state:
        st.session_state[SEED_KEY] = st.session_state.pop(USED_SEED)
    if SEED_KEY not in st.session_state:
        st.session_state[SEED_KEY] = new_seed()
    with st.expander("Play it again the same way", icon=":material/replay:"):
        same = st.toggle(
            "Make the same piece again",
            key=SAME_SEED_KEY,
            help="Every press of Generate makes a new piece. With this on, each press uses "
            "the seed below: the same seed and settings give the same piece, so you can hear "
            "one tune on another instrument or at another tempo.",
        )
        seed = st.number_input(
            "Seed (the same seed and settings give the same piece)",
            0,
            2**31 - 1,
            key=SEED_KEY,
            disabled=not same,
        )
    return int(seed)


def primer_picker(
    generator: Generator, user_music: Path | None, *, seed: int
) -> Primer | str | None:
    """How the piece starts. Returns a primer, None (a blank page) or an error line.

    The snippet of training music is drawn from `seed`, so the same seed gives the same piece.
    """
    from core.generation import music_to_primer

    options = [START_NOTHING]
    if generator.primers:
        options.append(START_EXCERPT)
    options += [START_MY_TUNE, START_HUM]
    start = st.radio("Start from", options, key=START_KEY)
    if start == START_EXCERPT:
        return generator.excerpt_primer(np.random.default_rng(seed))
    if start == START_HUM:
        from ui.humming import recording_primer

        _tune_tempo_control()
        return recording_primer(generator)
    if start != START_MY_TUNE:
        return None
    _tune_tempo_control()
    mine = {f.name: f.path for f in stored_files(user_music)} if user_music else {}
    upload = st.file_uploader(
        "A MIDI, MusicXML or ABC file",
        type=["mid", "midi", "musicxml", "xml", "mxl", "abc"],
        key=UPLOAD_KEY,
    )
    picked = (
        st.selectbox(
            "…or one from my dataset (uploads and transcriptions)",
            ["(none)", *mine],
            key=MY_TUNE_KEY,
        )
        if mine
        else "(none)"
    )
    try:
        if upload is not None:
            return music_to_primer(upload.getvalue(), generator.encoding, name=upload.name)
        if picked in mine:
            data = mine[picked].read_bytes()
            return music_to_primer(data, generator.encoding, name=str(picked))
    except TunesmithError as error:
        return str(error)
    except OSError:
        return f"{picked}: cannot be read any more; choose another tune"
    st.info("Choose a tune to continue, or start from a blank page.")
    return "no tune chosen yet"


def soundfont_control(workspace: Path | None) -> str | None:
    """An optional uploaded .sf2, checked and kept in the workspace. None: the GM default."""
    from core.audio import validate_soundfont
    from core.storage import atomic_write_bytes, check_room, saving

    with st.expander("Use my own sound (SoundFont .sf2)"):
        upload = st.file_uploader("SoundFont 2 file", type=["sf2"], key=SOUNDFONT_KEY)
        if upload is None or workspace is None:
            return None
        data = upload.getvalue()
        try:
            validate_soundfont(data, name=upload.name)
        except InvalidSoundfontError as error:
            st.error(plain(str(error)))
            return None
        # stored under its content's hash: the user's file name is only displayed
        path = workspace / "soundfonts" / f"{hashlib.sha256(data).hexdigest()[:32]}.sf2"
        if not path.exists():
            try:
                check_room(workspace, incoming_bytes=len(data), what=upload.name)
                with saving(upload.name):
                    atomic_write_bytes(path, data)
            except TunesmithError as error:
                st.error(plain(str(error)))
                return None
        st.caption(f"Playing with {plain(upload.name)}")
        return str(path)
