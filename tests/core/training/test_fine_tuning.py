"""Training in steps and fine-tuning from a base model: real tiny Keras runs.

The base is a tiny network trained for a few steps on the patterned pieces with the vocabulary
of the whole grid (`Vocabulary.for_grid`), so any music on that grid fits it, as with the real
bundled base.
"""

from __future__ import annotations

import functools
import json
import math
from dataclasses import replace
from pathlib import Path

import keras
import numpy as np
import pytest
import tensorflow as tf

from core.data.datasets import Dataset, build_dataset
from core.errors import InvalidModelError, JobCancelled
from core.jobs.records import JobRequest
from core.model.folder import load_model_folder
from core.tokens.config import EncodingConfig
from core.tokens.vocabulary import Vocabulary
from core.training.checkpoints import read_checkpoint_state
from core.training.config import MIN_STEPS_PER_ROUND, TrainingConfig
from core.training.data import (
    allowed_shifts,
    make_windows,
    training_dataset,
    training_stream,
    transposition_tables,
)
from core.training.fine_tuning import TrainingStart, fine_tuning_setup, training_start
from core.training.loop import train
from core.training.presets import TRAINING_PRESETS
from core.training.records import TrainingProgress
from tests.core.training_fixtures import (
    TINY_MODEL,
    TINY_TRAINING,
    patterned_dataset,
    patterned_pieces,
    write_patterned_midi,
)

# 82 training windows of the patterned pieces in batches of 64: a pass is two batches.
STEPS_TRAINING = replace(TINY_TRAINING, batch_size=64, max_steps=12, steps_per_round=3)
GRID = EncodingConfig()


def grid_dataset() -> Dataset:
    """The patterned pieces with the vocabulary of every token of the default grid."""
    return build_dataset(
        patterned_pieces(), name="patterns", config=GRID, vocab=Vocabulary.for_grid(GRID)
    )


def predictions(model: keras.Model, vocab: Vocabulary) -> np.ndarray:
    ids = [vocab.bos_id, *(vocab.id_of(t) for t in ("P60", "D2", "T2", "P62", "D2", "T2"))]
    return np.asarray(model.predict_on_batch(np.array([ids], dtype=np.int32)))


