"""The Keras next-token LSTM as numpy arrays, run one token at a time.

The tutorial way re-runs the whole network on a 100-token window for every new token. Here the
weights are read out of the Keras model once (or straight from the `.keras` archive, without
TensorFlow) and each step runs the LSTM cells in numpy on one token, keeping (h, c) per layer:
a thousand tokens take a fraction of a second on a CPU.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from core.errors import InvalidModelError

if TYPE_CHECKING:
    import keras

log = logging.getLogger(__name__)

KERAS_CONFIG_ENTRY = "config.json"  # inside the .keras zip archive
KERAS_WEIGHTS_ENTRY = "model.weights.h5"


@dataclass(frozen=True)
class _LstmWeights:
    kernel: np.ndarray  # (input, 4 * units), gates in Keras order i, f, c, o
    recurrent_kernel: np.ndarray  # (units, 4 * units)
    bias: np.ndarray  # (4 * units,)

    @property
    def units(self) -> int:
        return int(self.recurrent_kernel.shape[0])


LstmState = list[tuple[np.ndarray, np.ndarray]]  # (h, c) per layer


def _steppable_lstm(config: dict[str, Any]) -> bool:
    """An LSTM this module's numpy step reproduces exactly."""
    return (
        config.get("activation", "tanh") == "tanh"
        and config.get("recurrent_activation", "sigmoid") == "sigmoid"
        and config.get("use_bias", True)
        and not config.get("go_backwards", False)
        and not config.get("stateful", False)
        and config.get("return_sequences", True)
    )


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 0.5 * (np.tanh(0.5 * x) + 1.0)  # = 1 / (1 + e^-x), without overflow warnings


