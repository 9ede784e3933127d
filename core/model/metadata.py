"""What a model folder says about itself, checked field by field before any page uses it.

A model folder may come from anyone's zip (or be edited on the server), and pages format and
compute with its figures: `f"{parameters:,}"` on a text, `int()` of an infinite epoch count or
a history round without its epoch would take a page down on every rerun. So each JSON file a
page reads is checked here for the type and range of every field it uses, and only the checked
fields are handed on:

- `config.json`: the network's shape (`model`) and how it was trained (`training`);
- `metrics.json`: the figures of its training, and the style check the job adds
  (`core.evaluation.style_check`);
- `music.json`: what its training music is like (`core.data.datasets.MusicSummary`);
- `encoding.json` and `vocab.json`: the tokens it reads and writes.

A wrong field raises `MetadataError`, whose message names the file and the field.
"""

from __future__ import annotations

import contextlib
import json
import math
from collections.abc import Callable, Mapping
from dataclasses import MISSING, fields
from pathlib import Path
from typing import Any

from core.data.datasets import MAX_SUMMARY_METERS, MusicSummary
from core.errors import MetadataError
from core.model.network import ModelConfig
from core.music.meter import Meter
from core.tokens.config import EncodingConfig
from core.tokens.vocabulary import Vocabulary

# The description files are small (the base model's metrics.json is 5 KB for 12 rounds); one
# this large is not a model's, and reading it would cost the server memory on every rerun.
MAX_METADATA_FILE_BYTES = 1_000_000
# Above what the Train page offers (200 epochs, or 20,000 steps in rounds of at least 40) and
# what 1 MB of metrics.json holds anyway.
MAX_HISTORY_ROUNDS = 2_000
MAX_ROUND_FIGURES = 64  # figures per round of the history (the app records 9)
MAX_COUNT = 10**12  # counts of parameters, tokens, notes: far above any model the app trains
MAX_FIGURE = 1e12  # losses, perplexities, speeds and times: finite and printable
MAX_TEXT_CHARS = 10_000  # a dataset's name (the CLI joins the names of its files)
MAX_NAME_CHARS = 64  # the name of one figure
MAX_STYLE_FIGURES = 16  # the style check records 3 (STYLE_CHECK_FIGURES)
MAX_STYLE_LENGTH_S = 3600.0
# The app writes 4 and 16 quarters; the vocabulary of a grid grows with them, so a huge value
# would make the app build millions of tokens.
MAX_GRID_QUARTERS = 64
# The key of the style check in metrics.json: `core.evaluation.style_check.STYLE_CHECK_KEY`
# (model/ comes before evaluation/, so it is named here too; a test checks they agree).
STYLE_CHECK_KEY = "style_check"
CONFIG_FILE = "config.json"
METRICS_FILE = "metrics.json"
MUSIC_FILE = "music.json"
ENCODING_FILE = "encoding.json"
VOCAB_FILE = "vocab.json"
MODEL_FOLDER_VERSION = 1


class _Wrong(Exception):
    """A field is not what it must be; `args[0]` says what it must be, `field` which one."""

    def __init__(self, requirement: str, field: str = "") -> None:
        super().__init__(requirement)
        self.field = field

    def within(self, name: str) -> _Wrong:
        return _Wrong(self.args[0], f"{name}.{self.field}" if self.field else name)


Check = Callable[[Any], Any]


def _bounds(low: float, high: float) -> str:
    def text(value: float) -> str:
        return str(int(value)) if float(value).is_integer() else f"{value:g}"

    return f"of at least {text(low)}" if high >= MAX_FIGURE else f"from {text(low)} to {text(high)}"


def number(low: float = 0.0, high: float = MAX_FIGURE, *, nan: bool = True) -> Check:
    """A JSON number from `low` to `high`; NaN (a figure training could not measure) when
    `nan`. Returned as a float."""

    def check(value: Any) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise _Wrong(f"a number {_bounds(low, high)}")
        try:
            result = float(value)
        except OverflowError:  # an integer of hundreds of digits
            raise _Wrong(f"a number {_bounds(low, high)}") from None
        if math.isnan(result) and nan:
            return result
        if not low <= result <= high:
            raise _Wrong(f"a number {_bounds(low, high)}")
        return result

    return check


