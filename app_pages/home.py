import functools

import streamlit as st

from core.errors import TunesmithError
from ui import clicks, home_tune
from ui import generation as gen
from ui.piece_actions import share_link_control
from ui.player import player, view_mp3
from ui.text import plain

PENDING = "home_tune_pending"  # set by the button's click; the run that reads it makes the tune
PLAY_LABEL = "Play me a new tune"

gen.prewarm_default()  # loads the bundled model in the background: the first tune comes fast

st.title("Tunesmith: make music with AI")
st.markdown(
    "Press the button and Tunesmith writes a short tune that never existed, then plays it to "
    "you. It learned by listening to music; give it songs you like and it writes more like "
    "them, no music reading needed."
)

styles = {c.label.removesuffix(" (bundled)"): c.path for c in gen.bundled_choices()}
# required: a click on the chosen style keeps it, so a tune always has the style shown
style = (
    st.segmented_control(
        "Style", list(styles), default=next(iter(styles)), required=True, key="home_style"
    )
    if styles
    else None
)


def _ask_for_a_tune() -> None:
    st.session_state[PENDING] = True


# While a tune is being made the slot holds a locked button: a second click cannot queue a
# second tune. The working button replaces it when the tune is ready.
slot = st.empty()
made = False
chosen = styles.get(style or "", home_tune.DEFAULT_MODEL_DIR)
if st.session_state.pop(PENDING, False):
    slot.button(
        "Writing your tune…",
        type="primary",
        icon=":material/hourglass_top:",
        disabled=True,
        key="home_play_tune_busy",
    )
    try:
        st.session_state[gen.HOME_TUNE] = home_tune.play_new_tune(chosen)
        made = True
        home_tune.prefetch(chosen)  # at once: the next tune is under way while this one is sent
    except TunesmithError as error:
        st.error(plain(f"The bundled model: {error}"))
clicks.button(
    PLAY_LABEL,
    type="primary",
    icon=":material/play_arrow:",
    key="home_play_tune",
    on_click=_ask_for_a_tune,
    place=slot,
)

tune = st.session_state.get(gen.HOME_TUNE)
if tune is not None:
    mp3 = view_mp3(tune)
    player(tune.result.piece, mp3, key="home", autoplay=made)
    if tune.result.key_label:
        st.caption(f"In {tune.result.key_label}")
    stem = gen.download_stem(tune)
    wav = functools.partial(gen.render_wav, tune.result.midi_bytes, tune.soundfont)  # on click
    downloads = (
        ("MP3", mp3, "mp3", "audio/mpeg", ":material/music_note:"),
        ("MIDI", tune.result.midi_bytes, "mid", "audio/midi", ":material/piano:"),
        ("WAV", wav, "wav", "audio/wav", ":material/graphic_eq:"),
    )
    with st.container(horizontal=True):
        for label, data, extension, mime, icon in downloads:
            st.download_button(
                label,
                data,
                file_name=f"{stem}.{extension}",
                mime=mime,
                icon=icon,
                on_click="ignore",
                key=f"home_{extension}_{tune.id}",
            )
    share_link_control(tune, key_prefix="home")
    st.page_link("app_pages/generate.py", label="Make more, your way", icon=":material/tune:")

st.page_link("app_pages/data.py", label="Bring your own music", icon=":material/library_music:")
with st.expander("How it works", icon=":material/info:"):
    st.markdown(
        """
1. **Data**: bring music in (a built-in collection, your MIDI/MusicXML/ABC files, or audio).
2. **Train**: teach a small neural network (an LSTM) the style of that music.
3. **Generate**: make new pieces and listen to them.
4. **Evaluate**: is the model better than a simple baseline, and is the piece original?
"""
    )

# Last, once the page is drawn: the next tune of this style is made while this one plays.
home_tune.prefetch(chosen)
