"""Training: data pipeline, a real tiny run, cancel, resume, determinism."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import keras
import numpy as np
import pytest

from core.errors import JobCancelled
from core.model.folder import load_model_folder
from core.model.model_data import HELDOUT_FILE, TRAINING_NOTES_FILE, load_index, read_heldout
from core.training.checkpoints import has_checkpoint, read_checkpoint_state
from core.training.config import TrainingConfig
from core.training.data import (
    allowed_shifts,
    evaluation_windows,
    make_windows,
    training_dataset,
    transposition_tables,
)
from core.training.loop import train
from core.training.presets import TRAINING_PRESETS
from tests.core.training_fixtures import TINY_MODEL, TINY_TRAINING, patterned_dataset


def test_config_round_trip_and_presets() -> None:
    config = TrainingConfig(sequence_length=32, epochs=3, augmentation=False)
    assert TrainingConfig.from_dict(config.to_dict()) == config
    assert config.stride == 32
    assert config.encoding().transpose_semitones == 0
    augmented = TrainingConfig(augmentation=True)
    assert augmented.encoding().transpose_semitones == augmented.transpose_semitones
    assert set(TRAINING_PRESETS) == {"quick", "thorough"}
    schedule = [TrainingConfig(epochs=9, learning_rate=0.01).learning_rate_at(e) for e in range(9)]
    assert schedule[:6] == [0.01] * 6  # constant, then falling to a tenth by the last epoch
    assert schedule[6] > schedule[7] > schedule[8] == pytest.approx(0.001)
    with pytest.raises(ValueError):
        TrainingConfig(batch_size=0)
    for hidden in (-0.1, 1.0):
        with pytest.raises(ValueError, match="input_dropout"):
            TrainingConfig(input_dropout=hidden)


def test_windows_cover_every_token_and_pad_short_pieces() -> None:
    windows = make_windows([list(range(1, 11)), [2, 5, 3]], length=4, stride=3)
    assert windows.tolist() == [[1, 2, 3, 4], [4, 5, 6, 7], [7, 8, 9, 10], [2, 5, 3, 0]]


def test_evaluation_windows_score_each_token_once() -> None:
    sequence = list(range(2, 40))
    windows = evaluation_windows([sequence], length=8)
    counted = windows.targets[windows.counted]
    assert sorted(counted.tolist()) == sequence[1:]


def test_transposition_tables_skip_unknown_shifts() -> None:
    dataset = patterned_dataset(encoding=TrainingConfig(augmentation=True).encoding())
    vocab = dataset.vocab
    shifts, table = transposition_tables(vocab, 2)
    assert shifts[0] == 0 and sorted(shifts) == [-2, -1, 0, 1, 2]
    up = shifts.index(2)
    assert vocab.tokens[table[up][vocab.id_of("P60")]] == "P62"
    assert table[up][vocab.id_of("D2")] == vocab.id_of("D2")
    assert table[up][vocab.pad_id] == vocab.pad_id
    # a vocabulary without transposed pitches cannot move the top note up
    plain = patterned_dataset().vocab
    _, plain_table = transposition_tables(plain, 1)
    windows = np.array([[plain.id_of("P67"), plain.id_of("D2")]])
    assert allowed_shifts(windows, plain_table).tolist() == [[True, False, False]]


def _batches(config: TrainingConfig, first_epoch: int) -> list[np.ndarray]:
    dataset = patterned_dataset(encoding=config.encoding())
    windows = make_windows(dataset.train_ids(), length=config.sequence_length + 1, stride=8)
    _, table = transposition_tables(dataset.vocab, config.augment_semitones)
    data = training_dataset(windows, table=table, allowed=allowed_shifts(windows, table),
                            batch_size=4, seed=config.seed, first_epoch=first_epoch, epochs=2,
                            batches_per_epoch=3)
    return [x.numpy() for x, _ in data]


def test_pipeline_is_reproducible_and_resume_sees_the_same_batches() -> None:
    config = TrainingConfig(sequence_length=8, augmentation=True, transpose_semitones=2)
    full = _batches(config, 0)
    assert len(full) == 6
    for a, b in zip(full, _batches(config, 0), strict=True):
        np.testing.assert_array_equal(a, b)
    for a, b in zip(full[3:], _batches(config, 1), strict=True):
        np.testing.assert_array_equal(a, b)
    assert not all(np.array_equal(a, b) for a, b in zip(full[:3], full[3:], strict=True))


@pytest.mark.slow
def test_tiny_training_learns_a_repeating_pattern(tmp_path: Path) -> None:
    dataset = patterned_dataset()
    seen = []
    result = train(dataset, model_config=TINY_MODEL, training_config=TINY_TRAINING,
                   checkpoint_dir=tmp_path / "ck", out_dir=tmp_path / "model",
                   on_progress=lambda done, total, info: seen.append((done, total, info.phase)))
    metrics = result.metrics
    assert metrics["val_loss"] < 0.15, metrics
    assert metrics["val_accuracy"] > 0.9
    assert metrics["val_perplexity"] < metrics["baseline_perplexity"]
    assert metrics["tokens_per_s"] > 0 and len(metrics["history"]) == metrics["epochs_run"]
    assert seen[-1][2] == "saving" and seen[-1][0] == seen[-1][1]
    loaded = load_model_folder(tmp_path / "model")
    assert loaded.metrics["val_loss"] == pytest.approx(metrics["val_loss"])
    assert (tmp_path / "model" / "checkpoint" / "state.json").is_file()
    # the folder keeps what an evaluation needs: the held-out pieces and the training notes
    assert (tmp_path / "model" / HELDOUT_FILE).is_file()
    assert (tmp_path / "model" / TRAINING_NOTES_FILE).is_file()
    heldout = read_heldout(tmp_path / "model")
    assert len(heldout) == len(dataset.valid) > 0
    assert [p.name for p in heldout] == [e.name for e in dataset.valid]
    # how much music the held-out figures rest on is recorded with them
    assert loaded.metrics["heldout_pieces"] == len(heldout)
    assert loaded.metrics["heldout_notes"] == sum(len(p.notes) for p in heldout) > 0
    assert load_index(tmp_path / "model").notes.names == tuple(e.name for e in dataset.train)


@pytest.mark.slow
def test_cancel_keeps_a_checkpoint_and_resume_continues_the_epoch_count(tmp_path: Path) -> None:
    dataset = patterned_dataset()
    config = replace(TINY_TRAINING, epochs=3)
    checkpoint = tmp_path / "ck"

    def after_first_epoch() -> bool:
        state = read_checkpoint_state(checkpoint)
        return state is not None and state.epochs_done >= 1

    with pytest.raises(JobCancelled):
        train(dataset, model_config=TINY_MODEL, training_config=config,
              checkpoint_dir=checkpoint, out_dir=tmp_path / "model",
              should_stop=after_first_epoch)
    assert has_checkpoint(checkpoint)
    assert not (tmp_path / "model").exists()
    assert read_checkpoint_state(checkpoint).epochs_done == 1
    keras.saving.load_model(checkpoint / "last.keras", safe_mode=True)

    result = train(dataset, model_config=TINY_MODEL, training_config=config,
                   checkpoint_dir=checkpoint, out_dir=tmp_path / "model")
    assert [h["epoch"] for h in result.metrics["history"]] == [1, 2, 3]
    assert result.metrics["epochs_run"] == 3
    assert load_model_folder(tmp_path / "model").config == TINY_MODEL


@pytest.mark.slow
def test_same_seed_same_result(tmp_path: Path) -> None:
    dataset = patterned_dataset()
    config = replace(TINY_TRAINING, epochs=1)
    runs = [
        train(dataset, model_config=TINY_MODEL, training_config=config,
              checkpoint_dir=tmp_path / f"ck{i}").metrics["val_loss"]
        for i in range(2)
    ]
    assert runs[0] == pytest.approx(runs[1], abs=1e-5)


@pytest.mark.slow
def test_train_command_prints_one_json_object(tmp_path: Path, capsys, isolated_data_dir) -> None:
    import json

    from core.cli import main
    from tests.core.training_fixtures import write_patterned_midi

    music = write_patterned_midi(tmp_path / "music")
    code = main(["train", "--data", str(music), "--out", str(tmp_path / "model"), "--epochs", "2",
                 "--from-scratch",
                 "--sequence-length", "16", "--embedding-dim", "8", "--units", "16", "--layers",
                 "1", "--batch-size", "4", "--no-augmentation", "--json"])
    out, err = capsys.readouterr()
    assert code == 0, err
    result = json.loads(out)  # exactly one object
    for key in ("train_loss", "val_loss", "val_perplexity", "baseline_perplexity",
                "tokens_per_s"):
        assert isinstance(result[key], float), key
    assert "epoch 2/2" in err
    assert load_model_folder(tmp_path / "model").config.units == 16
    assert (tmp_path / "model" / "primers.json").is_file()
