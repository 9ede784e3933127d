"""The meter input: each token's phase in the bar, beside the tokens in training, in the
numpy step model and in the sampler; networks without it keep working (test_sampling)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from core.encoding import BOS, EOS, Vocabulary
from core.meter import meter_period, meter_phases, network_inputs, phase_sequences, shift_steps
from core.model import (
    INPUT_NAME,
    METER_INPUT_NAME,
    ModelConfig,
    load_model_folder,
    read_model_info,
)
from core.primers import Primer
from core.sampling import Generator, SamplingSettings
from core.step_model import StepModel
from core.training import train
from core.training_data import (
    allowed_shifts,
    evaluation_windows,
    make_windows,
    training_dataset,
    transposition_tables,
)
from tests.core._generation_fixtures import make_tiny_model_folder
from tests.core.training_fixtures import TINY_MODEL, TINY_TRAINING, patterned_dataset

PERIOD = meter_period(4)


def test_the_phase_is_the_time_after_each_token_within_the_period() -> None:
    assert meter_period(4) == 48 and meter_period(3) == 36  # twelve quarter notes
    tokens = [BOS, "T4", "P60", "D4", "T16", "T12", "P62", "D2", EOS]
    vocab = Vocabulary.build([tokens])
    phases = meter_phases(vocab.encode(tokens), steps=shift_steps(vocab), period=16)
    assert phases.tolist() == [0, 4, 4, 4, 4, 0, 0, 0, 0]
    # a folder written before the input existed describes the one-input network
    assert ModelConfig.from_dict({"units": 8}).meter_period == 0


def _consistent(ids: np.ndarray, phases: np.ndarray, steps: np.ndarray, period: int) -> bool:
    """Each phase is the one before plus the token's own shift (a window from mid-piece)."""
    return bool(((phases[:, 1:] - phases[:, :-1] - steps[ids[:, 1:]]) % period == 0).all())


def test_phase_windows_travel_with_their_tokens_through_training_and_evaluation() -> None:
    dataset = patterned_dataset()
    vocab, steps = dataset.vocab, shift_steps(dataset.vocab)
    ids = dataset.train_ids()
    phases = phase_sequences(ids, vocab=vocab, period=PERIOD)
    windows = make_windows(ids, length=17, stride=5)
    phase_windows = make_windows(phases, length=17, stride=5)
    _, table = transposition_tables(vocab, 0)
    data = training_dataset(windows, phases=phase_windows, table=table,
                            allowed=allowed_shifts(windows, table), batch_size=4, seed=3,
                            first_epoch=0, epochs=2, batches_per_epoch=3)
    batches = list(data)
    assert len(batches) == 6
    for x, _ in batches:
        batch_ids, batch_phases = x[INPUT_NAME].numpy(), x[METER_INPUT_NAME].numpy()
        assert batch_ids.shape == batch_phases.shape
        assert _consistent(batch_ids, batch_phases, steps, PERIOD)
        assert batch_phases.max() > 0  # windows start mid-piece, not at phase 0
    valid = evaluation_windows(ids, length=16, phases=phases)
    inputs = valid.model_inputs(0, len(valid.inputs))
    assert _consistent(inputs[INPUT_NAME], inputs[METER_INPUT_NAME], steps, PERIOD)
    assert evaluation_windows(ids, length=16).model_inputs(0, 2).shape == (2, 16)


@pytest.fixture(scope="module")
def metered(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_tiny_model_folder(tmp_path_factory.mktemp("m") / "metered", meter_period=PERIOD)


def test_the_step_model_with_the_meter_matches_keras(metered: Path) -> None:
    generator = Generator.from_folder(metered)  # the archive read without TensorFlow
    assert generator.step_model.meter_period == PERIOD
    trained = load_model_folder(metered)
    rng = np.random.default_rng(1)
    ids = rng.integers(4, len(generator.vocab), size=60).astype("int32")
    batch = network_inputs(ids[None], vocab=generator.vocab, period=PERIOD)
    keras_logits = trained.keras_model.predict(batch, verbose=0)[0]
    phases = batch[METER_INPUT_NAME][0]
    assert len(set(phases.tolist())) > 5
    for step_model in (generator.step_model, StepModel.from_keras(trained.keras_model)):
        np.testing.assert_allclose(step_model.sequence_logits(ids, phases=phases), keras_logits,
                                   atol=1e-4, rtol=1e-4)
    # the phase is an input that counts: the same tokens at phase 0 give other logits
    at_zero = generator.step_model.sequence_logits(ids, phases=np.zeros_like(phases))
    assert not np.allclose(at_zero, keras_logits, atol=1e-3)


def test_the_sampler_gives_the_network_the_phase_after_each_token(metered: Path) -> None:
    generator = Generator.from_folder(metered)
    seen: list[tuple[int, int]] = []
    step = generator.step_model.step

    def spy(token_id, state, *, phase=0):
        seen.append((token_id, phase))
        return step(token_id, state, phase=phase)

    generator.step_model.step = spy  # type: ignore[method-assign]
    primer = Primer(tokens=("T3", "P60", "D4", "T5", "P64", "D2"), name="tune")
    result = generator.generate(SamplingSettings(length_tokens=120), seed=4, primer=primer)
    ids = [token_id for token_id, _ in seen]
    assert ids == generator.vocab.encode(result.tokens[: len(ids)])
    expected = meter_phases(ids, steps=shift_steps(generator.vocab), period=PERIOD)
    assert [phase for _, phase in seen] == expected.tolist()
    assert max(expected) > 8  # the primer's time counts too
    again = Generator.from_folder(metered).generate(
        SamplingSettings(length_tokens=120), seed=4, primer=primer
    )
    assert again.midi_bytes == result.midi_bytes


@pytest.mark.slow
def test_a_network_with_the_meter_trains_saves_and_generates(tmp_path: Path) -> None:
    dataset = patterned_dataset()
    # the period follows the data's grid, whatever the config said
    model = replace(TINY_MODEL, meter_period=7)
    result = train(dataset, model_config=model, training_config=TINY_TRAINING,
                   checkpoint_dir=tmp_path / "ck", out_dir=tmp_path / "model")
    assert result.metrics["val_loss"] < 0.15, result.metrics
    assert read_model_info(tmp_path / "model")["model"]["meter_period"] == PERIOD
    generator = Generator.from_folder(tmp_path / "model")
    assert generator.step_model.meter_period == PERIOD
    assert generator.generate(SamplingSettings(length_tokens=60), seed=0).new_tokens
