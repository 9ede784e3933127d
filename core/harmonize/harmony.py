"""The chord model: which pitch classes Bach's four voices sound at each frame of a melody.

The voice model (`core.harmonize.network`) learns the voices one choice at a time, and its
harmonic choices stay close to the commonest chord for each melody note. This model learns the
chord itself: two bidirectional LSTMs read the whole melody (its frames, its pitch classes and
the length of its notes, `chord_features`) and a softmax per frame chooses among the
pitch-class sets Bach sounds there most often (in C major / A minor; `ChordVocabulary`), plus
"another". Trained with cross-entropy on exactly what the benchmark compares (the pitch classes
of all four voices at each frame) by `scripts/train_harmonizer.py --chords`; harmonizing runs
it in numpy once per tune, and the voice model's sampling is held to its chords
(`ChoraleHarmonizer.sample`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from core.harmonize.frames import (
    MODEL_PITCH_LOW,
    N_MELODY_FEATURES,
    N_PITCHES,
    N_SOUNDING,
    MelodyFrames,
)
from core.harmonize.network import Dense, LstmWeights, _lstm, run_lstms

PITCH_CLASSES = 12
MAX_CHORD_PITCH_CLASSES = 4  # four voices
# A melody note this many frames long or longer (a half note) counts as long: Bach's phrase
# ends are long notes, and a user's tune has no fermatas, so length stands in for them.
LONG_NOTE_FRAMES = 4
N_CHORD_FEATURES = N_MELODY_FEATURES + PITCH_CLASSES + 1 + 4
CHORD_EMBEDDING = "chord_soprano_embedding"
CHORD_ENCODERS = ("chord_encoder_1", "chord_encoder_2")
CHORD_HEAD = "chord_head"

Chord = frozenset[int]


def chord_features(frames: MelodyFrames) -> np.ndarray:
    """The chord model's input per frame (frames, N_CHORD_FEATURES): the melody's features,
    its pitch class (or silence) one-hot, the length of the note sounding (log2 frames / 3),
    the frames since it began (/ 8), whether it is long and whether a rest or the end follows."""
    sounding = frames.sounding
    count = len(sounding)
    onset = frames.features[:, 0] > 0
    classes = np.where(
        sounding < N_PITCHES, (sounding + MODEL_PITCH_LOW) % PITCH_CLASSES, PITCH_CLASSES
    )
    one_hot = np.zeros((count, PITCH_CLASSES + 1), dtype=np.float32)
    one_hot[np.arange(count), classes] = 1.0
    starts = [t for t in range(count) if t == 0 or onset[t] or sounding[t] != sounding[t - 1]]
    length = np.ones(count, dtype=np.float32)
    since = np.zeros(count, dtype=np.float32)
    rest_after = np.zeros(count, dtype=np.float32)
    for start, end in zip(starts, [*starts[1:], count], strict=True):
        length[start:end] = end - start
        since[start:end] = np.arange(end - start)
        rest_after[start:end] = float(end >= count or sounding[end] >= N_PITCHES)
    extra = np.stack(
        [np.log2(length) / 3.0, since / 8.0, (length >= LONG_NOTE_FRAMES), rest_after], axis=1
    )
    return np.concatenate([frames.features, one_hot, extra], axis=1).astype(np.float32)


@dataclass(frozen=True)
class ChordVocabulary:
    """The chords the model chooses among (pitch-class sets, commonest first); the class
    after them (`other`) is any other set, never chosen when harmonizing."""

    chords: tuple[Chord, ...]

    @classmethod
    def from_counts(cls, chords: Iterable[Chord], *, size: int) -> ChordVocabulary:
        counts = Counter(chords)
        ranked = sorted(counts.items(), key=lambda item: (-item[1], sorted(item[0])))
        return cls(tuple(chord for chord, _ in ranked[:size]))

    @property
    def classes(self) -> int:
        return len(self.chords) + 1

    @property
    def other(self) -> int:
        return len(self.chords)

    def index(self, chord: Chord) -> int:
        return self._lookup().get(chord, self.other)

    def _lookup(self) -> dict[Chord, int]:
        return {chord: i for i, chord in enumerate(self.chords)}

    def labels(self, chords: Sequence[Chord]) -> np.ndarray:
        lookup = self._lookup()
        return np.array([lookup.get(c, self.other) for c in chords], dtype=np.int64)

    def containing(self) -> np.ndarray:
        """(PITCH_CLASSES, classes) bools: the chords that hold each pitch class and fit
        four voices ("other" holds none)."""
        out = np.zeros((PITCH_CLASSES, self.classes), dtype=bool)
        for i, chord in enumerate(self.chords):
            if len(chord) <= MAX_CHORD_PITCH_CLASSES:
                out[sorted(chord), i] = True
        return out

    def to_dict(self) -> dict[str, Any]:
        return {"chords": [sorted(c) for c in self.chords]}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ChordVocabulary:
        return cls(tuple(frozenset(int(p) for p in c) for c in data["chords"]))


@dataclass(frozen=True)
class ChordNetworkSettings:
    units: int = 96  # each direction, both layers
    embedding_size: int = 16
    dropout: float = 0.3  # while training only

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ChordNetworkSettings:
        return cls(
            units=int(data["units"]),
            embedding_size=int(data["embedding_size"]),
            dropout=float(data["dropout"]),
        )


def build_chord_network(settings: ChordNetworkSettings, classes: int, *, training: bool) -> Any:
    """The Keras chord model: inputs "soprano" (batch, frames) sounding indices and
    "chord_features" (batch, frames, N_CHORD_FEATURES); output logits (batch, frames, classes)."""
    import keras
    from keras import layers

    soprano = keras.Input((None,), dtype="int32", name="soprano")
    features = keras.Input((None, N_CHORD_FEATURES), name="chord_features")
    embedded = layers.Embedding(N_SOUNDING, settings.embedding_size, name=CHORD_EMBEDDING)(soprano)
    x = layers.Concatenate()([embedded, features])
    for name in CHORD_ENCODERS:
        lstm = layers.LSTM(settings.units, return_sequences=True)
        x = layers.Bidirectional(lstm, name=name)(x)
        if training and settings.dropout:
            x = layers.Dropout(settings.dropout)(x)
    logits = layers.Dense(classes, name=CHORD_HEAD)(x)
    return keras.Model([soprano, features], logits, name="chord_model")


@dataclass(frozen=True)
class NumpyChordNet:
    """The Keras chord model's weights as numpy arrays, and its forward pass."""

    embedding: np.ndarray
    encoders: tuple[tuple[LstmWeights, LstmWeights], ...]
    head: Dense

    @classmethod
    def from_keras(cls, model: Any) -> NumpyChordNet:
        encoders = tuple(
            (_lstm(model.get_layer(n).forward_layer), _lstm(model.get_layer(n).backward_layer))
            for n in CHORD_ENCODERS
        )
        kernel, bias = (
            np.asarray(w, dtype=np.float32) for w in model.get_layer(CHORD_HEAD).get_weights()
        )
        return cls(
            embedding=np.asarray(model.get_layer(CHORD_EMBEDDING).get_weights()[0], np.float32),
            encoders=encoders,
            head=Dense(kernel, bias),
        )

    def logits(self, soprano: np.ndarray, features: np.ndarray) -> np.ndarray:
        """(frames,) sounding indices and (frames, N_CHORD_FEATURES) → (frames, classes)."""
        x = np.concatenate([self.embedding[soprano], features], axis=1).astype(np.float32)
        for forward, backward in self.encoders:
            x = np.concatenate([forward.run(x), backward.run(x, backwards=True)], axis=1)
        return np.asarray(self.head(x))


