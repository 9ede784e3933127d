"""The chord model: its features, its vocabulary, numpy equal to Keras, and the sampler held to
its chords."""

from __future__ import annotations

import numpy as np
import pytest

from core.harmonize.chorale import (
    DEFAULT_HARMONIZER_DIR,
    ChoraleHarmonizer,
    _chord_masks,
    load_chorale_harmonizer,
)
from core.harmonize.frames import (
    HOLD,
    MODEL_PITCH_LOW,
    N_PITCHES,
    N_SOUNDING,
    choices_to_sounding,
    melody_frames,
)
from core.harmonize.harmony import (
    N_CHORD_FEATURES,
    ChordModel,
    ChordNetworkSettings,
    ChordVocabulary,
    NumpyChordNet,
    build_chord_network,
    chord_features,
    stacked_logits,
    voices_to_frame_chords,
)
from core.harmonize.voice_leading import voices_to_grid
from core.music.piece import Note, Piece

C_MAJOR = frozenset({0, 4, 7})
G_MAJOR = frozenset({7, 11, 2})


def test_chord_features_read_pitch_class_and_note_length() -> None:
    # C4 a half note, D4 a quarter, a quarter rest, E4 a quarter (4 steps a quarter)
    tune = Piece("t", (Note(0, 60, 8), Note(8, 62, 4), Note(16, 64, 4)), meter="4/4")
    frames = melody_frames(tune)
    features = chord_features(frames)
    assert features.shape == (frames.frames, N_CHORD_FEATURES)
    base = features.shape[1] - 17
    pitch_classes = features[:, base : base + 13].argmax(axis=1)
    assert list(pitch_classes) == [0, 0, 0, 0, 2, 2, 12, 12, 4, 4]
    long_note = features[:, -2]
    assert list(long_note[:6]) == [1, 1, 1, 1, 0, 0]
    rest_after = features[:, -1]
    assert rest_after[4] == 1 and rest_after[0] == 0 and rest_after[-1] == 1


def test_vocabulary_ranks_counts_round_trips_and_knows_its_pitch_classes() -> None:
    vocabulary = ChordVocabulary.from_counts(
        [C_MAJOR, G_MAJOR, C_MAJOR, G_MAJOR, frozenset({0, 2, 4, 5, 7})], size=2
    )
    assert vocabulary.chords == (C_MAJOR, G_MAJOR)
    assert vocabulary.index(frozenset({9})) == vocabulary.other == 2
    assert ChordVocabulary.from_dict(vocabulary.to_dict()) == vocabulary
    containing = vocabulary.containing()
    assert containing[7].tolist() == [True, True, False]
    assert containing[1].tolist() == [False, False, False]


def test_frame_chords_are_the_pitch_classes_at_each_frame_start() -> None:
    soprano = Piece("s", (Note(0, 72, 4), Note(4, 71, 4)))
    bass = Piece("b", (Note(0, 48, 2), Note(2, 52, 2), Note(4, 43, 4)))
    grid = voices_to_grid([soprano, bass])
    bounds = np.array([0, 2, 4, 6, 8])
    assert voices_to_frame_chords(grid, bounds) == [
        frozenset({0}),
        frozenset({0, 4}),
        frozenset({11, 7}),
        frozenset({11, 7}),
    ]
    assert voices_to_frame_chords(grid, bounds, shift=2)[0] == frozenset({2})


def test_numpy_chord_network_equals_keras() -> None:
    import keras

    keras.utils.set_random_seed(5)
    model = build_chord_network(ChordNetworkSettings(units=8, embedding_size=4), 7, training=False)
    net = NumpyChordNet.from_keras(model)
    rng = np.random.default_rng(1)
    soprano = rng.integers(0, N_SOUNDING, 15)
    features = rng.uniform(0, 1, (15, N_CHORD_FEATURES)).astype(np.float32)
    expected = model.predict_on_batch(
        {"soprano": soprano[None].astype(np.int32), "chord_features": features[None]}
    )[0]
    np.testing.assert_allclose(net.logits(soprano, features), expected, atol=1e-4)


