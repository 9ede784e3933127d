"""Train: pick the music and the settings, follow the training live, manage the models."""

import streamlit as st

from core import jobs
from core.errors import TunesmithError
from ui import jobs as job_ui
from ui import state
from ui import train_widgets as tw
from ui.text import plain

st.title("Train a model")
st.write("Teach a model your music: pick the music, press Start training, and it learns to "
         "write like it. It works in the background (a few minutes for a quick one), so you can "
         "switch pages or reload and come back here.")
workspace = state.workspace()
state.restore_choices(tw.CHOICE_DEFAULTS)  # as the visitor left them, on another page

job_id = job_ui.current_job_id(workspace)
if job_id:
    st.subheader("Training")
    job_ui.job_panel(workspace, job_id)
else:
    st.subheader("New training")
    data = tw.data_picker()
    settings = tw.settings_form(data)
    # keyed by the data: choosing other music names the model after it again
    model_name = st.text_input("Model name", value=tw.default_model_name(data),
                               key=f"train_model_name_{data.label}")
    if st.button("Start training", type="primary", key="train_start", disabled=settings is None):
        assert settings is not None
        request = tw.make_request(data, settings,
                                  model_name=jobs.unique_model_name(workspace, model_name))
        try:
            job_ui.follow_job(jobs.submit_job(workspace, request))
        except TunesmithError as error:
            st.error(plain(str(error)))
        else:
            st.rerun()
    st.caption(jobs.training_capacity())
    state.keep_choices(tw.CHOICE_DEFAULTS)
job_ui.recent_jobs(workspace, current=job_id)

st.subheader("My models")
job_ui.my_models(workspace)
