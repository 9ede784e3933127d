"""Training jobs in the page: which job this tab follows, its live panel, and "My models".

The page keeps only the job's id (session state and `?job=` in the URL, so a reload or a page
switch reattaches); everything it draws is read from the job's folder, inside a fragment that
reruns every `POLL_INTERVAL_S` while the job is queued or running.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping, Sequence
from pathlib import Path

import plotly.graph_objects as go
import streamlit as st

from core import jobs
from core.errors import InvalidModelError, StorageError, TunesmithError
from core.evaluation import (
    Headline,
    ModelFigures,
    StyleCheck,
    heldout_sentence,
    kept_sentence,
    model_headline,
    model_verdict,
    read_style_check,
    style_figures,
    training_story,
    tunes_learned,
)
from core.jobs import JobState, JobStatus
from core.model import (
    delete_model_folder,
    list_model_folders,
    model_folder_to_zip,
    read_model_info,
    rename_model_folder,
    zip_to_model_folder,
)
from core.storage import check_room, saving
from ui import state
from ui.generate_controls import choose_model_next, open_with_model
from ui.text import plain

TRAIN_JOB_ID = "train_job_id"  # session state: the job this tab follows
JOB_QUERY_PARAM = "job"
NEW_MODEL_OFFERED = "train_offered_"  # + job id: its model was made Generate's next choice
POLL_INTERVAL_S = 1.0

_STATE_LABELS = {
    JobState.QUEUED: ":material/schedule: Waiting",
    JobState.RUNNING: ":material/model_training: Training",
    JobState.FINISHED: ":material/check_circle: Finished",
    JobState.FAILED: ":material/error: Failed",
    JobState.CANCELLED: ":material/stop_circle: Cancelled",
}
# What each phase of a job is doing, in words (core's phase names are for the code).
_PHASE_WORDS = {
    "waiting": "waiting for its turn",
    "loading data": "reading the music",
    "baseline": "getting ready",
    "validating": "checking it on music it has not seen",
    "saving": "saving the model",
    "checking its music": "listening to a few of its pieces",
}
# Plotly's toolbar sits over the top of a chart and covers it on a phone; nothing on these
# charts needs it (zooming a few points is not worth losing the top of the chart).
PLOTLY_CONFIG = {"displayModeBar": False}


# ---------------------------------------------------------------- which job


def current_job_id(workspace: Path) -> str | None:
    """The followed job: from session state, else from the URL; None if it does not exist."""
    job_id = st.session_state.get(TRAIN_JOB_ID) or st.query_params.get(JOB_QUERY_PARAM)
    if not job_id or not jobs.is_job_id(job_id):
        return None
    if not (jobs.job_dir(workspace, job_id) / jobs.STATUS_FILE).is_file():
        return None
    follow_job(job_id)
    return str(job_id)


def follow_job(job_id: str) -> None:
    st.session_state[TRAIN_JOB_ID] = job_id
    if st.query_params.get(JOB_QUERY_PARAM) != job_id:
        st.query_params[JOB_QUERY_PARAM] = job_id


def forget_job() -> None:
    st.session_state.pop(TRAIN_JOB_ID, None)
    if JOB_QUERY_PARAM in st.query_params:
        del st.query_params[JOB_QUERY_PARAM]


# ---------------------------------------------------------------- the job panel


def job_panel(workspace: Path, job_id: str) -> None:
    """The followed job: live while it is queued or running, static once it has ended."""
    path = jobs.job_dir(workspace, job_id)
    if jobs.read_status(path).state.active:
        _live_job_panel(str(path))
    else:
        _draw_job(path, jobs.read_status(path))


@st.fragment(run_every=POLL_INTERVAL_S)
def _live_job_panel(path_text: str) -> None:
    path = Path(path_text)
    status = jobs.read_status(path)
    _draw_job(path, status)
    if not status.state.active:
        st.rerun()  # the whole page: the static panel, and the new model in "My models"


def _draw_job(path: Path, status: JobStatus) -> None:
    try:
        request = jobs.read_request(path)
        title = f"**{plain(request.model_name)}** on {plain(request.dataset_name)}"
    except (OSError, ValueError, KeyError):
        title = "a training job"  # never its id
    st.markdown(f"{_STATE_LABELS[status.state]}: {title}")
    if status.message and status.state is not JobState.FINISHED:
        show = st.error if status.state is JobState.FAILED else st.caption
        show(plain(status.message))
    st.progress(status.fraction, text=progress_text(status))
    if status.state is JobState.FINISHED and status.model_dir:
        _verdict(Path(status.model_dir), status, key=status.job_id)
    elif status.history and status.state.active:
        st.markdown(plain(kept_sentence(status.history, status.start or None, finished=False)))
    if status.history:
        st.plotly_chart(loss_figure(status.history, status.baseline, status.start),
                        key=f"train_chart_{status.job_id}", config=PLOTLY_CONFIG)
        st.caption("Each point is one round. The lower the line, the less the next notes "
                   "surprise it; the line that counts is the one on music it has not seen.")
    elif status.state.active:
        st.caption("A picture of how it is learning appears after the first round.")
    if status.history or status.baseline:
        with st.expander("Details: the figures", icon=":material/info:"):
            _metrics_row(status)
    _job_buttons(path, status)


def _verdict(model_dir: Path, status: JobStatus, *, key: str) -> None:
    """In words first: does the new model write more like the user's music than the built-in
    model (when the job measured it), else did it learn; which round was kept and why, and why
    it stopped. The figures behind them under "details"."""
    try:
        metrics = read_model_info(model_dir)["metrics"]
    except InvalidModelError as error:  # deleted or renamed since: say so, never crash
        st.caption(plain(f"The model is no longer here ({error})."))
        return
    if not st.session_state.get(offered := f"{NEW_MODEL_OFFERED}{key}"):
        st.session_state[offered] = True  # once: a model chosen on Generate later stays chosen
        choose_model_next(model_dir)  # the menu's Generate opens on the model just trained
    check = read_style_check(metrics)
    figures = ModelFigures.from_metrics(model_dir.name, metrics)
    show_headline(model_headline(figures, check), check)
    story = training_story(figures, tunes=tunes_learned(model_dir, metrics),
                           rounds_planned=status.epochs or None)
    if story:
        st.markdown(plain(" ".join(story)))
    with st.container(horizontal=True):
        if st.button("Make music with it", key=f"train_generate_{key}", type="primary",
                     icon=":material/piano:", help="The Generate page, with this model chosen."):
            open_with_model(model_dir)
        if st.button("Hear it judged on 20 of its pieces", key=f"train_evaluate_{key}",
                     icon=":material/balance:",
                     help="Its music judged: in key? like what it learned? its own?"):
            state.open_evaluation(model_dir)
    with st.expander("Details: how this was judged", icon=":material/info:"):
        if check is not None:
            st.caption(f"From {check.pieces} short pieces ({check.length_s:g} s) by each model, "
                       f"made without the rules that follow your music, beside "
                       f"{check.real_pieces} piece(s) of your music.")
        st.markdown(plain(model_verdict(figures)))
        st.caption("The figure is perplexity: how surprised the model is, on average, by each "
                   "next note of music it never saw (lower is better). The note-counting model "
                   "(an n-gram) guesses the next note from the last few; a network should beat "
                   "it.")


def show_headline(headline: Headline, check: StyleCheck | None) -> None:
    """The page's first sentence, coloured by the news, with the style check's figures under
    it when the training measured them: the words first, and the figures that show them."""
    text = plain(headline.text)
    if check is not None and (shown := style_figures(check)):
        text += "\n\n" + plain(shown)
    (st.success if headline.good else st.warning)(text)


def progress_text(status: JobStatus) -> str:
    """Where the job is, in words: the round, the time left, what it is doing."""
    if status.state is JobState.QUEUED:
        if status.queue_place:  # the job's or the queue's own words, with its place
            return status.message[:1].upper() + status.message[1:] if status.message else (
                f"Waiting for a free slot: place {status.queue_place} in the queue")
        return "Starting…"
    rounds = status.epochs
    if not status.state.active:
        done = status.epochs_done
        if status.state is JobState.FINISHED and rounds:
            if done and done < rounds:
                return f"Finished after round {done} of {rounds}"
            return f"Finished: all {rounds} rounds"
        return f"Stopped after round {done} of {rounds}" if rounds else status.state.value
    parts = []
    if rounds:
        parts.append(f"Round {min(status.epoch, rounds)} of {rounds}")
    if status.phase == "training":
        if status.eta_s is not None:
            # early stopping can only end it sooner, so "at most" is the honest word
            parts.append(f"at most about {format_eta(status.eta_s)} left")
        else:
            parts.append("timing the first rounds")
    elif status.phase in _PHASE_WORDS:
        parts.append(_PHASE_WORDS[status.phase])
    return " · ".join(parts) or "Starting…"


def format_eta(seconds: float) -> str:
    seconds = max(int(seconds), 0)
    if seconds < 60:
        return f"{max(seconds, 1)} s"
    minutes = math.ceil(seconds / 60)
    return f"{minutes} min" if minutes < 90 else f"{minutes / 60:.1f} h"


def _metrics_row(status: JobStatus) -> None:
    last = status.history[-1] if status.history else {}
    scored = [h for h in (status.start, *status.history) if h]  # the base's own scores first
    best = min(scored, key=lambda h: h["val_loss"]) if scored else {}
    baseline = status.baseline.get("perplexity")
    cols = st.columns(4)
    cols[0].metric("Validation perplexity (best)",
                   f"{best['val_perplexity']:.2f}" if best else "–",
                   help="How surprised the model is by music it has not seen; lower is better.")
    cols[1].metric("N-gram baseline", f"{baseline:.2f}" if baseline else "–",
                   help="A counting model on the same data; the LSTM should go below it.")
    cols[2].metric("Validation accuracy", f"{last['val_accuracy']:.1%}" if last else "–",
                   help="How often its single best guess of the next note is right.")
    speed = status.tokens_per_s or (last.get("tokens_per_s") if last else None)
    cols[3].metric("Tokens per second", f"{speed:,.0f}" if speed else "–",
                   help="How fast it reads music while it learns (a token is one step of a "
                        "note: its time, pitch or length).")
    st.caption("Validation perplexity: how surprised it is by each next note of music it has "
               "not seen (lower is better). N-gram baseline: the same for a model that only "
               "counts which notes follow which. Loss on the chart is the same surprise in "
               "nats per token (perplexity = e^loss). A round is one check on that music.")


def loss_figure(history: Sequence[Mapping[str, float]], baseline: Mapping[str, float],
                start: Mapping[str, float] | None = None) -> go.Figure:
    """Training and validation loss per round, with the n-gram baseline as a dashed line, in
    plain words: "the music it learns from", "music it has not seen".

    `history` is training's per-round records; `baseline` holds the n-gram's "loss"; `start`,
    when fine-tuning, the base model's own validation scores, drawn at round 0."""
    epochs = [h["epoch"] for h in history]
    figure = go.Figure()
    if start:
        figure.add_trace(go.Scatter(x=[0], y=[start["val_loss"]], mode="markers",
                                    marker={"size": 10, "symbol": "diamond"},
                                    name="the built-in model, before training"))
    figure.add_trace(go.Scatter(x=epochs, y=[h.get("train_loss") for h in history],
                                mode="lines+markers", name="on the music it learns from"))
    figure.add_trace(go.Scatter(x=epochs, y=[h.get("val_loss") for h in history],
                                mode="lines+markers", name="on music it has not seen"))
    if "loss" in baseline:
        figure.add_hline(y=baseline["loss"], line_dash="dash", line_color="gray",
                         annotation_text="simple note counting", annotation_position="top left")
    figure.update_layout(xaxis_title="round",
                         yaxis_title="surprise at the next note (lower is better)", height=320,
                         margin={"l": 10, "r": 10, "t": 30, "b": 10},
                         legend={"orientation": "h", "y": -0.25})
    figure.update_xaxes(dtick=1)
    return figure