class StepModel:
    """The Keras next-token LSTM as numpy arrays, run one token at a time.

    The first layer's input projection is folded into the embedding table (embedding @ kernel),
    so a step costs one row lookup and a few matrix-vector products.
    """

    def __init__(
        self,
        embedding: np.ndarray,
        layers: Sequence[_LstmWeights],
        dense_kernel: np.ndarray,
        dense_bias: np.ndarray,
    ) -> None:
        if not layers:
            raise InvalidModelError("the network has no LSTM layer named lstm_0")
        dtype = np.float32
        self.input_table = (embedding @ layers[0].kernel + layers[0].bias).astype(dtype)
        self.units = [w.units for w in layers]
        # Stored transposed (output, input) and contiguous: `matrix @ vector` runs about 10%
        # faster than `vector @ matrix` here, and a 2 x 384 step is bound by reading the
        # weights (7 MB, more than a core's L2 cache). Past the first layer, the input and the
        # recurrent kernels sit side by side, so one product over (x, h) does both: one
        # BLAS call instead of two and an add (the 2 x 384 step: 0.13 s per 1000 tokens
        # against 0.14).
        self.recurrent_0_t = np.ascontiguousarray(layers[0].recurrent_kernel.T, dtype=dtype)
        self.stacked_t = [
            np.ascontiguousarray(np.hstack([w.kernel.T, w.recurrent_kernel.T]), dtype=dtype)
            for w in layers[1:]
        ]
        self.biases = [np.asarray(w.bias, dtype=dtype) for w in layers]
        self.dense_t = np.ascontiguousarray(np.asarray(dense_kernel).T, dtype=dtype)
        self.dense_bias = np.asarray(dense_bias, dtype=dtype)
        self.vocab_size = int(self.dense_t.shape[0])

    @classmethod
    def from_keras(cls, keras_model: keras.Model) -> StepModel:
        """Read the weights of a loaded Keras model that follows `core.model`'s layout."""
        from core.model.network import EMBEDDING_NAME, LOGITS_NAME, lstm_name

        try:
            embedding = np.asarray(keras_model.get_layer(EMBEDDING_NAME).get_weights()[0])
            layers: list[_LstmWeights] = []
            while True:
                try:
                    layer = keras_model.get_layer(lstm_name(len(layers)))
                except ValueError:
                    break
                if not _steppable_lstm(layer.get_config()):
                    raise InvalidModelError("only plain tanh/sigmoid LSTM layers can be stepped")
                kernel, recurrent, *bias = (np.asarray(w) for w in layer.get_weights())
                units = recurrent.shape[0]
                layers.append(
                    _LstmWeights(kernel, recurrent, bias[0] if bias else np.zeros(4 * units))
                )
            dense_kernel, *dense_bias = (
                np.asarray(w) for w in keras_model.get_layer(LOGITS_NAME).get_weights()
            )
        except ValueError as error:
            raise InvalidModelError(
                f"the network does not follow the model layout ({error})"
            ) from error
        logits_bias = dense_bias[0] if dense_bias else np.zeros(dense_kernel.shape[1])
        return cls(embedding, layers, dense_kernel, logits_bias)

    @classmethod
    def from_keras_file(cls, model_file: Path) -> StepModel | None:
        """Read the weights straight from a `.keras` archive, without TensorFlow.

        Importing TensorFlow and rebuilding the Keras model takes seconds; reading the arrays
        takes milliseconds. Only the exact layout `core.model.build_model` writes is read this
        way (checked in the archive's config); None means "load it with Keras instead". Nothing
        in the archive is executed.
        """
        import io
        import zipfile

        import h5py

        try:
            with zipfile.ZipFile(model_file) as archive:
                config = json.loads(archive.read(KERAS_CONFIG_ENTRY))
                weights = archive.read(KERAS_WEIGHTS_ENTRY)
            layer_configs = config["config"]["layers"]
            classes = [layer["class_name"] for layer in layer_configs]
            names = [layer["config"]["name"] for layer in layer_configs]
            count = (len(classes) - 3) // 2
            expected_classes = ["InputLayer", "Embedding", *["LSTM", "Dropout"] * count, "Dense"]
            expected_names = [
                names[0],
                "embedding",
                *[n for i in range(count) for n in (f"lstm_{i}", f"dropout_{i}")],
                "logits",
            ]
            if count < 1 or classes != expected_classes or names != expected_names:
                return None
            lstm_configs = [c["config"] for c in layer_configs if c["class_name"] == "LSTM"]
            dense_config = layer_configs[-1]["config"]
            if not all(_steppable_lstm(c) for c in lstm_configs) or (
                dense_config.get("activation", "linear") != "linear"
            ):
                return None
            # Keras 3 stores variables by class-derived path: lstm, lstm_1, ... in layer order.
            with h5py.File(io.BytesIO(weights), "r") as h5:
                layers_group = h5["layers"]
                embedding = np.asarray(layers_group["embedding/vars/0"])
                layers = []
                for index in range(count):
                    group = layers_group["lstm" if index == 0 else f"lstm_{index}"]["cell/vars"]
                    layers.append(
                        _LstmWeights(
                            np.asarray(group["0"]), np.asarray(group["1"]), np.asarray(group["2"])
                        )
                    )
                dense_kernel = np.asarray(layers_group["dense/vars/0"])
                dense_bias = np.asarray(layers_group["dense/vars/1"])
        except (OSError, KeyError, ValueError, TypeError, zipfile.BadZipFile) as error:
            log.info("%s: reading weights without Keras failed (%s)", model_file, error)
            return None
        units = [w.units for w in layers]
        if (
            embedding.shape[1] != layers[0].kernel.shape[0]
            or any(w.kernel.shape[1] != 4 * w.units for w in layers)
            or any(layers[i + 1].kernel.shape[0] != units[i] for i in range(count - 1))
            or dense_kernel.shape[0] != units[-1]
        ):
            return None
        return cls(embedding, layers, dense_kernel, dense_bias)

    def initial_state(self) -> LstmState:
        return [(np.zeros(u, dtype=np.float32), np.zeros(u, dtype=np.float32)) for u in self.units]

    def step(self, token_id: int, state: LstmState) -> tuple[np.ndarray, LstmState]:
        """Logits for the token after `token_id`, and the new state (the old one is kept)."""
        new_state: LstmState = []
        x = self.input_table[token_id]  # layer 0's input projection, bias included
        for index, u in enumerate(self.units):
            h, c = state[index]
            if index == 0:
                z = x + self.recurrent_0_t @ h
            else:
                z = self.stacked_t[index - 1] @ np.concatenate((x, h)) + self.biases[index]
            gates = _sigmoid(z)  # one call for all four (the c slice is unused): fewer numpy calls
            c = gates[u : 2 * u] * c + gates[:u] * np.tanh(z[2 * u : 3 * u])
            h = gates[3 * u :] * np.tanh(c)
            new_state.append((h, c))
            x = h
        return self.dense_t @ x + self.dense_bias, new_state

    def sequence_logits(self, token_ids: Sequence[int]) -> np.ndarray:
        """(len, vocab) logits for a whole sequence, as the Keras model computes them."""
        state = self.initial_state()
        out = np.empty((len(token_ids), self.vocab_size), dtype=np.float32)
        for position, token_id in enumerate(token_ids):
            out[position], state = self.step(int(token_id), state)
        return out
