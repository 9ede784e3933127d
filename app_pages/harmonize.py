"""Harmonize: bring a tune (sing it, a music file, one of your pieces), choose four voices or
chords, and hear it harmonized; another harmonization on request; change a chord; keep it in
your pieces and share it."""

import streamlit as st

from ui import generation as gen
from ui import harmonize as hz
from ui import state

gen.prewarm_harmonizer()  # its models load in the background while a tune is chosen
gen.prewarm_default()  # and the bundled models, for "Harmonize it" pieces and their sound

st.title("Harmonize")
st.write(
    "Bring a tune, one note at a time, and hear it with music under it: your tune stays "
    "exactly as it is, on top."
)

state.workspace_or_none()  # harmonizing works even when storage fails; keeping says why not
tune = hz.tune_picker()
if tune is not None and tune.origin != hz.RECORDING_ORIGIN:  # a recording's is shown heard
    st.caption(hz.describe_tune(tune))
style = hz.style_picker()
hz.harmonize_new_recording(tune, style)
hz.harmonize_buttons(tune, style)
hz.do_asked_work(tune)
hz.show_result()
gen.drop_unhandled_work()