def count(low: int = 0, high: int = MAX_COUNT) -> Check:
    """A whole JSON number from `low` to `high` (1.0 is 1); returned as an int."""

    def check(value: Any) -> int:
        whole = isinstance(value, int) or (isinstance(value, float) and value.is_integer())
        if isinstance(value, bool) or not whole or not low <= value <= high:
            raise _Wrong(f"a whole number {_bounds(low, high)}")
        return int(value)

    return check


def flag(value: Any) -> bool:
    if not isinstance(value, bool):
        raise _Wrong("true or false")
    return value


def text(max_chars: int = MAX_TEXT_CHARS) -> Check:
    def check(value: Any) -> str:
        if not isinstance(value, str) or len(value) > max_chars:
            raise _Wrong(f"a text of at most {max_chars} characters")
        return value

    return check


def optional(inner: Check) -> Check:
    """`inner`, or null."""
    return lambda value: None if value is None else inner(value)


def record(spec: Mapping[str, Check], *, required: tuple[str, ...] = ()) -> Check:
    """A JSON object: each field of `spec` that it has, checked; a null is kept where the field
    may be null (`optional`) and left out elsewhere. Other fields are dropped, since no page
    reads them."""

    def check(value: Any) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise _Wrong("an object")
        for name in required:
            if value.get(name) is None:
                raise _Wrong("present", name)
        result = {}
        for name, inner in spec.items():
            if name not in value:
                continue
            if value[name] is None:
                with contextlib.suppress(_Wrong):
                    result[name] = inner(None)
                continue
            try:
                result[name] = inner(value[name])
            except _Wrong as wrong:
                raise wrong.within(name) from None
        return result

    return check


def scores(*, required: tuple[str, ...] = ()) -> Check:
    """One round's figures: names to numbers, `epoch` and `step` whole."""
    named = {"epoch": count(), "step": count()}
    any_number = number(-MAX_FIGURE, MAX_FIGURE)

    def check(value: Any) -> dict[str, Any]:
        if not isinstance(value, dict) or len(value) > MAX_ROUND_FIGURES:
            raise _Wrong(f"an object of at most {MAX_ROUND_FIGURES} figures")
        for name in required:
            if name not in value:
                raise _Wrong("present", name)
        result = {}
        for name, figure in value.items():
            if len(name) > MAX_NAME_CHARS:
                raise _Wrong(f"a name of at most {MAX_NAME_CHARS} characters", name[:20])
            try:
                result[name] = named.get(name, any_number)(figure)
            except _Wrong as wrong:
                raise wrong.within(name) from None
        return result

    return check


def items(inner: Check, *, max_items: int) -> Check:
    def check(value: Any) -> list[Any]:
        if not isinstance(value, list) or len(value) > max_items:
            raise _Wrong(f"a list of at most {max_items} entries")
        result = []
        for i, item in enumerate(value):
            try:
                result.append(inner(item))
            except _Wrong as wrong:
                raise wrong.within(f"[{i}]") from None
        return result

    return check


def _style_figures(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict) or not 1 <= len(value) <= MAX_STYLE_FIGURES:
        raise _Wrong(f"an object of 1 to {MAX_STYLE_FIGURES} figures")
    triple = record(
        {side: number(-MAX_FIGURE, MAX_FIGURE, nan=False) for side in ("real", "base", "model")},
        required=("real", "base", "model"),
    )
    result = {}
    for name, figure in value.items():
        if len(name) > MAX_NAME_CHARS:
            raise _Wrong(f"a name of at most {MAX_NAME_CHARS} characters", name[:20])
        try:
            result[name] = triple(figure)
        except _Wrong as wrong:
            raise wrong.within(name) from None
    return result


def _meter_shares(value: Any) -> dict[str, float]:
    """music.json's `meters`: at most MAX_SUMMARY_METERS meters ("6/8"), each with its share of
    the pieces (0..1)."""
    if not isinstance(value, dict) or len(value) > MAX_SUMMARY_METERS:
        raise _Wrong(f"an object of at most {MAX_SUMMARY_METERS} meters")
    share = number(0.0, 1.0, nan=False)
    result = {}
    for meter, figure in value.items():
        try:
            Meter.parse(meter)
        except ValueError:
            raise _Wrong("a meter such as '6/8' or '3/4'", str(meter)[:20]) from None
        try:
            result[meter] = share(figure)
        except _Wrong as wrong:
            raise wrong.within(meter) from None
    return result


def _start(value: Any) -> dict[str, Any]:
    """The base's scores before a fine-tuning: empty from scratch, else drawn at epoch 0."""
    return {} if value == {} else scores(required=("val_loss",))(value)