@pytest.fixture(scope="module")
def base_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny base model folder named "base", trained from scratch for four steps."""
    root = tmp_path_factory.mktemp("fine-tuning")
    config = replace(STEPS_TRAINING, max_steps=4, steps_per_round=2)
    train(
        grid_dataset(),
        model_config=TINY_MODEL,
        training_config=config,
        checkpoint_dir=root / "ck",
        out_dir=root / "base",
    )
    return root / "base"


# ---------------------------------------------------------------- a budget in steps


def test_rounds_and_learning_rates_of_a_step_budget() -> None:
    assert TrainingConfig(max_steps=10, steps_per_round=4).rounds(7) == (4, 3)
    assert TrainingConfig(epochs=5).rounds(7) == (7, 5)  # no budget: whole passes
    assert TrainingConfig(epochs=5, steps_per_round=4).rounds(7) == (7, 5)
    assert TrainingConfig(max_steps=10).rounds(7) == (7, 2)  # a round is a pass by default
    assert TrainingConfig(max_steps=3, steps_per_round=4).rounds(7) == (3, 1)
    # Small data: a round is one pass (never under MIN_STEPS_PER_ROUND steps); large data
    # keeps its `steps_per_round`, as the quick preset had it before.
    quick = TrainingConfig(max_steps=280, steps_per_round=40)
    assert quick.rounds(1) == (MIN_STEPS_PER_ROUND, 56)
    assert quick.rounds(12) == (12, 24)
    assert quick.rounds(40) == quick.rounds(400) == (40, 7)
    config = TrainingConfig(learning_rate=0.01, epochs=30)
    rates = [config.learning_rate_at(e, 3) for e in range(3)]  # 3 rounds, not 30 epochs
    assert rates[:2] == [0.01, 0.01] and rates[2] == pytest.approx(0.001)
    with pytest.raises(ValueError):
        TrainingConfig(max_steps=0)
    with pytest.raises(ValueError):
        TrainingConfig(steps_per_round=0)


def test_presets_fine_tune_slower_than_they_train_from_scratch() -> None:
    quick = TRAINING_PRESETS["quick"]
    assert quick.training.max_steps and quick.training.steps_per_round
    assert quick.training_for(from_scratch=False) == quick.training
    scratch = quick.training_for(from_scratch=True)
    assert scratch.learning_rate == quick.scratch_learning_rate > quick.training.learning_rate
    assert replace(scratch, learning_rate=quick.training.learning_rate) == quick.training


@pytest.mark.slow
def test_a_step_budget_runs_rounds_of_steps(tmp_path: Path) -> None:
    seen: list[tuple[int, int, TrainingProgress]] = []
    result = train(
        patterned_dataset(),
        model_config=TINY_MODEL,
        training_config=STEPS_TRAINING,
        checkpoint_dir=tmp_path / "ck",
        on_progress=lambda done, total, info: seen.append((done, total, info)),
    )
    metrics = result.metrics
    assert {total for _, total, _ in seen} == {12}
    training = [(done, info) for done, _, info in seen if info.phase == "training"]
    assert [done for done, _ in training] == list(range(1, 13))  # every step reported once
    assert {info.epochs for _, info in training} == {4}
    assert {info.batches for _, info in training} == {3}
    assert seen[-1][0] == 12 and seen[-1][2].phase == "saving"
    history = metrics["history"]
    assert [h["step"] for h in history] == [3, 6, 9, 12]
    assert [h["epoch"] for h in history] == [1, 2, 3, 4]
    assert [h["learning_rate"] for h in history] == pytest.approx(
        [STEPS_TRAINING.learning_rate_at(e, 4) for e in range(4)]
    )
    assert metrics["epochs_run"] == 4 and not metrics["stopped_early"]
    assert metrics["fine_tuned_from"] is None and math.isnan(metrics["start_val_perplexity"])
    assert metrics["val_loss"] < history[0]["val_loss"]  # it learned within the budget


@pytest.mark.slow
def test_early_stopping_ends_a_step_budget_at_a_round(tmp_path: Path) -> None:
    # At this rate the weights do not move: no round after the first improves on it.
    config = replace(STEPS_TRAINING, learning_rate=1e-9, patience=1)
    seen: list[tuple[int, int, str]] = []
    result = train(
        patterned_dataset(),
        model_config=TINY_MODEL,
        training_config=config,
        checkpoint_dir=tmp_path / "ck",
        on_progress=lambda done, total, info: seen.append((done, total, info.phase)),
    )
    metrics = result.metrics
    assert metrics["stopped_early"] and metrics["epochs_run"] == 2 and metrics["best_epoch"] == 1
    assert [h["step"] for h in metrics["history"]] == [3, 6]
    assert max(done for done, _, phase in seen if phase == "training") == 6
    assert {total for _, total, _ in seen} == {12}


@pytest.mark.slow
def test_a_resumed_step_budget_ends_where_an_unbroken_one_does(tmp_path: Path) -> None:
    config = replace(STEPS_TRAINING, max_steps=6)
    whole = train(
        patterned_dataset(),
        model_config=TINY_MODEL,
        training_config=config,
        checkpoint_dir=tmp_path / "whole",
    ).metrics
    checkpoint = tmp_path / "ck"

    def after_first_round() -> bool:
        state = read_checkpoint_state(checkpoint)
        return state is not None and state.epochs_done >= 1

    with pytest.raises(JobCancelled):
        train(
            patterned_dataset(),
            model_config=TINY_MODEL,
            training_config=config,
            checkpoint_dir=checkpoint,
            should_stop=after_first_round,
        )
    resumed = train(
        patterned_dataset(),
        model_config=TINY_MODEL,
        training_config=config,
        checkpoint_dir=checkpoint,
    ).metrics
    assert [h["step"] for h in resumed["history"]] == [3, 6]
    for a, b in zip(whole["history"], resumed["history"], strict=True):
        assert a["val_loss"] == pytest.approx(b["val_loss"], abs=1e-5)


# ---------------------------------------------------------------- the stream of batches


PAD_ID = 0  # special tokens come first in every vocabulary


@functools.cache
def _stream_inputs() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(windows, table, allowed) of the patterned pieces, with transpositions of ±2."""
    dataset = patterned_dataset(encoding=TrainingConfig(augmentation=True).encoding())
    windows = make_windows(dataset.train_ids(), length=9, stride=8)
    _, table = transposition_tables(dataset.vocab, 2)
    return windows, table, allowed_shifts(windows, table)