def _job_buttons(path: Path, status: JobStatus) -> None:
    left, right = st.columns(2)
    if status.state.active:
        cancelling = (path / jobs.CANCEL_FILE).exists()
        if left.button("Cancel", key=f"train_cancel_{status.job_id}", disabled=cancelling,
                       help="Stops within one batch; finished epochs are kept."):
            jobs.cancel_job(path)
        if cancelling:
            right.caption("Stopping…")
    elif status.state in (JobState.CANCELLED, JobState.FAILED):
        done = status.epochs_done  # without a finished epoch there is nothing to resume from
        label, hint = (("Resume", f"Continues after epoch {done}.") if done else
                       ("Try again", "No epoch was finished: starts from the beginning."))
        if left.button(label, type="primary", key=f"train_resume_{status.job_id}", help=hint):
            try:
                jobs.resume_job(path)
            except TunesmithError as error:  # no room for what it will write
                st.error(plain(str(error)))
            else:
                st.rerun()
        if right.button("Dismiss", key=f"train_dismiss_{status.job_id}"):
            forget_job()
            st.rerun()
    elif right.button("Train another model", key=f"train_new_{status.job_id}"):
        forget_job()
        st.rerun()


def recent_jobs(workspace: Path, *, current: str | None) -> None:
    """Other jobs of this workspace, to follow one again."""
    others = [s for s in jobs.list_jobs(workspace) if s.job_id != current]
    if not others:
        return
    with st.expander(f"Earlier training jobs ({len(others)})"):
        for status in others:
            try:
                name = jobs.read_request(jobs.job_dir(workspace, status.job_id)).model_name
            except (OSError, ValueError, KeyError):
                name = "a training job"  # never its id
            left, right = st.columns([3, 1])
            left.write(f"{_STATE_LABELS[status.state]} **{plain(name)}**, "
                       f"{status.epochs_done} epoch(s)")
            if right.button("Show", key=f"train_show_{status.job_id}"):
                follow_job(status.job_id)
                st.rerun()


