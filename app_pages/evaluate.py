"""Evaluate: pick a model, read its held-out figures, judge a set of its pieces in words."""

import streamlit as st

from ui import evaluation as ev
from ui import generation as gen
from ui import state

st.title("⚖️ Evaluate")
st.write("Is the model better than a simple baseline? Does its music sound like what it "
         "learned, and is it its own, or copied?")

workspace = state.workspace_or_none()  # the bundled models can be judged even so
choice = ev.model_picker(workspace)
generator = gen.load_chosen(choice)

if generator is not None and choice is not None:
    summary = st.container(border=True)  # filled once a set of pieces is judged
    ev.model_section(generator)
    report = ev.judge_controls(generator, choice.path)
    if report is None:
        with summary:
            st.caption("The summary appears here once its music is judged (section 2).")
    else:
        with summary:
            ev.show_summary(report)
        ev.style_section(report)
        ev.originality_section(report, choice.path)
        ev.degeneracy_section(report)
        ev.details_section(report)