def _batches(data: tf.data.Dataset) -> list[tuple[np.ndarray, np.ndarray]]:
    return [(x.numpy(), y.numpy()) for x, y in data]


def _stream(
    first_step: int, steps: int, *, batch_size: int, per_pass: int, input_dropout: float = 0.0
) -> list:
    windows, table, allowed = _stream_inputs()
    data = training_stream(
        windows,
        table=table,
        allowed=allowed,
        batch_size=batch_size,
        seed=7,
        batches_per_pass=per_pass,
        first_step=first_step,
        steps=steps,
        input_dropout=input_dropout,
        pad_id=PAD_ID,
    )
    return _batches(data)


@pytest.mark.parametrize(
    ("batch_size", "per_pass"),
    [(4, 3), (64, 3)],  # a pass capped at 3 of its batches; whole passes: 64 + 64 + 34
    ids=["capped", "short-last-batch"],
)
def test_a_stream_started_at_step_k_is_the_tail_of_the_whole_stream(
    batch_size: int, per_pass: int
) -> None:
    windows, table, allowed = _stream_inputs()
    per_pass = min(per_pass, math.ceil(len(windows) / batch_size))
    total = 4 * per_pass
    full = _stream(0, total, batch_size=batch_size, per_pass=per_pass)
    assert len(full) == total
    if per_pass * batch_size >= len(windows):  # whole passes: the last batch is short
        assert len(full[per_pass - 1][0]) == len(windows) - (per_pass - 1) * batch_size
        assert len(full[per_pass - 1][0]) < batch_size
    for k in range(1, 2 * per_pass + 2):  # within a pass, at a boundary, and across one
        tail = _stream(k, total - k, batch_size=batch_size, per_pass=per_pass)
        assert len(tail) == total - k
        for (x, y), (fx, fy) in zip(tail, full[k:], strict=True):
            np.testing.assert_array_equal(x, fx)
            np.testing.assert_array_equal(y, fy)
    # each pass is shuffled with its own key
    assert not np.array_equal(full[0][0], full[per_pass][0])
    # `training_dataset` counts the same stream in whole passes
    passes = training_dataset(
        windows,
        table=table,
        allowed=allowed,
        batch_size=batch_size,
        seed=7,
        first_epoch=1,
        epochs=3,
        batches_per_epoch=per_pass,
    )
    for (x, y), (fx, fy) in zip(_batches(passes), full[per_pass : 3 * per_pass], strict=True):
        np.testing.assert_array_equal(x, fx)
        np.testing.assert_array_equal(y, fy)


# ---------------------------------------------------------------- fine-tuning


@pytest.mark.slow
def test_fine_tuning_starts_from_the_base_weights(base_dir: Path, tmp_path: Path) -> None:
    base = load_model_folder(base_dir)
    assert base.training["base_model"] is None
    assert base.metrics["fine_tuned_from"] is None
    # At this rate no round can beat the base: the base's own weights are what gets saved.
    config = replace(STEPS_TRAINING, learning_rate=1e-9, max_steps=4, steps_per_round=2)
    result = train(
        grid_dataset(),
        model_config=TINY_MODEL,
        training_config=config,
        checkpoint_dir=tmp_path / "ck",
        out_dir=tmp_path / "tuned",
        base_dir=base_dir,
    )
    metrics = result.metrics
    assert metrics["fine_tuned_from"] == "base"
    assert math.isfinite(metrics["start_val_perplexity"])
    assert metrics["best_epoch"] == 0 and metrics["epochs_run"] == 2
    assert metrics["val_perplexity"] == metrics["start_val_perplexity"]
    assert metrics["kept_base_weights"] is True  # the run says it ended as the base
    tuned = load_model_folder(tmp_path / "tuned")
    assert tuned.metrics["fine_tuned_from"] == "base"
    assert tuned.metrics["kept_base_weights"] is True
    assert tuned.training["base_model"] == "base"
    config_json = json.loads((tmp_path / "tuned" / "config.json").read_text())
    assert config_json["training"]["base_model"] == "base"
    assert tuned.vocab == base.vocab
    expected = predictions(base.keras_model, base.vocab)
    np.testing.assert_allclose(predictions(tuned.keras_model, tuned.vocab), expected, atol=1e-4)
    # the network that trained started from the base too (not only the saved best weights)
    last = keras.saving.load_model(tmp_path / "tuned" / "checkpoint" / "last.keras")
    np.testing.assert_allclose(predictions(last, base.vocab), expected, atol=1e-4)
    assert read_checkpoint_state(tmp_path / "tuned" / "checkpoint").start["epoch"] == 0


