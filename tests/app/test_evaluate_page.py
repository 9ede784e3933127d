"""AppTest of the Evaluate page: the model's figures, judging a set, copies played side by side,
refusals, and the Train page's verdict that leads here."""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path
from typing import Any

import pytest
from streamlit.testing.v1 import AppTest
from streamlit.testing.v1.errors import AppTestError

from core import jobs
from core.generation import PAGE_TEMPO_BPM
from core.generation.generator import DEFAULT_MODEL_DIR, Generator
from core.generation.result import GenerationResult
from core.generation.settings import SamplingSettings
from core.jobs.records import JobRequest, JobState, JobStatus
from core.model import passage_excerpt
from core.model.model_data import HELDOUT_FILE, load_index
from core.model.network import ModelConfig
from core.music.midi import midi_to_bytes, piece_to_midi
from core.storage.files import atomic_write_json, new_workspace_id, workspace_dir
from core.tokens.scheme import piece_to_tokens
from core.training.config import TrainingConfig
from tests.app.plain_words import lab_words_in_view
from tests.app.shown import shown, shown_all
from tests.conftest import REPO
from ui import evaluation as ev
from ui import generation as gen


@pytest.fixture
def workspace_id(isolated_data_dir: Path) -> str:
    ws = new_workspace_id()
    workspace_dir(ws)
    return ws


@pytest.fixture(autouse=True)
def _no_shared_reports():
    """Each test judges for itself: the built-in models' reports are shared by the server's
    sessions (and so by tests in one process)."""
    ev._shared_reports().reports.clear()
    yield
    ev._shared_reports().reports.clear()


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
    """The summary's lines (style, originality, stuck, form) as a reader sees them."""
    icons = tuple(ev.SUMMARY_ICONS.values())
    return [shown(m).split(" ", 1)[1] for m in at.markdown if m.value.startswith(icons)]


def player_rolls(at: AppTest) -> list[dict[str, Any]]:
    """What each player on the page draws (ui.player's picture)."""
    return [json.loads(e.proto.json) for e in at.get("bidi_component")
            if e.proto.component_name == "tunesmith_player"]


def bundled_metrics() -> dict:
    return json.loads((DEFAULT_MODEL_DIR / "metrics.json").read_text())


