"""The chorale model's network: its settings, its Keras layers, and the same arithmetic in numpy.

A bidirectional LSTM reads the whole melody (so each frame knows what comes next); a forward
LSTM decoder takes that and what the lower voices sounded at the previous frame, and three
heads choose this frame's alto, then the tenor given the alto, then the bass given both.
Keras trains it (`scripts/train_harmonizer.py`); harmonizing runs the same weights in numpy
(`NumpyHarmonizerNet`), a few hundred small matrix products for a tune, with dozens of
candidates in one batch, far quicker than a Keras call per frame.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from core.harmonize.frames import N_CLASSES, N_MELODY_FEATURES, N_SOUNDING, START

# Layer names: the numpy network finds its weights by them.
SOPRANO_EMBEDDING = "soprano_embedding"
VOICE_EMBEDDINGS = ("alto_embedding", "tenor_embedding", "bass_embedding")
ENCODER = "encoder"
DECODER = "decoder"
HEADS = ("alto_head", "tenor_head", "bass_head")
INPUTS = (
    "soprano",
    "melody_features",
    "previous_alto",
    "previous_tenor",
    "previous_bass",
    "previous_onsets",
    "alto",
    "alto_onset",
    "tenor",
    "tenor_onset",
)


@dataclass(frozen=True)
class NetworkSettings:
    """The sizes of the network; `scripts/train_harmonizer.py` records them in config.json."""

    encoder_units: int = 64  # each direction
    decoder_units: int = 128
    embedding_size: int = 16

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> NetworkSettings:
        return cls(
            **{k: int(data[k]) for k in ("encoder_units", "decoder_units", "embedding_size")}
        )


def build_network(settings: NetworkSettings, *, dropout: float = 0.0) -> Any:
    """The Keras model: inputs `INPUTS` (whole sequences, teacher forced), outputs the three
    heads' logits (batch, frames, N_CLASSES). `dropout`: on the decoder's input and output
    while training (no weights: the numpy network ignores it)."""
    import keras
    from keras import layers

    frames = None
    soprano = keras.Input((frames,), dtype="int32", name="soprano")
    features = keras.Input((frames, N_MELODY_FEATURES), name="melody_features")
    previous = [
        keras.Input((frames,), dtype="int32", name=f"previous_{v}")
        for v in ("alto", "tenor", "bass")
    ]
    previous_onsets = keras.Input((frames, 3), name="previous_onsets")
    alto = keras.Input((frames,), dtype="int32", name="alto")
    alto_onset = keras.Input((frames, 1), name="alto_onset")
    tenor = keras.Input((frames,), dtype="int32", name="tenor")
    tenor_onset = keras.Input((frames, 1), name="tenor_onset")
    size = settings.embedding_size
    soprano_embedding = layers.Embedding(N_SOUNDING, size, name=SOPRANO_EMBEDDING)
    embeddings = [layers.Embedding(N_SOUNDING, size, name=name) for name in VOICE_EMBEDDINGS]
    melody = layers.Concatenate()([soprano_embedding(soprano), features])
    encoded = layers.Bidirectional(
        layers.LSTM(settings.encoder_units, return_sequences=True), name=ENCODER
    )(melody)
    decoder_in = layers.Concatenate()(
        [encoded, *(e(p) for e, p in zip(embeddings, previous, strict=True)), previous_onsets]
    )
    if dropout:
        decoder_in = layers.Dropout(dropout)(decoder_in)
    hidden = layers.LSTM(settings.decoder_units, return_sequences=True, name=DECODER)(decoder_in)
    if dropout:
        hidden = layers.Dropout(dropout)(hidden)
    alto_seen = embeddings[0](alto)
    tenor_seen = embeddings[1](tenor)
    alto_logits = layers.Dense(N_CLASSES, name=HEADS[0])(hidden)
    tenor_logits = layers.Dense(N_CLASSES, name=HEADS[1])(
        layers.Concatenate()([hidden, alto_seen, alto_onset])
    )
    bass_logits = layers.Dense(N_CLASSES, name=HEADS[2])(
        layers.Concatenate()([hidden, alto_seen, alto_onset, tenor_seen, tenor_onset])
    )
    inputs = [soprano, features, *previous, previous_onsets, alto, alto_onset, tenor, tenor_onset]
    return keras.Model(inputs, [alto_logits, tenor_logits, bass_logits], name="harmonizer")


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * x))  # = 1 / (1 + e^-x), without overflow


@dataclass(frozen=True)
class LstmWeights:
    """A Keras LSTM's weights: gates in Keras's order (input, forget, cell, output)."""

    kernel: np.ndarray  # (inputs, 4 * units)
    recurrent: np.ndarray  # (units, 4 * units)
    bias: np.ndarray  # (4 * units,)

    @property
    def units(self) -> int:
        return int(self.recurrent.shape[0])

    def step(
        self, projected: np.ndarray, h: np.ndarray, c: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """One step from the input already multiplied by the kernel (plus the bias)."""
        return _gates(projected + h @ self.recurrent, c)

    def run(self, x: np.ndarray, *, backwards: bool = False) -> np.ndarray:
        """The whole sequence (frames, inputs) → outputs (frames, units), one sequence."""
        projected = x @ self.kernel + self.bias
        frames = len(x)
        h = np.zeros((1, self.units), dtype=np.float32)
        c = np.zeros_like(h)
        out = np.empty((frames, self.units), dtype=np.float32)
        order = range(frames - 1, -1, -1) if backwards else range(frames)
        for t in order:
            h, c = self.step(projected[t : t + 1], h, c)
            out[t] = h[0]
        return out


def run_lstms(lstms: Sequence[LstmWeights], xs: np.ndarray) -> np.ndarray:
    """Several LSTMs of one size at once, each over its own sequence: (count, frames, inputs)
    → (count, frames, units), as `LstmWeights.run` of each, but one step of all of them per
    frame (an ensemble's members and directions: a backward LSTM is given its sequence
    reversed). Numpy has no batched LSTM of different weights; this is `run` with the weights
    stacked, checked against it in the tests."""
    kernels = np.stack([w.kernel for w in lstms])
    recurrents = np.stack([w.recurrent for w in lstms])
    biases = np.stack([w.bias for w in lstms])
    projected = np.einsum("mti,mik->mtk", xs, kernels) + biases[:, None, :]
    count, frames, _ = xs.shape
    u = int(recurrents.shape[1])
    h = np.zeros((count, u), dtype=np.float32)
    c = np.zeros_like(h)
    out = np.empty((count, frames, u), dtype=np.float32)
    for t in range(frames):
        h, c = _gates(projected[:, t] + np.einsum("mu,muk->mk", h, recurrents), c)
        out[:, t] = h
    return out


def _gates(z: np.ndarray, c: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """An LSTM step from its gates' pre-activations `z` (rows, 4 * units), in Keras's order
    (input, forget, cell, output), and the cell state: the new (h, c)."""
    u = c.shape[1]
    i = _sigmoid(z[:, :u])
    f = _sigmoid(z[:, u : 2 * u])
    g = np.tanh(z[:, 2 * u : 3 * u])
    o = _sigmoid(z[:, 3 * u :])
    c = f * c + i * g
    return o * np.tanh(c), c


def _lstm(layer: Any) -> LstmWeights:
    kernel, recurrent, bias = (np.asarray(w, dtype=np.float32) for w in layer.get_weights())
    return LstmWeights(kernel, recurrent, bias)


@dataclass(frozen=True)
class Dense:
    kernel: np.ndarray
    bias: np.ndarray

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return x @ self.kernel + self.bias


@dataclass(frozen=True)
class NumpyHarmonizerNet:
    """The Keras network's weights as numpy arrays, and its forward pass one frame at a time."""

    soprano_embedding: np.ndarray
    voice_embeddings: tuple[np.ndarray, np.ndarray, np.ndarray]
    encoder_forward: LstmWeights
    encoder_backward: LstmWeights
    decoder: LstmWeights
    heads: tuple[Dense, Dense, Dense]

    @classmethod
    def from_keras(cls, model: Any) -> NumpyHarmonizerNet:
        encoder = model.get_layer(ENCODER)
        alto, tenor, bass = (
            np.asarray(model.get_layer(n).get_weights()[0], dtype=np.float32)
            for n in VOICE_EMBEDDINGS
        )
        heads = tuple(
            Dense(*(np.asarray(w, dtype=np.float32) for w in model.get_layer(n).get_weights()))
            for n in HEADS
        )
        assert len(heads) == 3
        return cls(
            soprano_embedding=np.asarray(
                model.get_layer(SOPRANO_EMBEDDING).get_weights()[0], dtype=np.float32
            ),
            voice_embeddings=(alto, tenor, bass),
            encoder_forward=_lstm(encoder.forward_layer),
            encoder_backward=_lstm(encoder.backward_layer),
            decoder=_lstm(model.get_layer(DECODER)),
            heads=(heads[0], heads[1], heads[2]),
        )

    def encode(self, soprano: np.ndarray, features: np.ndarray) -> np.ndarray:
        """The melody (frames,) and its features (frames, F) → the encoder's output, and its
        part of the decoder's input already projected: (frames, 4 * decoder units)."""
        x = np.concatenate([self.soprano_embedding[soprano], features], axis=1).astype(np.float32)
        forward = self.encoder_forward.run(x)
        backward = self.encoder_backward.run(x, backwards=True)
        encoded = np.concatenate([forward, backward], axis=1)
        units = encoded.shape[1]
        return encoded @ self.decoder.kernel[:units] + self.decoder.bias

    def decoder_step(
        self,
        encoded_projected: np.ndarray,
        previous: np.ndarray,
        previous_onsets: np.ndarray,
        h: np.ndarray,
        c: np.ndarray,
    ) -> tuple[np.ndarray, np.ndarray]:
        """One decoder step for a batch: `previous` (batch, 3) sounding indices (or START),
        `previous_onsets` (batch, 3) → the new state (h, c)."""
        units = 2 * self.encoder_forward.units
        size = self.voice_embeddings[0].shape[1]
        kernel = self.decoder.kernel
        projected = encoded_projected[None, :] + previous_onsets @ kernel[units + 3 * size :]
        for voice in range(3):
            rows = kernel[units + voice * size : units + (voice + 1) * size]
            projected = projected + self.voice_embeddings[voice][previous[:, voice]] @ rows
        return self.decoder.step(projected, h, c)

    def alto_logits(self, h: np.ndarray) -> np.ndarray:
        return self.heads[0](h)

    def tenor_logits(self, h: np.ndarray, alto: np.ndarray, alto_onset: np.ndarray) -> np.ndarray:
        x = np.concatenate([h, self.voice_embeddings[0][alto], alto_onset[:, None]], axis=1)
        return self.heads[1](x)

    def bass_logits(
        self,
        h: np.ndarray,
        alto: np.ndarray,
        alto_onset: np.ndarray,
        tenor: np.ndarray,
        tenor_onset: np.ndarray,
    ) -> np.ndarray:
        x = np.concatenate(
            [
                h,
                self.voice_embeddings[0][alto],
                alto_onset[:, None],
                self.voice_embeddings[1][tenor],
                tenor_onset[:, None],
            ],
            axis=1,
        )
        return self.heads[2](x)


def teacher_forced_inputs(
    soprano: np.ndarray,
    features: np.ndarray,
    sounding: np.ndarray,
    onsets: np.ndarray,
) -> dict[str, np.ndarray]:
    """The Keras model's inputs for one piece (a batch of one) from its melody frames and its
    lower voices' sounding indices and onsets (3, frames) each."""
    previous = np.concatenate([np.full((3, 1), START), sounding[:, :-1]], axis=1)
    previous_onsets = np.concatenate([np.zeros((3, 1)), onsets[:, :-1]], axis=1)
    return {
        "soprano": soprano[None].astype(np.int32),
        "melody_features": features[None].astype(np.float32),
        "previous_alto": previous[0][None].astype(np.int32),
        "previous_tenor": previous[1][None].astype(np.int32),
        "previous_bass": previous[2][None].astype(np.int32),
        "previous_onsets": previous_onsets.T[None].astype(np.float32),
        "alto": sounding[0][None].astype(np.int32),
        "alto_onset": onsets[0][None, :, None].astype(np.float32),
        "tenor": sounding[1][None].astype(np.int32),
        "tenor_onset": onsets[1][None, :, None].astype(np.float32),
    }