def stacked_logits(
    nets: Sequence[NumpyChordNet], soprano: np.ndarray, features: np.ndarray
) -> np.ndarray:
    """(members, frames, classes): each net's `logits`, their LSTMs run together (both
    directions of every member in one `run_lstms` per layer: an ensemble costs little more
    than one model)."""
    x = np.stack([np.concatenate([n.embedding[soprano], features], axis=1) for n in nets])
    x = x.astype(np.float32)
    for layer in range(len(nets[0].encoders)):
        lstms = [d for n in nets for d in n.encoders[layer]]  # member 0 forward, backward, ...
        xs = np.repeat(x, 2, axis=0)
        xs[1::2] = xs[1::2, ::-1]
        out = run_lstms(lstms, xs)
        out[1::2] = out[1::2, ::-1]
        x = np.concatenate([out[0::2], out[1::2]], axis=2)
    return np.stack([n.head(x[m]) for m, n in enumerate(nets)])


def mean_log_probabilities(logits: np.ndarray) -> np.ndarray:
    """(members, frames, classes) logits → (frames, classes): the log of the members' mean
    probability (an ensemble's; one member gives its log-softmax)."""
    shifted = logits.astype(np.float64) - logits.max(axis=2, keepdims=True)
    probabilities = np.exp(shifted)
    probabilities /= probabilities.sum(axis=2, keepdims=True)
    return np.log(probabilities.mean(axis=0) + 1e-30)


@dataclass(frozen=True)
class ChordModel:
    """A loaded chord model and its vocabulary: one network, or several trained alike from
    other seeds (an ensemble), whose chord probabilities are averaged."""

    nets: tuple[NumpyChordNet, ...]
    vocabulary: ChordVocabulary

    def log_probabilities(self, frames: MelodyFrames) -> np.ndarray:
        """(frames, classes): the log of the members' mean probability of each chord."""
        return mean_log_probabilities(
            stacked_logits(self.nets, frames.sounding, chord_features(frames))
        )

    def frame_chords(self, frames: MelodyFrames, *, every_frame: bool = True) -> np.ndarray:
        """(frames, PITCH_CLASSES) bools: the likeliest chord at each frame where the melody
        sounds (only where a melody note starts, unless `every_frame`), among the chords that
        hold the melody's pitch class; other rows none. `frames`: the melody in the model's
        key (C major / A minor), at any octave."""
        logits = self.log_probabilities(frames)
        containing = self.vocabulary.containing()
        out = np.zeros((frames.frames, PITCH_CLASSES), dtype=bool)
        for t in range(frames.frames):
            pitch = int(frames.sounding[t])
            if pitch >= N_PITCHES or not (every_frame or frames.features[t, 0] > 0):
                continue
            fits = containing[(pitch + MODEL_PITCH_LOW) % PITCH_CLASSES]
            if not fits.any():
                continue
            best = int(np.where(fits, logits[t], -np.inf).argmax())
            out[t, sorted(self.vocabulary.chords[best])] = True
        return out


def voices_to_frame_chords(grid: np.ndarray, bounds: np.ndarray, *, shift: int = 0) -> list[Chord]:
    """The pitch classes (moved by `shift`) sounding at each frame's first step, from a
    `voices_to_grid` grid of the four voices: the chord model's targets."""
    out = []
    for start in bounds[:-1]:
        row = grid[min(int(start), len(grid) - 1)]
        out.append(frozenset(int(p + shift) % PITCH_CLASSES for p in row if p >= 0))
    return out
