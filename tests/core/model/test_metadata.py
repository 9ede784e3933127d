"""core/model/metadata: every field of a model folder's description files is checked for its type
and range, a wrong one is refused naming its file and field, and only checked fields go on."""

from __future__ import annotations

import json
import math
from dataclasses import fields
from pathlib import Path

import pytest

from core.model import metadata
from core.model.metadata import (
    MetadataError,
    check_config,
    check_encoding,
    check_metrics,
    check_music,
    check_vocab,
    read_json,
)
from core.tokens.config import EncodingConfig
from tests.conftest import REPO

GOOD_METRICS = {
    "val_loss": 1.2, "val_perplexity": 3.3, "val_accuracy": 0.6, "epochs_run": 2,
    "best_epoch": 2, "parameters": 6068, "baseline_order": 4, "dataset": "patterns",
    "fine_tuned_from": None, "stopped_early": False, "perplexity_ratio": float("nan"),
    "start": {}, "history": [{"epoch": 1.0, "val_loss": 1.5}, {"epoch": 2, "val_loss": 1.2}],
    "style_check": {"figures": {"polyphony": {"real": 1.0, "base": 2.0, "model": 1.2}},
                    "pieces": 4, "length_s": 15.0, "real_pieces": 6, "base_model": "base"},
}


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"parameters": "lots"}, "'parameters' must be a whole number of at least 0"),
        ({"parameters": 1.5}, "'parameters' must be a whole number"),
        ({"parameters": True}, "'parameters' must be a whole number"),
        ({"epochs_run": float("inf")}, "'epochs_run' must be a whole number"),
        ({"val_perplexity": "x"}, "'val_perplexity' must be a number of at least 0"),
        ({"val_accuracy": 2.0}, "'val_accuracy' must be a number from 0 to 1"),
        ({"val_loss": 10**400}, "'val_loss' must be a number"),
        ({"dataset": ["a"]}, "'dataset' must be a text"),
        ({"stopped_early": "yes"}, "'stopped_early' must be true or false"),
        ({"history": {"epoch": 1}}, "'history' must be a list"),
        ({"history": [{"val_loss": 1.0}]}, "'history[0].epoch' must be present"),
        ({"history": [{"epoch": 1, "val_loss": "low"}]}, "'history[0].val_loss' must be a number"),
        ({"start": {"epoch": 0}}, "'start.val_loss' must be present"),
        ({"start": []}, "'start' must be an object"),
        ({"style_check": {**GOOD_METRICS["style_check"], "pieces": 10**400}},
         "'style_check.pieces' must be a whole number"),
        ({"style_check": {**GOOD_METRICS["style_check"],
                          "figures": {"polyphony": {"real": "x", "base": 1, "model": 1}}}},
         "'style_check.figures.polyphony.real' must be a number"),
        ({"style_check": {**GOOD_METRICS["style_check"],
                          "figures": {"polyphony": {"real": float("inf"), "base": 1, "model": 1}}}},
         "'style_check.figures.polyphony.real' must be a number"),
    ],
)
def test_a_wrong_metrics_field_is_refused_by_name(changes: dict, field: str) -> None:
    with pytest.raises(MetadataError) as error:
        check_metrics({**GOOD_METRICS, **changes})
    assert str(error.value).startswith(f"metrics.json is not usable: {field}")


def test_checked_metrics_hold_only_known_fields_of_the_right_types() -> None:
    checked = check_metrics({**GOOD_METRICS, "a_field_from_elsewhere": {"x": "y"}})
    assert "a_field_from_elsewhere" not in checked
    assert checked["fine_tuned_from"] is None  # trained from scratch
    assert "val_loss" not in check_metrics({"val_loss": None})  # no null where numbers go
    assert checked["parameters"] == 6068 and isinstance(checked["history"][0]["epoch"], int)
    assert math.isnan(checked["perplexity_ratio"])  # a figure training could not measure
    assert check_metrics({}) == {}
    with pytest.raises(MetadataError, match=r"^metrics\.json is not usable: it must be an object"):
        check_metrics([])