def test_bundled_model_figures_and_a_judged_set(workspace_id):
    at = app(workspace_id)
    # the first sentence in words; the figures under "details"
    assert shown(at.success[0]) == (
        "This model has learned its music: it guesses the next notes of pieces it never saw "
        "better than the built-in model it started from.")
    assert lab_words_in_view(at) == []
    metrics = {m.label: m.value for m in at.metric}
    recorded = bundled_metrics()
    assert metrics["Held-out perplexity"] == f"{recorded['val_perplexity']:.2f}"
    assert metrics["4-gram baseline"] == f"{recorded['baseline_perplexity']:.2f}"
    details = " ".join(shown_all(at.markdown))
    assert ("Your model predicts your held-out music better than the built-in model did "
            f"({recorded['val_perplexity']:.2f} vs {recorded['start_val_perplexity']:.2f}"
            ) in details
    assert "A simple note-counting model scores" in details
    assert summary_lines(at) == []  # nothing judged yet
    at.slider(key=ev.COUNT_KEY).set_value(5)
    at.number_input(key=ev.SEED_KEY).set_value(3)
    at.button(key=ev.GO_KEY).click().run()
    assert not at.exception and not at.error
    assert not at.button(key=ev.GO_KEY).disabled  # unlocked once it is done
    first = summary_lines(at)
    assert len(first) == 4 and shown(at.success[-1]).startswith("Its 5 pieces ")
    assert "in key" in first[0] and "bar" in first[3]  # the last: do its bars come back?
    assert lab_words_in_view(at) == []
    metrics = {m.label: m.value for m in at.metric}
    assert 0.5 < float(metrics["Stays in one key"]) <= 1.0
    assert len(at.get("plotly_chart")) >= 4  # curves, overlap, two histograms
    assert all(json.loads(c.proto.config)["displayModeBar"] is False
               for c in at.get("plotly_chart"))
    assert at.get("arrow_data_frame") or at.dataframe
    at.button(key=ev.GO_KEY).click().run()
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
    at.button(key=ev.GO_KEY).click().run()
    assert not at.exception and not at.error
    assert summary_lines(at)[1] == (
        "1 of its 1 pieces copy 2 bars or more of the music it learned: listen below to compare.")
    details = " ".join(shown_all(at.markdown))
    assert notes.names[10] in details and "1 of 1 piece(s) copy 2 bars or more" in details
    assert any("bars or more" in w.value or "bars are copied" in w.value for w in at.warning)
    # the generated passage and its source, each in its own player, as MP3
    audios = at.get("audio")
    assert len(audios) == 2
    assert all(a.proto.url.endswith(".mp3") for a in audios)  # served as audio/mpeg
    rolls = {r["container"]: r for r in player_rolls(at)}
    assert set(rolls) == {f"{ev.COPY_PLAYER_KEY}_player", f"{ev.SOURCE_PLAYER_KEY}_player"}
    (saved,) = at.session_state[ev.REPORTS].values()
    (found,) = saved.report.originality
    passage = found.longest
    assert passage is not None
    excerpts = {ev.COPY_PLAYER_KEY: passage_excerpt(saved.report.pieces[0], passage),
                ev.SOURCE_PLAYER_KEY: index.source_excerpt(passage)}
    for key, excerpt in excerpts.items():
        roll = rolls[f"{key}_player"]
        assert len(roll["notes"]) == passage.notes == len(excerpt.notes)
        # drawn at the tempo it is played at (both sides the evaluation's), within the audio
        seconds_per_step = 60.0 / PAGE_TEMPO_BPM / excerpt.steps_per_quarter
        last_end_s = max(n.end_step for n in excerpt.notes) * seconds_per_step
        assert max(end for _, end, _ in roll["notes"]) == pytest.approx(last_end_s, abs=1e-3)
        assert roll["total_s"] >= last_end_s and roll["autoplay"] is False
    # the page draws no roll of its own: its charts are the figures under "details"
    assert not at.get("imgs")
    (details,) = [e for e in at.expander if e.label.startswith("Details")]
    assert len(at.get("plotly_chart")) == len(details.get("plotly_chart")) >= 1


def test_a_model_without_held_out_data_is_refused_by_name(workspace_id):
    path = my_copy_of_the_default_model(workspace_id, "Old model")
    (path / HELDOUT_FILE).unlink()
    at = app(workspace_id)
    label = next(o for o in at.selectbox(key=ev.MODEL_KEY).options if "Old model" in o)
    at.selectbox(key=ev.MODEL_KEY).set_value(label).run()
    assert not at.exception
    # said at once, before any click, and the button cannot start what would fail
    assert "Old model" in shown(at.error[0]) and "held-out" in shown(at.error[0])
    assert at.button(key=ev.GO_KEY).disabled
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
    assert shown(at.success[0]).startswith("Your model has learned your music")
    recorded = bundled_metrics()
    details = " ".join(shown_all(at.markdown))
    assert f"note-counting model scores {recorded['baseline_perplexity']:.2f}" in details
    at.button(key=f"train_evaluate_{status.job_id}").click().run()
    assert not at.exception
    assert "Chorales" in at.selectbox(key=ev.MODEL_KEY).value
    assert any(m.label == "Held-out perplexity" for m in at.metric)



