"""AppTest of the Train page: the form, a running job, a finished job and its model."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from core import jobs
from core.evaluation.style_check import FigureTriple, StyleCheck
from core.jobs.records import JobRequest, JobState, JobStatus
from core.model.folder import save_model_folder
from core.model.network import ModelConfig, build_model
from core.storage.files import new_workspace_id, workspace_dir
from core.tokens.config import EncodingConfig
from core.tokens.vocabulary import Vocabulary
from core.training.config import TrainingConfig
from core.training.presets import QUICK_STEPS, THOROUGH_INPUT_DROPOUT
from tests.app.plain_words import lab_words_in_view, words_in_view
from tests.app.shown import shown, shown_all
from tests.app.workspaces import save_broken_model
from tests.conftest import REPO
from ui import train_widgets as tw

PAGE = str(REPO / "app_pages" / "train.py")
HISTORY = (
    {"epoch": 1, "train_loss": 2.5, "val_loss": 2.2, "val_perplexity": 9.0,
     "val_accuracy": 0.35, "train_time_s": 10.0, "tokens_per_s": 4000.0},
    {"epoch": 2, "train_loss": 1.9, "val_loss": 1.7, "val_perplexity": 5.5,
     "val_accuracy": 0.48, "train_time_s": 10.0, "tokens_per_s": 4100.0},
)
BASELINE = {"loss": 1.66, "perplexity": 5.26, "accuracy": 0.47, "order": 4.0}


@pytest.fixture
def workspace_id(isolated_data_dir: Path) -> str:
    ws = new_workspace_id()
    workspace_dir(ws)
    return ws


def fake_job(workspace_id: str, status: JobStatus, name: str = "Chorales") -> Path:
    path = jobs.job_dir(workspace_dir(workspace_id), status.job_id)
    path.mkdir(parents=True)
    request = JobRequest(sources=("bach-chorales",), dataset_name="Bach chorales",
                         model_name=name, model=ModelConfig().to_dict(),
                         training=TrainingConfig().to_dict())
    from core.storage.files import atomic_write_json

    atomic_write_json(path / jobs.REQUEST_FILE, request.to_dict())
    jobs.write_status(path, status)
    return path


def page(workspace_id: str, job_id: str | None = None) -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=60)
    at.query_params["ws"] = workspace_id
    if job_id:
        at.query_params["job"] = job_id
    return at.run()


def test_new_training_form_defaults_to_the_data_page_choice(workspace_id, monkeypatch):
    submitted: list[JobRequest] = []
    monkeypatch.setattr(jobs, "submit_job",
                        lambda ws, request: submitted.append(request) or "0123456789abcdef")
    at = AppTest.from_file(PAGE, default_timeout=60)
    at.query_params["ws"] = workspace_id
    at.session_state["dataset_sources"] = ["folk-tunes"]
    at.session_state["dataset_name"] = "Irish folk tunes"
    at.run()
    assert not at.exception
    assert "chosen on the Data page" in at.selectbox(key="train_data").value.label
    assert at.radio(key="train_preset").value == "quick"  # a first result in minutes
    at.radio(key="train_preset").set_value("quick").run()
    # Fine-tuning the base model by default, for a budget of steps; its shape is the base's.
    assert at.radio(key="train_start_from_False").value == tw.START_BASE
    assert at.number_input(key="train_quick_steps").value == QUICK_STEPS
    assert at.number_input(key="train_quick_units").disabled
    name_box = next(t for t in at.text_input if t.key.startswith("train_model_name_"))
    assert name_box.value.startswith("Irish folk tunes")  # named after the chosen music
    name_box.set_value("Folk try")
    at.button(key="train_start").click().run()
    assert not at.exception
    (request,) = submitted
    assert request.sources == ("folk-tunes",) and request.model_name == "Folk try"
    assert request.base_model == "base" and request.training["max_steps"] == QUICK_STEPS
    # From scratch, the network's shape is mine to choose.
    at.radio(key="train_start_from_False").set_value(tw.START_SCRATCH).run()
    at.number_input(key="train_quick_scratch_units").set_value(64)
    at.button(key="train_start").click().run()
    request = submitted[-1]
    assert request.base_model is None and request.model["units"] == 64
    # The thorough preset hides a share of the input tokens; the field changes it.
    at.radio(key="train_start_from_False").set_value(tw.START_BASE).run()
    at.radio(key="train_preset").set_value("thorough").run()
    assert at.number_input(key="train_thorough_input_dropout").value == THOROUGH_INPUT_DROPOUT
    at.number_input(key="train_thorough_input_dropout").set_value(0.25)
    at.button(key="train_start").click().run()
    assert not at.exception
    assert submitted[-1].training["input_dropout"] == 0.25


def test_the_preset_chosen_stays_after_a_visit_to_another_page(workspace_id):
    app = AppTest.from_file(str(REPO / "streamlit_app.py"), default_timeout=60)
    app.query_params["ws"] = workspace_id
    app.run()
    app.switch_page("app_pages/train.py").run()
    app.radio(key=tw.PRESET_KEY).set_value("thorough").run()
    app.switch_page("app_pages/data.py").run()
    app.switch_page("app_pages/train.py").run()
    assert not app.exception
    assert app.radio(key=tw.PRESET_KEY).value == "thorough"


def test_running_job_shows_progress_chart_and_cancels(workspace_id):
    status = JobStatus(job_id="00000000000000aa", state=JobState.RUNNING, phase="training",
                       epoch=3, epochs=20, batch=10, batches=47, done=104, total=940,
                       loss=1.8, eta_s=600.0, history=HISTORY, baseline=BASELINE,
                       pid=os.getpid(), created_at=time.time())
    path = fake_job(workspace_id, status)
    at = page(workspace_id, status.job_id)
    assert not at.exception
    # early stopping can only end it sooner: the time left is an upper bound, and says so
    assert at.get("progress")[0].proto.text == "Round 3 of 20 · at most about 10 min left"
    assert "It is still improving: round 2 is its best so far" in " ".join(shown_all(at.markdown))
    assert lab_words_in_view(at) == []
    metrics = {m.label: m.value for m in at.metric}  # the figures, under "details"
    assert metrics["Validation perplexity (best)"] == "5.50"
    assert metrics["N-gram baseline"] == "5.26"
    chart = at.get("plotly_chart")[0].proto
    assert json.loads(chart.config)["displayModeBar"] is False  # no toolbar over the chart
    at.button(key=f"train_cancel_{status.job_id}").click().run()
    assert (path / jobs.CANCEL_FILE).exists()
    assert at.session_state["train_job_id"] == status.job_id


def test_queued_job_says_its_place(workspace_id):
    status = JobStatus(job_id="00000000000000bb", state=JobState.QUEUED, queue_place=2,
                       pid=os.getpid(), created_at=time.time())
    fake_job(workspace_id, status)
    at = page(workspace_id, status.job_id)
    assert "place 2 in the queue" in at.get("progress")[0].proto.text


def test_finished_job_and_my_models(workspace_id):
    workspace = workspace_dir(workspace_id)
    model_path = jobs.models_dir(workspace) / "Chorales"
    vocab = Vocabulary.build([["T4", "P60", "D4"]])
    config = ModelConfig(embedding_dim=4, units=8, layers=1)
    save_model_folder(model_path, keras_model=build_model(config, len(vocab)),
                      encoding=EncodingConfig(), vocab=vocab, config=config,
                      training=TrainingConfig().to_dict(),
                      metrics={"val_perplexity": 4.1, "baseline_perplexity": 5.26,
                               "epochs_run": 12, "parameters": 1234, "dataset": "Bach"})
    status = JobStatus(job_id="00000000000000cc", state=JobState.FINISHED, epoch=12, epochs=20,
                       done=940, total=940, history=HISTORY, baseline=BASELINE,
                       model_dir=str(model_path), message="saved as Chorales",
                       created_at=time.time())
    fake_job(workspace_id, status)
    at = page(workspace_id, status.job_id)
    assert not at.exception
    assert any("Finished" in m.value for m in at.markdown)
    assert at.get("download_button")
    at.text_input(key="train_model_Chorales_name").set_value("Bach mine").run()
    at.button(key="train_model_Chorales_rename").click().run()
    assert not at.exception
    assert (jobs.models_dir(workspace) / "Bach mine").is_dir()
    at.button(key="train_model_Bach mine_delete").click().run()
    assert not (jobs.models_dir(workspace) / "Bach mine").exists()
    at.button(key=f"train_new_{status.job_id}").click().run()
    assert at.button(key="train_start")  # back to the form; the old job is listed
    assert any("Earlier training jobs" in e.label for e in at.expander)


def test_failed_job_shows_its_error_and_offers_to_resume_only_from_a_checkpoint(workspace_id):
    failed = JobStatus(job_id="00000000000000dd", state=JobState.FAILED, epochs=20,
                       message="My dataset: no validation pieces (at least two pieces needed)",
                       created_at=time.time())
    fake_job(workspace_id, failed)
    at = page(workspace_id, failed.job_id)
    assert not at.exception
    assert "no validation pieces" in at.error[0].value
    assert at.button(key=f"train_resume_{failed.job_id}").label == "Try again"
    cancelled = JobStatus(job_id="00000000000000ee", state=JobState.CANCELLED, epoch=3,
                          epochs=20, history=HISTORY, baseline=BASELINE, created_at=time.time())
    fake_job(workspace_id, cancelled)
    at = page(workspace_id, cancelled.job_id)
    assert at.button(key=f"train_resume_{cancelled.job_id}").label == "Resume"


def test_a_fine_tuning_whose_base_stayed_best_shows_the_base_s_score(workspace_id):
    """When no round beats the base model's own weights, those are what was saved: the best
    figure and the chart's first point are the base's."""
    start = {"epoch": 0, "step": 0, "val_loss": 1.0, "val_perplexity": 2.72}
    status = JobStatus(job_id="00000000000000ff", state=JobState.RUNNING, phase="training",
                       epoch=3, epochs=12, batch=5, batches=40, done=85, total=480,
                       history=HISTORY, baseline=BASELINE, start=start, pid=os.getpid(),
                       created_at=time.time())
    fake_job(workspace_id, status)
    at = page(workspace_id, status.job_id)
    assert not at.exception
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Validation perplexity (best)"] == "2.72"
    chart = at.get("plotly_chart")[0].proto.spec
    assert "the built-in model, before training" in chart


def test_a_finished_fine_tuning_that_kept_the_base_says_so_in_words(workspace_id):
    """When no check beat the base, the saved model is the base unchanged: the page says the
    training did not improve on the built-in model (and says nothing of it otherwise)."""
    workspace = workspace_dir(workspace_id)
    vocab = Vocabulary.build([["T4", "P60", "D4"]])
    config = ModelConfig(embedding_dim=4, units=8, layers=1)
    start = {"epoch": 0, "step": 0, "val_loss": 1.0, "val_perplexity": 2.72}
    for name, kept, job_id in (("Kept", True, "00000000000000a1"),
                               ("Moved", False, "00000000000000a2")):
        model_path = jobs.models_dir(workspace) / name
        save_model_folder(model_path, keras_model=build_model(config, len(vocab)),
                          encoding=EncodingConfig(), vocab=vocab, config=config,
                          training=TrainingConfig().to_dict(),
                          metrics={"val_perplexity": 2.72, "baseline_perplexity": 5.26,
                                   "epochs_run": 3, "best_epoch": 0 if kept else 2,
                                   "start": start, "fine_tuned_from": "base",
                                   "kept_base_weights": kept, "dataset": "Mine"})
        status = JobStatus(job_id=job_id, state=JobState.FINISHED, epoch=3, epochs=3,
                           done=15, total=15, history=HISTORY, baseline=BASELINE, start=start,
                           model_dir=str(model_path), message=f"saved as {name}",
                           created_at=time.time())
        fake_job(workspace_id, status, name=name)
        at = page(workspace_id, job_id)
        assert not at.exception
        first = shown(at.warning[0])
        assert ("your model is the built-in one, unchanged" in first) is kept
        assert ("has not learned your music better than the built-in model" in first) is not kept
        assert lab_words_in_view(at) == []
        # the figures, under "details"
        assert "no better than the built-in model did" in " ".join(shown_all(at.markdown))


def test_a_finished_training_says_first_whether_it_writes_more_like_the_music(workspace_id):
    """The first sentence: does it now write more like the music than the built-in model (no
    figure), the style check's figures right under it; the comparison on the held-out music
    and how little music that rests on are under "details"."""
    workspace = workspace_dir(workspace_id)
    vocab = Vocabulary.build([["T4", "P60", "D4"]])
    config = ModelConfig(embedding_dim=4, units=8, layers=1)
    start = {"epoch": 0, "step": 0, "val_loss": 1.04, "val_perplexity": 2.82}
    check = StyleCheck({"polyphony": FigureTriple(1.0, 1.4, 1.0),
                        "pitch_range": FigureTriple(15.0, 23.0, 16.0),
                        "notes_per_beat": FigureTriple(2.0, 2.4, 2.1)},
                       pieces=4, length_s=15.0, real_pieces=5, base_model="base")
    model_path = jobs.models_dir(workspace) / "Mine"
    save_model_folder(model_path, keras_model=build_model(config, len(vocab)),
                      encoding=EncodingConfig(), vocab=vocab, config=config,
                      training=TrainingConfig().to_dict(),
                      metrics={"val_perplexity": 2.70, "baseline_perplexity": 3.10,
                               "epochs_run": 3, "best_epoch": 2, "start": start,
                               "fine_tuned_from": "base", "kept_base_weights": False,
                               "heldout_pieces": 1, "heldout_notes": 212,
                               "style_check": check.to_dict(), "dataset": "My dataset"})
    status = JobStatus(job_id="00000000000000b7", state=JobState.FINISHED, epoch=3, epochs=3,
                       done=15, total=15, history=HISTORY, baseline=BASELINE, start=start,
                       model_dir=str(model_path), message="saved as Mine",
                       created_at=time.time())
    fake_job(workspace_id, status, name="Mine")
    at = page(workspace_id, status.job_id)
    assert not at.exception
    assert shown(at.success[0]) == (
        "Your model now writes more like your music than the built-in one.\n\nNotes at once — "
        "your music 1.0, the built-in model 1.4, your model 1.0; range 15 / 23 / 16 semitones; "
        "notes per beat 2.0 / 2.4 / 2.1.")
    assert lab_words_in_view(at) == []
    details = " ".join(shown_all(at.markdown))
    assert ("Your model predicts your held-out music better than the built-in model did (2.70 "
            "vs 2.82; lower is better).") in details
    assert "Judged on 1 piece (212 notes) you did not train on." in details
    captions = shown_all(at.caption)
    assert any(c.startswith("From 4 short pieces (15 s) by each model") for c in captions)
    # My models says it too, behind its own "Details"
    assert any(c.startswith("Judged on 1 piece (212 notes)") for c in captions)

    # The next step is one click: Generate, with this model chosen.
    app = AppTest.from_file(str(REPO / "streamlit_app.py"), default_timeout=60)
    app.query_params["ws"] = workspace_id
    app.query_params["job"] = status.job_id
    app.run()
    app.switch_page("app_pages/train.py").run()
    app.button(key=f"train_generate_{status.job_id}").click().run()
    assert not app.exception
    assert app.selectbox(key="generate_model").value == "My model: Mine (My dataset)"


def test_the_menu_s_generate_opens_on_the_model_just_trained_then_keeps_the_choice(
    workspace_id,
):
    workspace = workspace_dir(workspace_id)
    vocab = Vocabulary.build([["T4", "P60", "D4"]])
    config = ModelConfig(embedding_dim=4, units=8, layers=1)
    model_path = jobs.models_dir(workspace) / "Mine"
    save_model_folder(model_path, keras_model=build_model(config, len(vocab)),
                      encoding=EncodingConfig(), vocab=vocab, config=config,
                      training=TrainingConfig().to_dict(),
                      metrics={"val_perplexity": 2.70, "baseline_perplexity": 3.10})
    status = JobStatus(job_id="00000000000000c8", state=JobState.FINISHED, epoch=3, epochs=3,
                       done=15, total=15, history=HISTORY, baseline=BASELINE,
                       model_dir=str(model_path), message="saved as Mine",
                       created_at=time.time())
    fake_job(workspace_id, status, name="Mine")
    app = AppTest.from_file(str(REPO / "streamlit_app.py"), default_timeout=60)
    app.query_params["ws"] = workspace_id
    app.query_params["job"] = status.job_id
    app.run()
    app.switch_page("app_pages/train.py").run()  # the finished job's verdict
    app.switch_page("app_pages/generate.py").run()  # through the menu, not the button
    assert not app.exception
    assert app.selectbox(key="generate_model").value == "My model: Mine"
    app.selectbox(key="generate_model").set_value("Irish folk tunes (bundled)").run()
    app.switch_page("app_pages/train.py").run()
    app.switch_page("app_pages/generate.py").run()
    assert app.selectbox(key="generate_model").value == "Irish folk tunes (bundled)"


def _finished_small_training(workspace_id: str, job_id: str, *, history, start, best: int,
                             rounds_planned: int, kept_base: bool) -> AppTest:
    """A fine-tuning on 5 tunes (4 to learn from, 1 held out) that stopped early."""
    from core.data.datasets import MusicSummary
    from core.model.model_data import write_music_summary

    workspace = workspace_dir(workspace_id)
    vocab = Vocabulary.build([["T4", "P60", "D4"]])
    config = ModelConfig(embedding_dim=4, units=8, layers=1)
    model_path = jobs.models_dir(workspace) / "Five tunes"
    best_score = start if best == 0 else history[best - 1]
    save_model_folder(model_path, keras_model=build_model(config, len(vocab)),
                      encoding=EncodingConfig(), vocab=vocab, config=config,
                      training=TrainingConfig().to_dict(),
                      metrics={"val_perplexity": best_score["val_perplexity"],
                               "baseline_perplexity": 3.10, "epochs_run": len(history),
                               "best_epoch": best, "start": start, "history": list(history),
                               "fine_tuned_from": "base", "kept_base_weights": kept_base,
                               "stopped_early": True, "heldout_pieces": 1,
                               "heldout_notes": 60, "dataset": "My dataset"})
    write_music_summary(model_path, MusicSummary(tempo_bpm=100.0, chord_onset_share=0.0,
                                                 max_notes_per_onset=1, pitch_low=60,
                                                 pitch_high=72, pieces=4))
    status = JobStatus(job_id=job_id, state=JobState.FINISHED, epoch=len(history),
                       epochs=rounds_planned, done=len(history) * 5, total=rounds_planned * 5,
                       history=history, baseline=BASELINE, start=start,
                       model_dir=str(model_path), message="saved as Five tunes",
                       created_at=time.time())
    fake_job(workspace_id, status, name="Five tunes")
    at = page(workspace_id, job_id)
    assert not at.exception
    return at


def _round(epoch: int, val_loss: float) -> dict[str, float]:
    return {"epoch": epoch, "train_loss": 1.0 - 0.1 * epoch, "val_loss": val_loss,
            "val_perplexity": 2.718281828 ** val_loss, "val_accuracy": 0.4,
            "train_time_s": 10.0, "tokens_per_s": 4000.0}


def test_held_out_music_getting_worse_every_round_is_said_in_words(workspace_id):
    """On 5 tunes the chart showed the held-out loss rising every round with no words: the
    page says what that means (it memorised them), what was kept, and why it stopped."""
    start = {"epoch": 0, "step": 0, "val_loss": 1.00, "val_perplexity": 2.72}
    rising = (_round(1, 1.05), _round(2, 1.10), _round(3, 1.20))
    at = _finished_small_training(workspace_id, "00000000000000c1", history=rising,
                                  start=start, best=0, rounds_planned=7, kept_base=True)
    said = " ".join(words_in_view(at))
    assert ("Each round of training made it worse at music it had not seen: it was memorising "
            "your 5 tunes instead of learning their style, so I kept the built-in model as it "
            "was. More of your music would help.") in said
    assert ("It stopped at round 3 of 7: it had stopped improving (3 rounds in a row without a "
            "better one).") in said
    assert at.get("progress")[0].proto.text == "Finished after round 3 of 7"
    assert lab_words_in_view(at) == []


def test_a_training_that_started_to_memorise_says_which_round_it_kept(workspace_id):
    start = {"epoch": 0, "step": 0, "val_loss": 1.00, "val_perplexity": 2.72}
    rounds = (_round(1, 0.95), _round(2, 0.90), _round(3, 0.93), _round(4, 0.97))
    at = _finished_small_training(workspace_id, "00000000000000c2", history=rounds,
                                  start=start, best=2, rounds_planned=7, kept_base=False)
    said = " ".join(words_in_view(at))
    assert "It started to memorise your 5 tunes after round 2, so I kept round 2." in said
    assert "It stopped at round 4 of 7: it had stopped improving (2 rounds in a row" in said
    assert shown(at.success[0]).startswith("Your model has learned your music")
    assert lab_words_in_view(at) == []


def test_a_running_job_that_gets_worse_every_round_says_so_while_it_runs(workspace_id):
    start = {"epoch": 0, "step": 0, "val_loss": 1.00, "val_perplexity": 2.72}
    status = JobStatus(job_id="00000000000000c3", state=JobState.RUNNING, phase="validating",
                       epoch=2, epochs=7, batch=5, batches=5, done=10, total=35,
                       history=(_round(1, 1.05), _round(2, 1.10)), baseline=BASELINE,
                       start=start, pid=os.getpid(), created_at=time.time())
    fake_job(workspace_id, status)
    at = page(workspace_id, status.job_id)
    assert not at.exception
    assert at.get("progress")[0].proto.text == (
        "Round 2 of 7 · checking it on music it has not seen")
    said = " ".join(words_in_view(at))
    assert "So far each round has made it worse at music it has not seen" in said
    assert "the best version is kept (now the built-in model as it was)" in said


def test_music_on_a_triplet_grid_trains_from_scratch_and_says_why(workspace_id, monkeypatch):
    submitted: list[JobRequest] = []
    monkeypatch.setattr(jobs, "submit_job",
                        lambda ws, request: submitted.append(request) or "0123456789abcdef")
    at = AppTest.from_file(PAGE, default_timeout=60)
    at.query_params["ws"] = workspace_id
    at.session_state["dataset_sources"] = ["bach-chorales"]
    at.session_state["dataset_name"] = "Triplets"
    at.session_state["dataset_encoding"] = EncodingConfig(steps_per_quarter=3).to_dict()
    at.run()
    assert not at.exception
    key = "train_start_from_True"
    assert at.radio(key=key).value == tw.START_SCRATCH  # the base knows the sixteenth grid only
    at.radio(key=key).set_value(tw.START_BASE).run()
    assert "grid" in at.error[0].value and at.button(key="train_start").disabled
    at.radio(key=key).set_value(tw.START_SCRATCH).run()
    at.button(key="train_start").click().run()
    assert submitted[-1].base_model is None


def test_a_broken_model_in_my_models_can_still_be_deleted(workspace_id):
    model_path = save_broken_model(workspace_dir(workspace_id))
    at = page(workspace_id)
    assert not at.exception
    assert "Broken" in shown(at.error[0]) and "metrics.json" in shown(at.error[0])
    at.button(key="train_model_Broken_delete_broken").click().run()
    assert not at.exception and not model_path.exists()


def test_after_a_reload_the_chosen_music_and_its_name_come_back(workspace_id):
    """A reload starts a new session: the dataset chosen on the Data page must still be the one
    offered, never a silent fallback to the Bach chorales."""
    from ui import state

    at = AppTest.from_file(str(REPO / "app_pages" / "data.py"), default_timeout=60)
    at.query_params["ws"] = workspace_id
    at.run()
    at.selectbox(key="data_preset").set_value("oneills-1850")
    at.number_input(key="data_limit").set_value(3)
    at.button(key="data_use_preset").click().run()
    assert not at.exception
    fresh = page(workspace_id)  # a new session on the same workspace, as after a reload
    choice = fresh.selectbox(key="train_data").value
    assert "chosen on the Data page" in choice.label and choice.sources == ("oneills-1850",)
    assert choice.limit == 3
    name_box = next(t for t in fresh.text_input if t.key.startswith("train_model_name_"))
    assert name_box.value.startswith("O'Neill's 1850")
    assert (workspace_dir(workspace_id) / state.DATASET_FILE).is_file()


def test_starting_a_job_above_the_workspace_quota_says_why(workspace_id, monkeypatch):
    monkeypatch.setenv(jobs.MAX_JOBS_PER_WORKSPACE_ENV, "1")
    running = JobStatus(job_id="00000000000000a9", state=JobState.RUNNING, pid=os.getpid(),
                        created_at=time.time())
    fake_job(workspace_id, running)
    at = page(workspace_id)  # not following it: the form is shown
    at.button(key="train_start").click().run()
    assert not at.exception
    assert "already waiting or running" in shown(at.error[0])
    assert len(jobs.list_jobs(workspace_dir(workspace_id))) == 1


def test_a_failed_job_shows_a_sentence_without_server_paths_or_ids(workspace_id):
    """A job folder from before failures were sentences: its message held shutil.Error's repr."""
    workspace = workspace_dir(workspace_id)
    where = f"{workspace}/models/.Mine.tmp/checkpoint/last.keras"
    source = f"{workspace}/jobs/00000000000000de/checkpoint/last.keras"
    old = f"Error([('{source}', '{where}', \"[Errno 28] No space left on device: '{where}'\")])"
    failed = JobStatus(job_id="00000000000000de", state=JobState.FAILED, epochs=20,
                       message=old, created_at=time.time())
    fake_job(workspace_id, failed)
    at = page(workspace_id, failed.job_id)
    assert not at.exception
    message = shown_all(at.error)[0]
    assert workspace_id not in message and failed.job_id not in message and "/" not in message


def test_resuming_without_room_says_why_and_starts_nothing(workspace_id, monkeypatch):
    cancelled = JobStatus(job_id="00000000000000ef", state=JobState.CANCELLED, epoch=1,
                          epochs=20, history=HISTORY[:1], baseline=BASELINE,
                          created_at=time.time())
    fake_job(workspace_id, cancelled)
    monkeypatch.setenv("TUNESMITH_WORKSPACE_QUOTA_MB", "1")  # less than the job will write
    at = page(workspace_id, cancelled.job_id)
    at.button(key=f"train_resume_{cancelled.job_id}").click().run()
    assert not at.exception
    assert shown_all(at.error)[-1].startswith("Resuming this training does not fit in your space")
    status = jobs.read_status(jobs.job_dir(workspace_dir(workspace_id), cancelled.job_id))
    assert status.state is JobState.CANCELLED