LOSS = number()
SHARE = number(0.0, 1.0)
# `core.evaluation.style_check.StyleCheck.to_dict()`
STYLE_CHECK = record(
    {
        "figures": _style_figures,
        "pieces": count(1),
        "length_s": number(0.0, MAX_STYLE_LENGTH_S, nan=False),
        "real_pieces": count(),
        "base_model": text(),
    },
    required=("figures", "pieces", "length_s", "real_pieces"),
)
# `core.training.records.final_metrics`, with what the job adds (`core.training.loop._save`,
# `core.jobs.process.record_style_check`) and older folders may hold.
METRICS_FIELDS: dict[str, Check] = {
    "train_loss": LOSS,
    "val_loss": LOSS,
    "val_perplexity": LOSS,
    "val_accuracy": SHARE,
    "best_epoch": count(),
    "epochs_run": count(),
    "stopped_early": flag,
    "baseline_loss": LOSS,
    "baseline_perplexity": LOSS,
    "baseline_accuracy": SHARE,
    "baseline_order": count(),
    "perplexity_ratio": LOSS,
    "tokens_per_s": LOSS,
    "train_time_s": LOSS,
    "vocab_size": count(),
    "train_windows": count(),
    "valid_tokens": count(),
    "heldout_pieces": count(),
    "heldout_notes": count(),
    "heldout_transcribed": flag,
    "parameters": count(),
    "start_val_perplexity": LOSS,
    "kept_base_weights": flag,
    "start": _start,
    "history": items(scores(required=("epoch",)), max_items=MAX_HISTORY_ROUNDS),
    "dataset": text(),
    "fine_tuned_from": optional(text()),
    STYLE_CHECK_KEY: STYLE_CHECK,
}
METRICS = record(METRICS_FIELDS)
# `core.training.config.TrainingConfig.to_dict()` and the base it fine-tuned ("base_model");
# training/ comes after model/, so its fields are named here (a test checks they agree).
TRAINING_FIELDS: dict[str, Check] = {
    "sequence_length": count(2),
    "window_stride": optional(count(1)),
    "batch_size": count(1),
    "learning_rate": number(0.0, 1.0, nan=False),
    "epochs": count(1),
    "patience": count(1),
    "seed": count(-(2**63), 2**63),
    "augmentation": flag,
    "transpose_semitones": count(0, 12),
    "ngram_order": count(1, 100),
    "decay_from_fraction": number(0.0, 1.0, nan=False),
    "max_batches_per_epoch": optional(count(1)),
    "max_steps": optional(count(1)),
    "steps_per_round": optional(count(1)),
    "input_dropout": number(0.0, 1.0, nan=False),
    "base_model": optional(text()),
}
TRAINING = record(TRAINING_FIELDS)
MUSIC_FIELDS: dict[str, Check] = {
    "tempo_bpm": number(0.0, 1000.0, nan=False),
    "chord_onset_share": SHARE,
    "max_notes_per_onset": count(1, 128),
    "pitch_low": count(0, 127),
    "pitch_high": count(0, 127),
    "pieces": count(),
    "beats_per_bar": count(1, 64),
    "meter_known": flag,
    "pitch_span": optional(count(0, 127)),
    "onsets_per_beat": optional(number(0.0, 64.0, nan=False)),
    "meters": optional(_meter_shares),
    "notes_per_onset": optional(number(1.0, 128.0, nan=False)),
}
MUSIC = record(
    MUSIC_FIELDS,
    required=(
        "tempo_bpm",
        "chord_onset_share",
        "max_notes_per_onset",
        "pitch_low",
        "pitch_high",
        "pieces",
    ),
)


def _like_defaults(cls: type, *, high: Mapping[str, int] | None = None) -> Check:
    """A record of a config dataclass whose fields all have defaults: each field of the type of
    its default (whole numbers at least 0, up to `high` where given); the dataclass checks the
    ranges it knows."""
    spec: dict[str, Check] = {}
    for f in fields(cls):
        default = f.default
        assert default is not MISSING, f"{cls.__name__}.{f.name} needs a default"
        if isinstance(default, bool):
            spec[f.name] = flag
        elif isinstance(default, int):
            spec[f.name] = count(0, (high or {}).get(f.name, MAX_COUNT))
        else:
            spec[f.name] = number(0.0, MAX_FIGURE, nan=False)
    return record(spec)


