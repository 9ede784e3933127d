"""Every config goes to a dict, to JSON and back equal, through the one base (`core.config`)."""

from __future__ import annotations

import importlib
import json
import pkgutil
from dataclasses import fields

import pytest

import core
from core.config import Config
from core.data.datasets import MusicSummary
from core.generation.settings import SamplingSettings
from core.jobs.records import JobRequest, JobState, JobStatus
from core.model.network import ModelConfig
from core.tokens.config import EncodingConfig
from core.training.checkpoints import TrainingState
from core.training.config import TrainingConfig
from core.transcription.params import TranscriptionParams

# One non-default value of every config, so a field the round trip drops shows up.
EXAMPLES: list[Config] = [
    EncodingConfig(steps_per_quarter=12, normalize_key=True, transpose_semitones=3),
    ModelConfig(units=64, layers=1, dropout=0.1),
    TrainingConfig(batch_size=8, max_steps=120, seed=7),
    SamplingSettings(temperature=0.8, length_s=12.5, key=2, scale="minor", lock_scale=True,
                     follow_training_music=False),
    MusicSummary(tempo_bpm=96.0, chord_onset_share=0.25, max_notes_per_onset=3, pitch_low=48,
                 pitch_high=79, pieces=12, beats_per_bar=3, meter_known=True),
    TranscriptionParams(onset_threshold=0.6, min_note_length_ms=90.0),
    JobRequest(
        sources=("bach-chorales", "/tmp/tune.mid"),
        dataset_name="mine",
        model_name="my model",
        model={"units": 64},
        training={"batch_size": 8},
        base_model="base",
    ),
    JobStatus(job_id="0123456789abcdef", state=JobState.RUNNING, history=({"loss": 1.5},)),
    TrainingState(epochs_done=2, history=[{"loss": 2.0}], best_epoch=1, wait=1),
    TrainingState(),  # infinity, stored as null
]


def _all_config_classes() -> set[type]:
    for module in pkgutil.walk_packages(core.__path__, "core."):
        if not module.name.endswith("__main__"):
            importlib.import_module(module.name)
    found, todo = set(), [Config]
    while todo:
        for sub in todo.pop().__subclasses__():
            found.add(sub)
            todo.append(sub)
    return found


def test_every_config_in_core_has_an_example():
    assert _all_config_classes() == {type(e) for e in EXAMPLES}


@pytest.mark.parametrize("config", EXAMPLES, ids=lambda c: type(c).__name__)
def test_a_config_round_trips_through_json_equal(config, tmp_path):
    data = json.loads(json.dumps(config.to_dict()))
    assert type(config).from_dict(data) == config
    path = tmp_path / "config.json"
    config.save(path)
    assert type(config).load(path) == config
    assert json.loads(path.read_text()) == data


@pytest.mark.parametrize("config", EXAMPLES, ids=lambda c: type(c).__name__)
def test_unknown_keys_are_dropped_and_every_field_is_written(config):
    data = config.to_dict()
    assert set(data) == {f.name for f in fields(config)}  # type: ignore[arg-type]
    assert type(config).from_dict({**data, "from_a_newer_version": 1}) == config