# ---------------------------------------------------------------- my models


def my_models(workspace: Path) -> None:
    """Every model of this workspace: metrics, rename, delete, download; and upload a zip."""
    folder = jobs.models_dir(workspace)
    models = list_model_folders(folder)
    if not models:
        st.caption("No models yet: train one above, or upload a model zip below.")
    for path in models:
        _model_card(path)
    _model_upload(workspace)


def _model_card(path: Path) -> None:
    try:
        info = read_model_info(path)
    except InvalidModelError as error:  # a broken model can always be deleted
        left, right = st.columns([4, 1])
        left.error(plain(str(error)))
        if right.button("Delete", key=f"train_model_{path.name}_delete_broken"):
            _delete(path)
        return
    metrics = info["metrics"]
    with st.expander(path.name, icon=":material/music_note:"):
        _model_words(path, metrics)
        with st.popover("Details", icon=":material/info:"):
            cols = st.columns(2)
            cols[0].metric("Validation perplexity", _number(metrics.get("val_perplexity")),
                           help="How surprised it is by each next note of music it has not "
                                "seen; lower is better.")
            cols[1].metric("N-gram baseline", _number(metrics.get("baseline_perplexity")),
                           help="The same for a model that only counts which notes follow "
                                "which; a network should go below it.")
            cols = st.columns(2)
            cols[0].metric("Rounds", str(metrics.get("epochs_run", "–")),
                           help="Checks on music it has not seen, one after each stretch of "
                                "training.")
            cols[1].metric("Parameters", f"{metrics.get('parameters', 0):,}",
                           help="The numbers the network learned.")
            model = info["model"]
            dataset = plain(str(metrics.get("dataset", "unknown data")))
            st.caption(f"Trained on {dataset}: {model['layers']} LSTM layer(s) of "
                       f"{model['units']} units.")
            _heldout_caption(path.name, metrics)
        key = f"train_model_{path.name}"
        new_name = st.text_input("Name", value=path.name, key=f"{key}_name")
        left, middle, right, far = st.columns(4)
        if far.button("Evaluate", key=f"{key}_evaluate", icon=":material/balance:"):
            state.open_evaluation(path)
        if left.button("Rename", key=f"{key}_rename", disabled=new_name == path.name):
            try:
                with saving(f"Renaming {path.name}"):
                    rename_model_folder(path, jobs.safe_model_name(new_name))
            except (ValueError, StorageError) as error:
                st.error(plain(f"{path.name}: {error}"))
            else:
                st.rerun()
        middle.download_button("Download (.zip)", data=functools.partial(model_folder_to_zip, path),
                               file_name=f"{path.name}.zip", mime="application/zip",
                               key=f"{key}_download")
        if right.button("Delete", key=f"{key}_delete"):
            _delete(path)