MODEL_SHAPE = _like_defaults(ModelConfig)
ENCODING = _like_defaults(
    EncodingConfig,
    high={"max_shift_quarters": MAX_GRID_QUARTERS, "max_duration_quarters": MAX_GRID_QUARTERS},
)


def _problem(file: str, wrong: _Wrong) -> MetadataError:
    where = f"'{wrong.field.replace('.[', '[')}'" if wrong.field else "it"
    return MetadataError(f"{file} is not usable: {where} must be {wrong.args[0]}")


def read_json(path: Path) -> Any:
    """A description file's JSON, refused when it is too large to be one.

    Raises:
        MetadataError: too large, not UTF-8 or not JSON.
        OSError: it cannot be read.
    """
    if path.stat().st_size > MAX_METADATA_FILE_BYTES:
        raise MetadataError(
            f"{path.name} is not usable: larger than {MAX_METADATA_FILE_BYTES // 1000} KB"
        )
    try:
        return json.loads(path.read_bytes())
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
        raise MetadataError(f"{path.name} is not usable: not JSON") from None


def _checked(file: str, check: Check, value: Any) -> Any:
    try:
        return check(value)
    except _Wrong as wrong:
        raise _problem(file, wrong) from None


def check_config(data: Any) -> tuple[ModelConfig, dict[str, Any]]:
    """config.json: the network's shape and the training's settings (checked fields only).

    Raises:
        MetadataError: naming the field.
    """
    if not isinstance(data, dict):
        raise MetadataError(f"{CONFIG_FILE} is not usable: it must be an object")
    if data.get("version") is not None:
        _checked(CONFIG_FILE, record({"version": count(0, MODEL_FOLDER_VERSION)}), data)
    if not isinstance(data.get("model"), dict):
        raise MetadataError(f"{CONFIG_FILE} is not usable: 'model' must be an object")
    shape = _checked(CONFIG_FILE, record({"model": MODEL_SHAPE}), data)["model"]
    training = _checked(CONFIG_FILE, record({"training": TRAINING}), data).get("training", {})
    try:
        return ModelConfig.from_dict(shape), training
    except ValueError as error:  # the shape's own ranges (InvalidSettingError)
        raise MetadataError(f"{CONFIG_FILE} is not usable: 'model': {error}") from None


def check_metrics(data: Any) -> dict[str, Any]:
    """metrics.json: the figures pages read, each checked; other fields are left out.

    Raises:
        MetadataError: naming the field.
    """
    result: dict[str, Any] = _checked(METRICS_FILE, METRICS, data)
    return result


def check_music(data: Any) -> MusicSummary:
    """music.json as a `MusicSummary`.

    Raises:
        MetadataError: naming the field.
    """
    values = _checked(MUSIC_FILE, MUSIC, data)
    try:
        return MusicSummary.from_dict(values)
    except ValueError as error:  # its own ranges (pitch_low above pitch_high, ...)
        raise MetadataError(f"{MUSIC_FILE} is not usable: {error}") from None


def check_encoding(data: Any) -> EncodingConfig:
    """encoding.json as an `EncodingConfig`.

    Raises:
        MetadataError: naming the field.
    """
    values = _checked(ENCODING_FILE, ENCODING, data)
    try:
        return EncodingConfig.from_dict(values)
    except ValueError as error:  # its own ranges (InvalidSettingError)
        raise MetadataError(f"{ENCODING_FILE} is not usable: {error}") from None


def check_vocab(data: Any, encoding: EncodingConfig) -> Vocabulary:
    """vocab.json (token → id) as a `Vocabulary`: ids 0..n-1, and only tokens the encoding's
    grid can write (`Vocabulary.for_grid`), so every token means a shift, pitch or duration.

    Raises:
        MetadataError: naming the token.
    """
    if not isinstance(data, dict):
        raise MetadataError(f"{VOCAB_FILE} is not usable: it must be an object")
    known = set(Vocabulary.for_grid(encoding).tokens)
    for token, index in data.items():
        if token not in known:
            raise MetadataError(
                f"{VOCAB_FILE} is not usable: {token[:20]!r} is not a token of its encoding"
            )
        if isinstance(index, bool) or not isinstance(index, int):
            raise MetadataError(f"{VOCAB_FILE} is not usable: the id of {token!r} must be whole")
    try:
        return Vocabulary.from_dict(data)
    except ValueError as error:  # ids not 0..n-1, special tokens not first
        raise MetadataError(f"{VOCAB_FILE} is not usable: {error}") from None