@pytest.mark.slow
def test_fine_tuning_keeps_a_round_that_beats_the_base(base_dir: Path, tmp_path: Path) -> None:
    base = load_model_folder(base_dir)
    config = replace(STEPS_TRAINING, max_steps=6, steps_per_round=3)
    metrics = train(
        grid_dataset(),
        model_config=TINY_MODEL,
        training_config=config,
        checkpoint_dir=tmp_path / "ck",
        out_dir=tmp_path / "tuned",
        base_dir=base_dir,
    ).metrics
    assert metrics["best_epoch"] >= 1 and metrics["kept_base_weights"] is False
    assert metrics["val_perplexity"] < metrics["start_val_perplexity"]
    # the start is the base's score on the same held-out pieces
    assert metrics["start_val_perplexity"] == pytest.approx(
        base.metrics["val_perplexity"], rel=1e-4
    )
    tuned = load_model_folder(tmp_path / "tuned")
    assert not np.allclose(
        predictions(tuned.keras_model, tuned.vocab),
        predictions(base.keras_model, base.vocab),
        atol=1e-4,
    )


@pytest.mark.slow
def test_a_tiny_collection_is_checked_before_it_is_seen_more_than_a_few_times(
    base_dir: Path, tmp_path: Path
) -> None:
    """Three pieces (two to train on: one batch a pass) under a budget of rounds of 40 steps:
    the first check comes after MIN_STEPS_PER_ROUND passes, not after 40."""
    dataset = build_dataset(
        patterned_pieces(3), name="three", config=GRID, vocab=Vocabulary.for_grid(GRID)
    )
    config = replace(STEPS_TRAINING, max_steps=40, steps_per_round=40, patience=2)
    seen: list[TrainingProgress] = []
    metrics = train(
        dataset,
        model_config=TINY_MODEL,
        training_config=config,
        checkpoint_dir=tmp_path / "ck",
        base_dir=base_dir,
        on_progress=lambda done, total, info: seen.append(info),
    ).metrics
    passes_per_step = 1  # every window fits one batch
    assert metrics["train_windows"] <= config.batch_size
    first_check = metrics["history"][0]["step"]
    assert first_check * passes_per_step == MIN_STEPS_PER_ROUND < 40
    assert {info.batches for info in seen if info.phase == "training"} == {MIN_STEPS_PER_ROUND}
    assert all(h["step"] % MIN_STEPS_PER_ROUND == 0 for h in metrics["history"])


@pytest.mark.slow
def test_a_base_that_does_not_fit_is_refused(base_dir: Path, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="vocabulary"):  # the data's own small vocabulary
        train(
            patterned_dataset(),
            model_config=TINY_MODEL,
            training_config=STEPS_TRAINING,
            checkpoint_dir=tmp_path / "ck1",
            base_dir=base_dir,
        )
    with pytest.raises(ValueError, match="shape"):
        train(
            grid_dataset(),
            model_config=replace(TINY_MODEL, units=16),
            training_config=STEPS_TRAINING,
            checkpoint_dir=tmp_path / "ck2",
            base_dir=base_dir,
        )
    assert not (tmp_path / "ck1").exists() and not (tmp_path / "ck2").exists()


@pytest.mark.slow
def test_fine_tuning_setup_reads_the_base_and_checks_the_grid(base_dir: Path) -> None:
    setup = fine_tuning_setup(str(base_dir))
    assert setup.path == base_dir.resolve()
    assert setup.model == TINY_MODEL
    assert setup.encoding == GRID
    assert setup.vocab == Vocabulary.for_grid(GRID)
    # only the grid matters: other encoding choices are the base's
    assert fine_tuning_setup(str(base_dir), replace(GRID, transpose_semitones=3)).path == setup.path
    with pytest.raises(ValueError, match="grid"):
        fine_tuning_setup(str(base_dir), EncodingConfig(steps_per_quarter=3))
    with pytest.raises(InvalidModelError):
        fine_tuning_setup(str(base_dir.parent / "missing"))


