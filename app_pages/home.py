import streamlit as st

from core.errors import TunesmithError
from ui import generation as gen
from ui.piece_actions import share_link_control
from ui.text import plain

gen.prewarm_default()  # loads the bundled model in the background: the first tune comes fast

st.title("Tunesmith: make music with AI")
st.markdown(
    """
1. **Data**: bring music in (a built-in collection, your MIDI/MusicXML/ABC files, or audio).
2. **Train**: teach a small neural network (an LSTM) the style of that music.
3. **Generate**: make new pieces and listen to them.
4. **Evaluate**: is the model better than a simple baseline, and is the piece original?
"""
)
st.page_link("app_pages/data.py", label="Start with your data", icon="📂")

st.subheader("Or just listen")
styles = {c.label.removesuffix(" (bundled)"): c.path for c in gen.bundled_choices()}
style = st.segmented_control("Style", list(styles), default=next(iter(styles), None),
                             key="home_style") if styles else None
if st.button("🎵 Play me a new tune", type="primary", key="home_play_tune"):
    try:
        with st.spinner("Composing…"):
            path = styles.get(style or "", gen.DEFAULT_MODEL_DIR)
            st.session_state[gen.HOME_TUNE] = gen.play_new_tune(path)
    except TunesmithError as error:
        st.error(plain(f"The bundled model: {error}"))
tune = st.session_state.get(gen.HOME_TUNE)
if tune is not None:
    gen.show_generation(tune, key_prefix="home", details=False)
    share_link_control(tune, key_prefix="home")
    st.page_link("app_pages/generate.py", label="Make more, your way", icon="🎹")
