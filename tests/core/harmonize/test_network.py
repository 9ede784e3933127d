"""The numpy network computes what the Keras layers compute, from the same weights."""

from __future__ import annotations

import numpy as np

from core.harmonize.frames import N_MELODY_FEATURES, N_PITCHES, N_SOUNDING, START
from core.harmonize.network import (
    NetworkSettings,
    NumpyHarmonizerNet,
    build_network,
    teacher_forced_inputs,
)


def test_numpy_network_equals_keras() -> None:
    import keras

    keras.utils.set_random_seed(3)
    model = build_network(NetworkSettings(encoder_units=8, decoder_units=16, embedding_size=4))
    net = NumpyHarmonizerNet.from_keras(model)
    rng = np.random.default_rng(0)
    frames = 12
    soprano = rng.integers(0, N_SOUNDING - 1, frames)
    features = rng.uniform(0, 1, (frames, N_MELODY_FEATURES)).astype(np.float32)
    sounding = rng.integers(0, N_PITCHES + 1, (3, frames))
    onsets = rng.integers(0, 2, (3, frames)).astype(np.float32)
    inputs = teacher_forced_inputs(soprano, features, sounding, onsets)
    expected = [np.asarray(o)[0] for o in model.predict_on_batch(inputs)]

    encoded = net.encode(soprano, features)
    h = np.zeros((1, 16), dtype=np.float32)
    c = np.zeros_like(h)
    previous = np.full((1, 3), START)
    previous_onsets = np.zeros((1, 3), dtype=np.float32)
    got: list[list[np.ndarray]] = [[], [], []]
    for t in range(frames):
        h, c = net.decoder_step(encoded[t], previous, previous_onsets, h, c)
        alto, tenor = sounding[0, t : t + 1], sounding[1, t : t + 1]
        alto_on, tenor_on = onsets[0, t : t + 1], onsets[1, t : t + 1]
        got[0].append(net.alto_logits(h)[0])
        got[1].append(net.tenor_logits(h, alto, alto_on)[0])
        got[2].append(net.bass_logits(h, alto, alto_on, tenor, tenor_on)[0])
        previous = sounding[:, t][None]
        previous_onsets = onsets[:, t][None]
    for voice in range(3):
        np.testing.assert_allclose(np.stack(got[voice]), expected[voice], atol=1e-4)