def test_every_field_training_and_the_style_check_write_is_checked() -> None:
    """The checks name the fields of records of later stages (training/, evaluation/, data/),
    so a field added there must be added here."""
    from core.data.datasets import MusicSummary
    from core.evaluation.style_check import STYLE_CHECK_KEY, FigureTriple, StyleCheck
    from core.training.checkpoints import TrainingState
    from core.training.config import TrainingConfig
    from core.training.records import final_metrics

    metrics = final_metrics(
        TrainingState(epochs_done=1, history=[{"epoch": 1, "train_loss": 1.0, "val_loss": 1.0,
                                               "train_time_s": 1.0, "tokens_per_s": 5.0}],
                      baseline={"loss": 1.0, "perplexity": 2.7, "accuracy": 0.5, "order": 4}),
        vocab_size=20, train_windows=3, valid_tokens=40, parameters=100,
    )
    check = StyleCheck({"polyphony": FigureTriple(1.0, 2.0, 1.5)}, 4, 15.0, 6, "base")
    written = {**metrics, "dataset": "d", "fine_tuned_from": "base",
               STYLE_CHECK_KEY: check.to_dict()}
    assert STYLE_CHECK_KEY == metadata.STYLE_CHECK_KEY
    assert set(written) <= set(metadata.METRICS_FIELDS)
    assert set(check_metrics(written)) == set(written)
    assert check_metrics(written)[STYLE_CHECK_KEY] == check.to_dict()
    assert set(metadata.TRAINING_FIELDS) == {f.name for f in fields(TrainingConfig)} | {
        "base_model"}
    config = {"version": 1, "model": {"embedding_dim": 8, "units": 16, "layers": 1,
                                      "dropout": 0.0},
              "training": {**TrainingConfig(max_steps=40).to_dict(), "base_model": "base"}}
    assert check_config(config)[1] == config["training"]  # nulls where a field may be null
    assert set(metadata.MUSIC_FIELDS) == {f.name for f in fields(MusicSummary)}


@pytest.mark.parametrize(
    ("config", "field"),
    [
        ({"model": {"units": "64"}}, "'model.units' must be a whole number"),
        ({"model": {"units": 64.5}}, "'model.units' must be a whole number"),
        ({"model": {"units": 0}}, "'model': units must be within"),
        ({"model": {}, "training": {"batch_size": "x"}}, "'training.batch_size' must be"),
        ({"model": {}, "training": {"learning_rate": 5}}, "'training.learning_rate' must be"),
        ({"model": {}, "training": []}, "'training' must be an object"),
        ({"model": {}, "version": 99}, "'version' must be a whole number from 0 to 1"),
        ({"model": []}, "'model' must be an object"),
    ],
)
def test_a_wrong_config_field_is_refused_by_name(config: dict, field: str) -> None:
    with pytest.raises(MetadataError) as error:
        check_config(config)
    assert str(error.value).startswith(f"config.json is not usable: {field}")


MUSIC = {"tempo_bpm": 96.5, "chord_onset_share": 0.0, "max_notes_per_onset": 1,
         "pitch_low": 57, "pitch_high": 79, "pieces": 12}


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"tempo_bpm": "120"}, "'tempo_bpm' must be a number from 0 to 1000"),
        ({"pitch_low": 40.5}, "'pitch_low' must be a whole number from 0 to 127"),
        ({"pieces": "many"}, "'pieces' must be a whole number"),
        ({"meter_known": "yes"}, "'meter_known' must be true or false"),
        ({"pitch_low": 90}, "pitch_low..pitch_high must be a MIDI pitch range"),
        ({"tempo_bpm": None}, "'tempo_bpm' must be present"),
        ({"meters": ["6/8"]}, "'meters' must be an object of at most 16 meters"),
        ({"meters": {f"{n}/4": 0.05 for n in range(1, 18)}}, "'meters' must be an object of at"),
        ({"meters": {"5/7": 0.5}}, "'meters.5/7' must be a meter such as '6/8'"),
        ({"meters": {"x" * 500: 0.5}}, f"'meters.{'x' * 20}' must be a meter"),
        ({"meters": {"6/8": 1.5}}, "'meters.6/8' must be a number from 0 to 1"),
        ({"meters": {"6/8": "half"}}, "'meters.6/8' must be a number from 0 to 1"),
        ({"meters": {"6/8": float("nan")}}, "'meters.6/8' must be a number from 0 to 1"),
    ],
)
def test_a_wrong_music_field_is_refused_by_name(changes: dict, field: str) -> None:
    assert check_music(MUSIC).tempo_bpm == 96.5
    with pytest.raises(MetadataError) as error:
        check_music({**MUSIC, **changes})
    assert str(error.value).startswith(f"music.json is not usable: {field}")


