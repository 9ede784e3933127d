"""Where a training run starts: from a base model (its shape, encoding and vocabulary) or from
scratch."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from core.errors import TrainingDataError
from core.model.network import ModelConfig
from core.tokens.config import EncodingConfig
from core.tokens.vocabulary import Vocabulary
from core.training.config import TrainingConfig


@dataclass(frozen=True)
class FineTuning:
    """What fine-tuning from a base model fixes: its shape, encoding and vocabulary."""

    path: Path
    model: ModelConfig
    encoding: EncodingConfig
    vocab: Vocabulary


@dataclass(frozen=True)
class TrainingStart:
    """What a run starts from: the network's shape, the encoding, the vocabulary (None: the
    data builds one) and the base model's folder (None: from scratch)."""

    model: ModelConfig
    encoding: EncodingConfig
    vocab: Vocabulary | None
    base_dir: Path | None


def training_start(
    base_model: str | None,
    model: ModelConfig,
    training: TrainingConfig,
    *,
    chosen_encoding: EncodingConfig | None = None,
) -> TrainingStart:
    """What a run starts from.

    Fine-tuning takes all of it from the base (`fine_tuning_setup`); from scratch it is
    `model`, the training's encoding (with its augmentation) and a vocabulary the data builds.
    """
    if base_model:
        base = fine_tuning_setup(base_model, chosen_encoding)
        return TrainingStart(base.model, base.encoding, base.vocab, base.path)
    return TrainingStart(model, training.encoding(chosen_encoding), None, None)


def fine_tuning_setup(base_model: str, chosen_encoding: EncodingConfig | None = None) -> FineTuning:
    """The base model's folder, network shape, encoding and vocabulary, checked before any data
    is read.

    Raises:
        InvalidModelError: the base is missing or unreadable.
        ValueError: the chosen encoding's grid is not the base's (train from scratch instead).
    """
    from core.model.bundled import resolve_model_dir
    from core.model.folder import read_encoding_and_vocab, read_model_info

    base_dir = resolve_model_dir(base_model)
    info = read_model_info(base_dir)
    encoding, vocab = read_encoding_and_vocab(base_dir)
    if chosen_encoding is not None and (
        chosen_encoding.steps_per_quarter != encoding.steps_per_quarter
    ):
        raise TrainingDataError(
            f"the base model knows a grid of {encoding.steps_per_quarter} steps per quarter note, "
            f"the data was prepared with {chosen_encoding.steps_per_quarter}: train from scratch "
            "for that grid"
        )
    return FineTuning(base_dir, ModelConfig.from_dict(info["model"]), encoding, vocab)
