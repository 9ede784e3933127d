"""The LSTM next-token network (Keras 3).

The network is a plain Keras 3 functional model, so the sampler can read its weights and run
it step by step in numpy:

    token_ids (batch, time) int32 → embedding → [lstm_i (return_sequences) → dropout_i] * layers
    → logits (Dense, linear, one score per vocabulary token at every position)

No Lambda layers and no masking layer (PAD positions are ignored by the loss instead), and no
recurrent dropout, so TensorFlow keeps the fused LSTM kernel.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from core.config import Config
from core.errors import InvalidSettingError

if TYPE_CHECKING:  # TensorFlow is imported only where a network is built or loaded, so
    import keras  # pages can list, rename and zip model folders without paying for it


DEFAULT_EMBEDDING_DIM = 64

DEFAULT_UNITS = 256

DEFAULT_LAYERS = 2

DEFAULT_DROPOUT = 0.3

MAX_UNITS = 2048

MAX_LAYERS = 8

INPUT_NAME = "token_ids"

EMBEDDING_NAME = "embedding"

LOGITS_NAME = "logits"


def lstm_name(index: int) -> str:
    return f"lstm_{index}"


def dropout_name(index: int) -> str:
    return f"dropout_{index}"


@dataclass(frozen=True)
class ModelConfig(Config):
    """The network's shape. The vocabulary size comes from the dataset, not from here."""

    embedding_dim: int = DEFAULT_EMBEDDING_DIM
    units: int = DEFAULT_UNITS
    layers: int = DEFAULT_LAYERS
    dropout: float = DEFAULT_DROPOUT

    def __post_init__(self) -> None:
        if not 1 <= self.embedding_dim <= MAX_UNITS:
            raise InvalidSettingError(f"embedding_dim must be within 1..{MAX_UNITS}")
        if not 1 <= self.units <= MAX_UNITS:
            raise InvalidSettingError(f"units must be within 1..{MAX_UNITS}")
        if not 1 <= self.layers <= MAX_LAYERS:
            raise InvalidSettingError(f"layers must be within 1..{MAX_LAYERS}")
        if not 0.0 <= self.dropout < 1.0:
            raise InvalidSettingError("dropout must be within [0, 1)")


def build_model(config: ModelConfig, vocab_size: int) -> keras.Model:
    """The uncompiled next-token network (see the module docstring for its exact layout)."""
    import keras

    if vocab_size < 2:
        raise ValueError("vocab_size must be at least 2")
    token_ids = keras.Input(shape=(None,), dtype="int32", name=INPUT_NAME)
    x = keras.layers.Embedding(vocab_size, config.embedding_dim, name=EMBEDDING_NAME)(token_ids)
    for i in range(config.layers):
        x = keras.layers.LSTM(config.units, return_sequences=True, name=lstm_name(i))(x)
        x = keras.layers.Dropout(config.dropout, name=dropout_name(i))(x)
    logits = keras.layers.Dense(vocab_size, name=LOGITS_NAME)(x)
    return keras.Model(token_ids, logits, name="tunesmith_lstm")


def next_token_loss(*, pad_id: int = 0) -> keras.losses.Loss:
    """Sparse cross-entropy from logits at every position, PAD targets ignored."""
    import keras

    return keras.losses.SparseCategoricalCrossentropy(from_logits=True, ignore_class=pad_id)


def compile_model(model: keras.Model, *, learning_rate: float, pad_id: int = 0) -> None:
    """Adam with gradient clipping (LSTMs on long windows sometimes spike) and the loss above."""
    import keras

    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=learning_rate, clipnorm=1.0),
        loss=next_token_loss(pad_id=pad_id),
    )


def _output_size(keras_model: keras.Model) -> int:
    shape = keras_model.outputs[0].shape
    return int(shape[-1])