def test_the_meters_of_the_music_are_read_and_old_files_have_none() -> None:
    assert check_music(MUSIC).meters is None  # written before meters were kept
    assert check_music({**MUSIC, "meters": None}).meters is None
    meters = {"6/8": 0.45, "4/4": 0.3, "3/4": 0.25}
    music = check_music({**MUSIC, "meters": meters, "beats_per_bar": 2, "meter_known": True})
    assert music.meters == meters and music.main_meter == "6/8" and music.beats_per_bar == 2


def test_the_encoding_and_vocabulary_hold_only_what_their_grid_can_write() -> None:
    encoding = check_encoding(EncodingConfig().to_dict())
    assert encoding == EncodingConfig()
    for wrong, field in [({"steps_per_quarter": 4.5}, "'steps_per_quarter' must be a whole"),
                         ({"max_duration_quarters": 10**9}, "'max_duration_quarters' must be"),
                         ({"normalize_key": 1}, "'normalize_key' must be true or false")]:
        with pytest.raises(MetadataError, match=f"^encoding.json is not usable: {field}"):
            check_encoding({**EncodingConfig().to_dict(), **wrong})
    good = {"PAD": 0, "UNK": 1, "BOS": 2, "EOS": 3, "T4": 4, "P60": 5}
    assert len(check_vocab(good, encoding)) == 6
    for wrong, reason in [({"X1": 6}, "'X1' is not a token"), ({"P200": 6}, "'P200' is not"),
                          ({"D4": 6.5}, "the id of 'D4' must be whole"),
                          ({"D4": 9}, "vocabulary ids must be 0..n-1")]:
        with pytest.raises(MetadataError, match=f"^vocab.json is not usable: {reason}"):
            check_vocab({**good, **wrong}, encoding)


def test_a_description_file_too_large_or_not_json_is_refused(tmp_path: Path, monkeypatch):
    monkeypatch.setattr(metadata, "MAX_METADATA_FILE_BYTES", 100)
    (tmp_path / "metrics.json").write_text(json.dumps({"history": [{"epoch": 1}] * 20}))
    with pytest.raises(MetadataError, match=r"^metrics\.json is not usable: larger than"):
        read_json(tmp_path / "metrics.json")
    (tmp_path / "metrics.json").write_bytes(b"\xff{")
    with pytest.raises(MetadataError, match=r"^metrics\.json is not usable: not JSON"):
        read_json(tmp_path / "metrics.json")


@pytest.mark.parametrize("name", ["base", "bach-chorales", "folk-tunes"])
def test_the_bundled_models_descriptions_pass(name: str) -> None:
    from core.model.folder import read_encoding_and_vocab, read_model_info

    folder = REPO / "models" / name
    info = read_model_info(folder)
    raw = json.loads((folder / "metrics.json").read_text())
    assert info["metrics"]["val_perplexity"] == raw["val_perplexity"]
    assert len(info["metrics"]["history"]) == len(raw["history"])
    assert read_encoding_and_vocab(folder)[1].tokens[:4] == ("PAD", "UNK", "BOS", "EOS")
