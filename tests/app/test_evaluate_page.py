"""AppTest of the Evaluate page: the model's figures, judging a set, copies played side by side,
refusals, and the Train page's verdict that leads here."""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from core import jobs
from core.generation.generator import DEFAULT_MODEL_DIR, Generator
from core.generation.result import GenerationResult
from core.generation.settings import SamplingSettings
from core.jobs.records import JobRequest, JobState, JobStatus
from core.model.model_data import HELDOUT_FILE, load_index
from core.model.network import ModelConfig
from core.music.midi import midi_to_bytes, piece_to_midi
from core.storage.files import atomic_write_json, new_workspace_id, workspace_dir
from core.tokens.scheme import piece_to_tokens
from core.training.config import TrainingConfig
from tests.app.shown import shown
from tests.conftest import REPO
from ui import evaluation as ev
from ui import generation as gen


@pytest.fixture
def workspace_id(isolated_data_dir: Path) -> str:
    ws = new_workspace_id()
    workspace_dir(ws)
    return ws


def app(workspace_id: str) -> AppTest:
    at = AppTest.from_file(str(REPO / "streamlit_app.py"), default_timeout=120)
    at.query_params["ws"] = workspace_id
    at.run()
    at.switch_page("app_pages/evaluate.py").run()
    assert not at.exception
    return at


def my_copy_of_the_default_model(workspace_id: str, name: str) -> Path:
    path = jobs.models_dir(workspace_dir(workspace_id)) / name
    shutil.copytree(DEFAULT_MODEL_DIR, path)
    return path


def summary_lines(at: AppTest) -> list[str]:
    """The summary's three lines as a reader sees them (names are shown escaped, not rendered)."""
    return [m.value.replace("\\", "") for m in at.markdown
            if m.value.startswith(("🧠", "🎼", "🔍"))]


def bundled_metrics() -> dict:
    return json.loads((DEFAULT_MODEL_DIR / "metrics.json").read_text())


def test_bundled_model_figures_and_a_judged_set(workspace_id):
    at = app(workspace_id)
    metrics = {m.label: m.value for m in at.metric}
    recorded = bundled_metrics()
    assert metrics["Held-out perplexity"] == f"{recorded['val_perplexity']:.2f}"
    assert metrics["4-gram baseline"] == f"{recorded['baseline_perplexity']:.2f}"
    verdict = shown(at.success[0])  # fine-tuned: judged against the built-in model it started from
    assert verdict.startswith("Your model predicts your held-out music better than the built-in "
                              f"model did ({recorded['val_perplexity']:.2f} vs "
                              f"{recorded['start_val_perplexity']:.2f}")
    assert "A simple note-counting model scores" in verdict
    assert summary_lines(at) == []  # nothing judged yet
    at.slider(key=ev.COUNT_KEY).set_value(5)
    at.number_input(key=ev.SEED_KEY).set_value(3)
    at.button(key="evaluate_go").click().run()
    assert not at.exception and not at.error
    first = summary_lines(at)
    assert len(first) == 3 and "Summary of 5 piece" in " ".join(m.value for m in at.markdown)
    assert "stay in one key" in first[1]
    metrics = {m.label: m.value for m in at.metric}
    assert 0.5 < float(metrics["Stays in one key"]) <= 1.0
    assert len(at.get("plotly_chart")) >= 4  # curves, overlap, two histograms
    assert at.get("arrow_data_frame") or at.dataframe
    at.button(key="evaluate_go").click().run()
    assert summary_lines(at) == first  # same seed, same figures


def test_a_copied_passage_is_played_beside_its_source(workspace_id):
    """A piece made of training music is flagged, and both passages get a player."""
    at = app(workspace_id)
    index = load_index(DEFAULT_MODEL_DIR)
    notes = index.notes
    start = int(notes.offsets[10])
    copied = notes.excerpt(start, 60, name="my copy")
    generator = Generator.from_folder(DEFAULT_MODEL_DIR)
    result = GenerationResult(
        tokens=tuple(piece_to_tokens(copied, generator.encoding)),
        primer_length=0,
        piece=copied,
        midi_bytes=midi_to_bytes(piece_to_midi(copied)),
        seed=5,
        settings=SamplingSettings(),
        model_name=generator.name,
    )
    view = gen.GenerationView(id="copy", label="copy", result=result, ogg_bytes=b"")
    at.session_state[gen.HISTORY] = [view]
    at.run()
    source_options = at.radio(key=ev.SOURCE_KEY).options
    assert any("Generate page (1)" in o for o in source_options)
    at.radio(key=ev.SOURCE_KEY).set_value(source_options[1]).run()
    at.button(key="evaluate_go").click().run()
    assert not at.exception and not at.error
    originality = summary_lines(at)[2]
    assert notes.names[10] in originality and "1 of 1 piece(s) copy 2 bars or more" in originality
    assert len(at.get("audio")) == 2  # the generated passage and its source
    assert any("bars or more" in w.value or "bars are copied" in w.value for w in at.warning)


def test_a_model_without_held_out_data_is_refused_by_name(workspace_id):
    path = my_copy_of_the_default_model(workspace_id, "Old model")
    (path / HELDOUT_FILE).unlink()
    at = app(workspace_id)
    label = next(o for o in at.selectbox(key=ev.MODEL_KEY).options if "Old model" in o)
    at.selectbox(key=ev.MODEL_KEY).set_value(label).run()
    assert not at.exception
    # said at once, before any click, and the button cannot start what would fail
    assert "Old model" in shown(at.error[0]) and "held-out" in shown(at.error[0])
    assert at.button(key="evaluate_go").disabled
    assert summary_lines(at) == []
    assert any(m.label == "Held-out perplexity" for m in at.metric)  # its figures still show


def test_train_page_verdict_links_to_the_evaluation(workspace_id):
    workspace = workspace_dir(workspace_id)
    model_path = my_copy_of_the_default_model(workspace_id, "Chorales")
    status = JobStatus(job_id="00000000000000cc", state=JobState.FINISHED, epoch=24, epochs=24,
                       done=10, total=10, model_dir=str(model_path),
                       message="saved as Chorales", created_at=time.time())
    path = jobs.job_dir(workspace, status.job_id)
    path.mkdir(parents=True)
    request = JobRequest(sources=("bach-chorales",), dataset_name="Bach chorales",
                         model_name="Chorales", model=ModelConfig().to_dict(),
                         training=TrainingConfig().to_dict())
    atomic_write_json(path / jobs.REQUEST_FILE, request.to_dict())
    jobs.write_status(path, status)
    at = AppTest.from_file(str(REPO / "streamlit_app.py"), default_timeout=120)
    at.query_params["ws"] = workspace_id
    at.query_params["job"] = status.job_id
    at.run()
    at.switch_page("app_pages/train.py").run()
    assert not at.exception
    verdict = shown(at.success[0])
    recorded = bundled_metrics()
    assert "better than the built-in model did" in verdict
    assert f"note-counting model scores {recorded['baseline_perplexity']:.2f}" in verdict
    at.button(key=f"train_evaluate_{status.job_id}").click().run()
    assert not at.exception
    assert "Chorales" in at.selectbox(key=ev.MODEL_KEY).value
    assert any(m.label == "Held-out perplexity" for m in at.metric)