def my_model_with(workspace_id: str, name: str, **changes) -> Path:
    """My copy of the bundled model, its metrics changed as a training of mine would record
    them, trained on 5 tunes (4 to learn from, 1 held out)."""
    from core.data.datasets import MusicSummary
    from core.model.model_data import write_music_summary

    path = my_copy_of_the_default_model(workspace_id, name)
    metrics = {**bundled_metrics(), "heldout_pieces": 1, **changes}
    atomic_write_json(path / "metrics.json", metrics)
    write_music_summary(path, MusicSummary(tempo_bpm=100.0, chord_onset_share=0.5,
                                           max_notes_per_onset=4, pitch_low=40, pitch_high=80,
                                           pieces=4))
    return path


def choose(at: AppTest, name: str) -> AppTest:
    label = next(o for o in at.selectbox(key=ev.MODEL_KEY).options if name in o)
    at.selectbox(key=ev.MODEL_KEY).set_value(label).run()
    assert not at.exception
    return at


def check_of(verdict: int) -> dict:
    """A style check where my model is nearer my music than the built-in one (1) or farther
    (-1), on all three figures."""
    from core.evaluation.style_check import FigureTriple, StyleCheck

    near, far = (1.0, 1.4) if verdict > 0 else (1.4, 1.0)
    return StyleCheck({"polyphony": FigureTriple(1.0, far, near),
                       "pitch_range": FigureTriple(15.0, 10.0 + 5 * far, 10.0 + 5 * near),
                       "notes_per_beat": FigureTriple(2.0, 1.0 + far, 1.0 + near)},
                      pieces=4, length_s=15.0, real_pieces=5, base_model="base").to_dict()


def test_the_first_sentence_says_whether_my_model_writes_more_like_my_music(workspace_id):
    my_model_with(workspace_id, "Better", style_check=check_of(1))
    my_model_with(workspace_id, "Worse", style_check=check_of(-1))
    at = choose(app(workspace_id), "Better")
    assert shown(at.success[0]) == (
        "Your model now writes more like your music than the built-in one.\n\nNotes at once — "
        "your music 1.0, the built-in model 1.4, your model 1.0; range 15 / 17 / 15 semitones; "
        "notes per beat 2.0 / 2.4 / 2.0.")  # the figures that show it, right under the words
    assert lab_words_in_view(at) == []
    at = choose(at, "Worse")
    assert shown(at.warning[0]).startswith(
        "Your model does not write more like your music than the built-in one yet. More "
        "pieces of your music, of the same kind, would help it learn.\n\nNotes at once — "
        "your music 1.0, the built-in model 1.0, your model 1.4;")
    assert lab_words_in_view(at) == []


def test_held_out_music_getting_worse_every_round_is_said_first(workspace_id):
    start = {"epoch": 0, "step": 0, "val_loss": 1.00, "val_perplexity": 2.72}
    rounds = [{"epoch": i, "train_loss": 1.0 - 0.1 * i, "val_loss": 1.0 + 0.05 * i,
               "val_perplexity": 2.72 + 0.1 * i, "val_accuracy": 0.4} for i in (1, 2, 3)]
    my_model_with(workspace_id, "Memorised", history=rounds, start=start, best_epoch=0,
                  epochs_run=3, kept_base_weights=True, stopped_early=True, val_perplexity=2.72,
                  start_val_perplexity=2.72)
    at = choose(app(workspace_id), "Memorised")
    assert shown(at.warning[0]).startswith(
        "Training did not improve on the built-in model, so your model is the built-in one, "
        "unchanged")
    said = " ".join(shown_all(at.markdown))
    assert ("Each round of training made it worse at music it had not seen: it was memorising "
            "your 5 tunes instead of learning their style, so I kept the built-in model as it "
            "was.") in said
    assert "It stopped at round 3: it had stopped improving (3 rounds in a row" in said
    assert lab_words_in_view(at) == []


