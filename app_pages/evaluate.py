"""Evaluate: pick a model, hear in words how well it learned, judge a set of its pieces."""

import streamlit as st

from ui import evaluation as ev
from ui import generation as gen
from ui import state

st.title("Evaluate")
st.write("Pick a model: first a sentence on how well it learned, then press the button to have "
         "it write 20 pieces and hear whether they sound like its music, are its own, and never "
         "get stuck.")

workspace = state.workspace_or_none()  # the bundled models can be judged even so
state.restore_choices(ev.CHOICE_DEFAULTS)  # as the visitor left them, on another page
choice = ev.model_picker(workspace)
generator = gen.load_chosen(choice)

if generator is not None and choice is not None:
    ev.model_section(generator, mine=ev.is_mine(choice))
    summary = st.container()  # the judged set in words, above the controls
    report = ev.judge_controls(generator, choice.path)
    if report is not None:
        with summary:
            ev.show_summary(report)
        ev.copies_section(report, choice.path)
    ev.details_section(generator, report)
    state.keep_choices(ev.CHOICE_DEFAULTS)
