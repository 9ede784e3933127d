"""A tiny untrained model folder that follows the model contract, for sampling tests."""

from __future__ import annotations

from pathlib import Path

import keras
import numpy as np

from core.model.folder import save_model_folder
from core.model.network import ModelConfig, build_model
from core.tokens.config import EncodingConfig
from core.tokens.scheme import duration_token, pitch_token, shift_token
from core.tokens.vocabulary import Vocabulary

TINY_CONFIG = ModelConfig(embedding_dim=8, units=24, layers=2, dropout=0.1)


def tiny_vocab() -> Vocabulary:
    tokens = [shift_token(s) for s in range(1, 17)]
    tokens += [pitch_token(p) for p in range(48, 85)]
    tokens += [duration_token(d) for d in range(1, 17)]
    return Vocabulary.build([tokens])


def make_tiny_model_folder(path: Path, *, seed: int = 7) -> Path:
    """Random weights with sharpened logits, so sampling has context-dependent preferences."""
    keras.utils.set_random_seed(seed)
    vocab = tiny_vocab()
    network = build_model(TINY_CONFIG, len(vocab))
    dense = network.get_layer("logits")
    kernel, bias = dense.get_weights()
    rng = np.random.default_rng(seed)
    dense.set_weights([kernel * 300.0, rng.normal(0.0, 1.0, bias.shape).astype("float32")])
    return save_model_folder(path, keras_model=network, encoding=EncodingConfig(), vocab=vocab,
                             config=TINY_CONFIG, training={}, metrics={})