def test_judging_shows_its_progress_locks_the_button_and_is_never_done_twice(
        workspace_id, monkeypatch):
    import streamlit as st

    from core.evaluation import evaluate_model

    calls: list[int] = []
    stop_at_piece: list[int] = [3]  # the first run is cut off while it judges piece 3

    def judged(generator, *, count, seed, on_progress):
        calls.append(seed)
        if stop_at_piece:
            for done in range(stop_at_piece.pop()):
                on_progress(done, count, f"piece {done + 1} of {count}")
            st.stop()  # the page as a visitor sees it in the middle of the judging
        return evaluate_model(generator, count=count, seed=seed, on_progress=on_progress)

    monkeypatch.setattr(ev, "evaluate_model", judged)
    at = app(workspace_id)
    at.slider(key=ev.COUNT_KEY).set_value(5)
    at.button(key=ev.GO_KEY).click().run()
    assert not at.exception
    progress = at.get("progress")[0].proto
    assert progress.text == "Judging piece 3 of 5" and progress.value == 40
    assert at.button(key=ev.GO_KEY).disabled  # locked while it runs: no second click
    with pytest.raises(AppTestError, match="disabled"):
        at.button(key=ev.GO_KEY).click()
    # Another widget touched meanwhile reruns the page: the run in flight goes on as asked
    # (seed 1), nothing is added for the seed changed since.
    at.number_input(key=ev.SEED_KEY).set_value(9).run()
    assert not at.exception and not at.error
    assert calls == [1, 1] and len(summary_lines(at)) == 4
    assert not at.button(key=ev.GO_KEY).disabled
    assert "seeds 1–5" in " ".join(shown_all(at.caption))
    # The same pieces again: answered from the report, not judged again.
    at.number_input(key=ev.SEED_KEY).set_value(1)
    at.button(key=ev.GO_KEY).click().run()
    assert calls == [1, 1]
    at.number_input(key=ev.SEED_KEY).set_value(9)
    at.button(key=ev.GO_KEY).click().run()
    assert calls == [1, 1, 9] and "seeds 9–13" in " ".join(shown_all(at.caption))


def test_a_built_in_model_judged_once_is_not_judged_again_for_the_next_visitor(
        workspace_id, monkeypatch):
    from core.evaluation import evaluate_model

    calls: list[int] = []

    def judged(generator, *, count, seed, on_progress):
        calls.append(seed)
        return evaluate_model(generator, count=count, seed=seed, on_progress=on_progress)

    monkeypatch.setattr(ev, "evaluate_model", judged)
    first = app(workspace_id)
    first.slider(key=ev.COUNT_KEY).set_value(5)
    first.button(key=ev.GO_KEY).click().run()
    someone_else = app(new_workspace_id())
    someone_else.slider(key=ev.COUNT_KEY).set_value(5)
    someone_else.button(key=ev.GO_KEY).click().run()
    assert not someone_else.exception and calls == [1]
    assert summary_lines(someone_else) == summary_lines(first)
    # a visitor's own model is theirs: never shared
    my_copy_of_the_default_model(workspace_id, "Mine")
    for at in (choose(app(workspace_id), "Mine"), choose(app(workspace_id), "Mine")):
        at.slider(key=ev.COUNT_KEY).set_value(5)
        at.button(key=ev.GO_KEY).click().run()
    assert calls == [1, 1, 1]


def test_the_choices_stay_as_left_after_a_visit_to_another_page(workspace_id):
    at = app(workspace_id)
    assert at.slider(key=ev.COUNT_KEY).value == ev.DEFAULT_COUNT
    other = at.selectbox(key=ev.MODEL_KEY).options[1]
    at.selectbox(key=ev.MODEL_KEY).set_value(other).run()
    at.slider(key=ev.COUNT_KEY).set_value(7)
    at.number_input(key=ev.SEED_KEY).set_value(42).run()
    at.switch_page("app_pages/generate.py").run()
    at.switch_page("app_pages/evaluate.py").run()
    assert not at.exception
    assert at.selectbox(key=ev.MODEL_KEY).value == other
    assert at.slider(key=ev.COUNT_KEY).value == 7
    assert at.number_input(key=ev.SEED_KEY).value == 42