def test_an_ensemble_averages_its_members_chord_probabilities() -> None:
    import keras

    vocabulary = ChordVocabulary((C_MAJOR, G_MAJOR))
    nets = []
    for seed in (5, 6):
        keras.utils.set_random_seed(seed)
        model = build_chord_network(
            ChordNetworkSettings(units=8, embedding_size=4), vocabulary.classes, training=False
        )
        nets.append(NumpyChordNet.from_keras(model))
    frames = melody_frames(Piece("t", (Note(0, 60, 4), Note(4, 67, 8)), meter="4/4"))
    one, two = (ChordModel((net,), vocabulary).log_probabilities(frames) for net in nets)
    both = ChordModel(tuple(nets), vocabulary).log_probabilities(frames)
    np.testing.assert_allclose(np.exp(one).sum(axis=1), 1.0, atol=1e-6)
    np.testing.assert_allclose(np.exp(both), (np.exp(one) + np.exp(two)) / 2, atol=1e-6)
    assert not np.allclose(one, two)  # two members that differ, so the mean is not either
    # the members run together (stacked) give each member's own forward pass
    features = chord_features(frames)
    stacked = stacked_logits(nets, frames.sounding, features)
    for member, net in enumerate(nets):
        np.testing.assert_allclose(
            stacked[member], net.logits(frames.sounding, features), atol=1e-5
        )


def test_chord_masks_cover_the_missing_pitch_classes_last() -> None:
    chord = np.zeros(12, dtype=bool)
    chord[[0, 4, 7]] = True
    covered = np.zeros((2, 12), dtype=bool)
    covered[:, 0] = True  # the soprano sings C
    covered[1, 4] = True  # and the alto E, in the second row
    held = np.array([N_PITCHES, 7 + 12 * 3 - MODEL_PITCH_LOW + 12])  # none; a G
    classes = (np.arange(N_PITCHES) + MODEL_PITCH_LOW) % 12
    in_chord, covering = _chord_masks(chord, covered, held, classes, remaining=1)
    assert set(classes[in_chord[0, :N_PITCHES]]) == {0, 4, 7}
    # one voice left and two pitch classes missing: it must sing one of them, not C
    assert set(classes[covering[0, :N_PITCHES]]) == {4, 7}
    assert set(classes[covering[1, :N_PITCHES]]) == {7}
    assert covering[1, HOLD] and not covering[0, HOLD]


@pytest.fixture(scope="module")
def harmonizer() -> ChoraleHarmonizer:
    return load_chorale_harmonizer(DEFAULT_HARMONIZER_DIR)


def test_the_shipped_harmonizer_sings_its_chord_models_chords(harmonizer) -> None:
    assert harmonizer.chords is not None
    tune = Piece(
        "hymn",
        tuple(Note(4 * i, p, 4) for i, p in enumerate((67, 67, 66, 64, 62, 67, 69, 71))),
        meter="4/4",
    )
    frames = melody_frames(tune, shift=-7)  # G major to C major
    chords = harmonizer.chords.frame_chords(frames)
    assert chords[::2].any(axis=1).all()  # a chord at every melody note
    sounding = (frames.sounding + MODEL_PITCH_LOW) % 12
    assert chords[np.arange(frames.frames), sounding].all()  # holding the melody's note
    choices, _ = harmonizer.sample(
        frames.sounding,
        frames.features,
        frames.ceiling,
        key_shift=-7,
        candidates=4,
        temperature=0.3,
        rng=np.random.default_rng(0),
        chords=chords,
    )
    lower = choices_to_sounding(choices)
    matched = 0
    for t in range(frames.frames):
        sung = {int(sounding[t])}
        sung |= {(int(p) + MODEL_PITCH_LOW) % 12 for p in lower[:, t] if p < N_PITCHES}
        matched += sung == set(np.nonzero(chords[t])[0])
    # the rules come first (no parallels, no crossing): a frame may miss its chord, rarely
    assert matched >= 0.9 * frames.frames