def _model_words(path: Path, metrics: dict[str, object]) -> None:
    """The model's headline and the story of its training, in words."""
    figures = ModelFigures.from_metrics(path.name, dict(metrics))
    words = [model_headline(figures, read_style_check(metrics)).text]
    words += training_story(figures, tunes=tunes_learned(path, metrics))
    st.markdown(plain(" ".join(words)))


def _heldout_caption(name: str, metrics: dict[str, object]) -> None:
    """How much music its held-out figures rest on (said when the folder recorded it)."""
    figures = ModelFigures.from_metrics(name, dict(metrics))
    if figures is not None and (size := heldout_sentence(figures)):
        st.caption(plain(size))


def _delete(model_dir: Path) -> None:
    try:
        with saving(f"Deleting {model_dir.name}"):
            delete_model_folder(model_dir)
    except StorageError as error:
        st.error(plain(str(error)))
    else:
        st.rerun()


def _number(value: object) -> str:
    return f"{value:.2f}" if isinstance(value, int | float) and math.isfinite(value) else "–"


ADDED_UPLOADS = "train_added_uploads"  # session state: upload file id -> the model it became


def _model_upload(workspace: Path) -> None:
    upload = st.file_uploader("Upload a model (.zip downloaded from Tunesmith)", type=["zip"],
                              key="train_model_upload")
    if upload is None:
        return
    added: dict[str, str] = st.session_state.setdefault(ADDED_UPLOADS, {})
    if upload.file_id in added:  # a second click would add the same model again
        st.button("Add this model", key="train_model_add", disabled=True)
        st.caption(plain(f"Added as {added[upload.file_id]}."))
        return
    if st.button("Add this model", key="train_model_add"):
        name = jobs.unique_model_name(workspace, Path(upload.name).stem)
        data = upload.getvalue()

        def room(unpacked_bytes: int) -> None:  # what it takes once unpacked, not zipped
            check_room(workspace, incoming_bytes=unpacked_bytes, what=upload.name)

        try:
            with st.spinner("Checking the model…"), saving(upload.name):
                zip_to_model_folder(data, jobs.models_dir(workspace) / name, name=upload.name,
                                    before_unpack=room)
        except TunesmithError as error:
            st.error(plain(f"Not added: {error}"))
        else:
            added[upload.file_id] = name
            st.success(plain(f"Added {name}."))