@pytest.mark.slow
def test_training_start_is_the_base_or_the_scratch_settings(base_dir: Path) -> None:
    augmented = replace(TINY_TRAINING, augmentation=True, transpose_semitones=2)
    base = training_start(str(base_dir), replace(TINY_MODEL, units=16), augmented)
    assert base == TrainingStart(TINY_MODEL, GRID, Vocabulary.for_grid(GRID), base_dir.resolve())
    scratch = training_start(None, replace(TINY_MODEL, units=16), augmented)
    assert scratch == TrainingStart(replace(TINY_MODEL, units=16), augmented.encoding(), None, None)


# ---------------------------------------------------------------- the command and jobs


@pytest.mark.slow
def test_train_command_fine_tunes_a_base_folder(
    base_dir: Path, tmp_path: Path, capsys, isolated_data_dir
) -> None:
    from core.cli import main

    music = write_patterned_midi(tmp_path / "music")
    out = tmp_path / "model"
    code = main(
        [
            "train", "--data", str(music), "--out", str(out), "--base", str(base_dir),
            "--max-steps", "4", "--steps-per-round", "2", "--sequence-length", "16",
            "--batch-size", "64", "--json",
        ]
    )  # fmt: skip
    stdout, stderr = capsys.readouterr()
    assert code == 0, stderr
    result = json.loads(stdout)
    assert result["fine_tuned_from"] == "base"
    assert result["epochs_run"] <= 2 and [h["step"] for h in result["history"]][:1] == [2]
    assert math.isfinite(result["start_val_perplexity"])
    tuned = load_model_folder(out)
    assert tuned.config == TINY_MODEL  # the base's shape, not the preset's
    assert tuned.vocab == Vocabulary.for_grid(GRID)
    assert tuned.training["base_model"] == "base"
    assert tuned.training["max_steps"] == 4 and tuned.training["steps_per_round"] == 2


def test_train_command_refuses_a_shape_when_fine_tuning(tmp_path: Path, capsys) -> None:
    from core.cli import main

    args = ["train", "--data", str(tmp_path), "--out", str(tmp_path / "m"), "--units", "16"]
    assert main(args) == 2
    assert "--from-scratch" in capsys.readouterr().err
    assert not (tmp_path / "m").exists()
    with pytest.raises(SystemExit) as exit_info:  # a base and --from-scratch exclude each other
        main([*args[:5], "--base", "other", "--from-scratch"])
    assert exit_info.value.code == 2


def test_job_request_keeps_its_base_model() -> None:
    request = JobRequest(
        sources=("folk-tunes",),
        dataset_name="folk",
        model_name="mine",
        model=TINY_MODEL.to_dict(),
        training=STEPS_TRAINING.to_dict(),
        base_model="x",
    )
    data = json.loads(json.dumps(request.to_dict()))
    assert data["base_model"] == "x"
    assert JobRequest.from_dict(data) == request
    del data["base_model"]  # a request written before fine-tuning existed trains from scratch
    assert JobRequest.from_dict(data).base_model is None


def test_input_dropout_hides_inputs_never_targets_and_resumes_the_same() -> None:
    plain = _stream(0, 6, batch_size=8, per_pass=3)
    hidden = _stream(0, 6, batch_size=8, per_pass=3, input_dropout=0.3)
    for (x, y), (hx, hy) in zip(plain, hidden, strict=True):
        np.testing.assert_array_equal(hy, y)  # every target is still scored
        changed = hx != x
        assert (hx[changed] == PAD_ID).all()  # a hidden token becomes PAD, nothing else
    inputs = np.concatenate([x.ravel() for x, _ in plain])
    shown = np.concatenate([hx.ravel() for hx, _ in hidden])
    share = float(((shown == PAD_ID) & (inputs != PAD_ID)).sum() / (inputs != PAD_ID).sum())
    assert 0.22 < share < 0.38
    tail = _stream(4, 2, batch_size=8, per_pass=3, input_dropout=0.3)
    for (x, _), (fx, _) in zip(tail, hidden[4:], strict=True):
        np.testing.assert_array_equal(x, fx)  # a resumed run hides the same tokens
