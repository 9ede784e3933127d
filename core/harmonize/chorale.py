"""Three voices under a melody in the style of Bach's chorales: the model that sees the melody.

`ChoraleHarmonizer.harmonize` moves the melody to C major / A minor (as the model learned),
reads it at eighth frames (`core.harmonize.frames`), lets the chord model choose the chord
(pitch-class set) at each frame (`core.harmonize.harmony`, when the folder has one), runs the
voice model's bidirectional encoder over the whole melody once, then samples `candidates`
harmonizations at once, frame by frame: the alto, then the tenor given the alto, then the bass
given both (`core.harmonize.network`, in numpy), each on a pitch class of the frame's chord
(the missing ones first, so the four voices sound the whole chord). The sampling never lets a
lower voice sound above the soprano or the voice above it, nor leave its range, nor move into
parallel fifths or octaves while another choice fits (these rules come before the chord); each
candidate is scored by the model's log-likelihood less penalties
for the rules it can still break (parallel fifths and octaves, upper voices more than an
octave apart), and the best is moved back to the melody's key. The melody is kept exactly.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from core.errors import InvalidModelError
from core.harmonize.frames import (
    HOLD,
    MODEL_PITCH_LOW,
    N_CLASSES,
    N_PITCHES,
    REST,
    SILENT,
    START,
    choices_to_notes,
    melody_frames,
)
from core.harmonize.harmony import (
    ChordModel,
    ChordVocabulary,
    NumpyChordNet,
)
from core.harmonize.melody import Melody
from core.harmonize.network import NumpyHarmonizerNet
from core.harmonize.result import Harmonization, HarmonyStyle
from core.harmonize.voice_leading import (
    OCTAVE,
    PERFECT_FIFTH,
    VOICE_NAMES,
    VOICE_RANGES,
    crossings_and_spacing,
    parallel_motions,
)
from core.model.blas import one_blas_thread
from core.music.keys import key_normalizing_shift
from core.music.piece import Piece
from core.storage.files import REPO_DIR

log = logging.getLogger(__name__)
T = TypeVar("T")

DEFAULT_HARMONIZER_DIR = REPO_DIR / "models" / "harmonizer"
MODEL_FILE = "model.keras"
CONFIG_FILE = "config.json"
CHORD_MODEL_FILE = "chords.keras"
CHORD_VOCABULARY_FILE = "chords.json"  # the chord model's vocabulary, settings and figures
DEFAULT_CANDIDATES = 32
# Sampling temperature: well below 1 keeps the candidates near what the model finds likeliest
# while still different from each other. Chosen on the 30 validation chorales of the training
# side (never the held-out ones): the same chord as Bach at 36% of melody notes at 0.3 (32
# candidates), 35% at 0.5, 28% at 0.7, 23% at 1.0, 34% for the likeliest choice each frame.
# With the chord model choosing the chords the temperature only moves the voicing: 47.6% at
# 0.3, 47.7% at 0.5.
DEFAULT_TEMPERATURE = 0.3
# Score penalties, in nats of log-likelihood, per rule broken (per frame pair or frame).
PARALLEL_PENALTY_NATS = 4.0
SPACING_PENALTY_NATS = 1.0
_NEG = -1e9


@dataclass(frozen=True)
class Placement:
    """How the melody is moved for the model: `key_shift` to C major / A minor and `octaves`
    semitones (a multiple of 12) to bring a low or high tune into the soprano's range; the
    lower voices' ranges follow the octaves, so their texture is the chorale's."""

    key_shift: int
    octaves: int

    @property
    def model_shift(self) -> int:
        return self.key_shift + self.octaves


def melody_placement(piece: Piece) -> Placement:
    """The key shift, and the octave shift that puts the most notes in the soprano's range
    (0 when it is already there)."""
    key_shift = key_normalizing_shift(piece)
    low, high = VOICE_RANGES[0]
    pitches = np.array([n.pitch for n in piece.notes])

    def outside(octaves: int) -> int:
        moved = pitches + octaves
        return int(((moved < low) | (moved > high)).sum())

    best = min((-36, -24, -12, 0, 12, 24, 36), key=lambda o: (outside(o), abs(o)))
    return Placement(key_shift, best)


class ChoraleHarmonizer:
    """A loaded chorale model: harmonize melodies with it (thread-safe: it keeps no state)."""

    def __init__(
        self,
        net: NumpyHarmonizerNet,
        config: dict[str, Any],
        folder: Path,
        *,
        chords: ChordModel | None = None,
    ) -> None:
        self.net = net
        self.config = config
        self.folder = folder
        self.chords = chords

    def harmonize(
        self,
        melody: Melody,
        *,
        seed: int = 0,
        candidates: int = DEFAULT_CANDIDATES,
        temperature: float = DEFAULT_TEMPERATURE,
    ) -> Harmonization:
        """Alto, tenor and bass under `melody`, the likeliest of `candidates` samples.

        Same seed, same harmonization; the melody is `voices[0]`, unchanged.
        """
        if candidates < 1:
            raise ValueError("at least one candidate is needed")
        piece = melody.piece
        placement = melody_placement(piece)
        frames = melody_frames(piece, shift=placement.model_shift)
        first_onset = min(n.onset_step for n in piece.notes)
        with one_blas_thread():
            chords = None
            if self.chords is not None:  # the chord model learned the key, not the octave
                in_key = frames
                if placement.octaves:
                    in_key = melody_frames(piece, shift=placement.key_shift)
                chords = self.chords.frame_chords(in_key)
            choices, _ = self.sample(
                frames.sounding,
                frames.features,
                frames.ceiling,
                key_shift=placement.key_shift,
                lead_in=int((frames.bounds[1:] <= first_onset).sum()),
                candidates=candidates,
                temperature=temperature,
                rng=np.random.default_rng(seed),
                chords=chords,
            )
        voices = [piece]
        for voice, name in enumerate(VOICE_NAMES[1:]):
            notes = choices_to_notes(choices[voice], frames.bounds, shift=-placement.model_shift)
            voices.append(replace(piece, name=f"{piece.name} ({name.lower()})", notes=tuple(notes)))
        return Harmonization(
            melody=melody,
            style=HarmonyStyle.CHORALE,
            seed=seed,
            voices=tuple(voices),
            voice_names=VOICE_NAMES,
        )

    def sample(
        self,
        soprano: np.ndarray,
        features: np.ndarray,
        ceiling: np.ndarray,
        *,
        key_shift: int,
        candidates: int,
        temperature: float,
        rng: np.random.Generator,
        lead_in: int = 0,
        chords: np.ndarray | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """The best candidate's choices (3, frames) and every candidate's score.

        `ceiling` (frames,): the lowest melody pitch in each frame, in model pitches; the
        voices' ranges are `VOICE_RANGES` moved by `key_shift` into the model's key. The
        first `lead_in` frames (before the melody's first note) are rests. `chords` (frames,
        12) bools: the pitch classes (in the model's key) the four voices should sound at each
        frame, every one of them where the voices can; a row of none leaves the frame free.
        """
        net = self.net
        frames = len(soprano)
        encoded = net.encode(soprano, features)
        n = candidates
        units = net.decoder.units
        h = np.zeros((n, units), dtype=np.float32)
        c = np.zeros_like(h)
        previous = np.full((n, 3), START, dtype=np.int64)
        previous_onsets = np.zeros((n, 3), dtype=np.float32)
        choices = np.empty((3, n, frames), dtype=np.int64)
        sounding = np.empty((n, frames, 3), dtype=np.int64)
        loglik = np.zeros(n)
        pitches = np.arange(N_PITCHES) + MODEL_PITCH_LOW
        ranges = [
            (pitches >= low + key_shift) & (pitches <= high + key_shift)
            for low, high in VOICE_RANGES[1:]
        ]
        rows = np.arange(n)
        melody = np.where(soprano < N_PITCHES, soprano + MODEL_PITCH_LOW, -1)
        before = np.full((n, 4), -1, dtype=np.int64)  # the previous frame's pitches, S A T B
        pitch_classes = pitches % 12
        for t in range(frames):
            chord = chords[t] if chords is not None and chords[t].any() else None
            covered = np.zeros((n, 12), dtype=bool)
            if chord is not None and melody[t] >= 0:
                covered[:, melody[t] % 12] = True
            h, c = net.decoder_step(encoded[t], previous, previous_onsets, h, c)
            top = np.full(n, int(ceiling[t]))  # model pitch each voice must stay at or under
            now_pitches = np.full((n, 4), -1, dtype=np.int64)
            now_pitches[:, 0] = melody[t]
            chosen_sounding: list[np.ndarray] = []
            chosen_onsets: list[np.ndarray] = []
            for voice in range(3):
                if voice == 0:
                    logits = net.alto_logits(h)
                elif voice == 1:
                    logits = net.tenor_logits(h, chosen_sounding[0], chosen_onsets[0])
                else:
                    logits = net.bass_logits(
                        h,
                        chosen_sounding[0],
                        chosen_onsets[0],
                        chosen_sounding[1],
                        chosen_onsets[1],
                    )
                held = previous[:, voice]
                held_pitch = np.where(held < N_PITCHES, held + MODEL_PITCH_LOW, 10_000)
                allowed = np.zeros((n, N_CLASSES), dtype=bool)
                allowed[:, :N_PITCHES] = ranges[voice][None, :] & (pitches[None, :] <= top[:, None])
                allowed[:, HOLD] = (held < N_PITCHES) & (held_pitch <= top)
                # No parallel fifths or octaves with the voices above: refused while another
                # choice fits (the penalty still counts one taken when none does).
                parallel = _parallels_into(pitches, before, now_pitches, voice + 1)
                strict = allowed.copy()
                strict[:, :N_PITCHES] &= ~parallel
                options = [strict, allowed]
                if chord is not None:
                    in_chord, covering = _chord_masks(
                        chord, covered, held, pitch_classes, remaining=3 - voice
                    )
                    options = [
                        strict & covering,
                        strict & in_chord,
                        strict,
                        allowed & covering,
                        allowed & in_chord,
                        allowed,
                    ]
                allowed = _first_fitting(options)
                if t < lead_in:  # the voices come in with the tune
                    allowed[:] = False
                allowed[:, REST] = ~allowed[:, : HOLD + 1].any(axis=1)  # only when nothing fits
                step = _sample(logits, allowed, temperature, rng)
                loglik += _log_softmax(logits)[rows, step]
                choices[voice, :, t] = step
                now = np.where(step == HOLD, held, np.where(step == REST, SILENT, step))
                chosen_sounding.append(now)
                chosen_onsets.append((step < N_PITCHES).astype(np.float32))
                top = np.where(now < N_PITCHES, now + MODEL_PITCH_LOW, top)
                sings = now < N_PITCHES
                covered[rows[sings], (now[sings] + MODEL_PITCH_LOW) % 12] = True
                now_pitches[:, voice + 1] = np.where(now < N_PITCHES, now + MODEL_PITCH_LOW, -1)
            before = now_pitches
            previous = np.stack(chosen_sounding, axis=1)
            previous_onsets = np.stack(chosen_onsets, axis=1)
            sounding[:, t] = previous
        scores = loglik - self._penalties(soprano, sounding)
        best = int(np.argmax(scores))
        return choices[:, best, :], scores

    @staticmethod
    def _penalties(soprano: np.ndarray, sounding: np.ndarray) -> np.ndarray:
        """Per candidate: parallels and wide upper spacing, in nats."""
        lower = np.where(sounding < N_PITCHES, sounding + MODEL_PITCH_LOW, -1)
        top = np.where(soprano < N_PITCHES, soprano + MODEL_PITCH_LOW, -1)
        rows = np.concatenate(
            [np.broadcast_to(top[None, :, None], (len(lower), len(top), 1)), lower], axis=2
        )
        fifths, octaves, _ = parallel_motions(rows)
        _, spaced = crossings_and_spacing(rows)
        parallels = (fifths + octaves).sum(axis=1)
        return PARALLEL_PENALTY_NATS * parallels + SPACING_PENALTY_NATS * spaced.sum(axis=1)


def _parallels_into(
    pitches: np.ndarray, before: np.ndarray, now: np.ndarray, voice: int
) -> np.ndarray:
    """(batch, pitches): whether `voice` moving from `before[:, voice]` to each pitch makes
    parallel fifths or octaves with a voice above it (columns < `voice` of `now`)."""
    b0 = before[:, voice][:, None]
    b1 = pitches[None, :]
    moved = np.sign(b1 - b0)
    out = np.zeros((len(before), len(pitches)), dtype=bool)
    for upper in range(voice):
        a0, a1 = before[:, upper][:, None], now[:, upper][:, None]
        sounding = (a0 >= 0) & (a1 >= 0) & (b0 >= 0)
        similar = sounding & (np.sign(a1 - a0) == moved) & (moved != 0)
        i0, i1 = np.abs(a0 - b0) % OCTAVE, np.abs(a1 - b1) % OCTAVE
        out |= similar & (i0 == i1) & ((i1 == 0) | (i1 == PERFECT_FIFTH))
    return out


def _chord_masks(
    chord: np.ndarray,
    covered: np.ndarray,
    held: np.ndarray,
    pitch_classes: np.ndarray,
    *,
    remaining: int,
) -> tuple[np.ndarray, np.ndarray]:
    """(batch, N_CLASSES) masks: the choices that sound a pitch class of `chord` (a new pitch
    or the note held), and those that also leave the chord's missing pitch classes coverable
    by the `remaining` voices (this one included): a missing one when as many are missing."""
    n = len(covered)
    missing = chord[None, :] & ~covered
    must = missing.sum(axis=1) >= remaining
    held_class = np.where(held < N_PITCHES, (held + MODEL_PITCH_LOW) % 12, 0)
    held_ok = held < N_PITCHES
    in_chord = np.zeros((n, N_CLASSES), dtype=bool)
    in_chord[:, :N_PITCHES] = chord[pitch_classes][None, :]
    in_chord[:, HOLD] = held_ok & chord[held_class]
    fills = np.zeros((n, N_CLASSES), dtype=bool)
    fills[:, :N_PITCHES] = missing[:, pitch_classes]
    fills[:, HOLD] = held_ok & missing[np.arange(n), held_class]
    covering = np.where(must[:, None], fills, in_chord)
    return in_chord, covering


def _first_fitting(options: list[np.ndarray]) -> np.ndarray:
    """Per row, the first of the masks (batch, N_CLASSES) that allows a pitch or a hold."""
    chosen = options[-1].copy()
    decided = np.zeros(len(chosen), dtype=bool)
    for mask in options:
        fits = mask[:, : HOLD + 1].any(axis=1) & ~decided
        chosen[fits] = mask[fits]
        decided |= fits
    return chosen


def _log_softmax(logits: np.ndarray) -> np.ndarray:
    shifted = logits - logits.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


def _sample(
    logits: np.ndarray, allowed: np.ndarray, temperature: float, rng: np.random.Generator
) -> np.ndarray:
    """One allowed class per row, drawn at `temperature` (Gumbel-max; 0: the likeliest)."""
    masked = np.where(allowed, logits, _NEG)
    if temperature <= 0:
        return np.asarray(masked.argmax(axis=1))
    gumbel = -np.log(-np.log(rng.uniform(1e-12, 1.0, masked.shape)))
    return np.asarray((masked / temperature + np.where(allowed, gumbel, 0.0)).argmax(axis=1))


_LOADED: dict[tuple[str, int], ChoraleHarmonizer] = {}
_LOCK = threading.Lock()


def load_chorale_harmonizer(model_dir: Path = DEFAULT_HARMONIZER_DIR) -> ChoraleHarmonizer:
    """The harmonizer of a model folder, loaded once per folder (and file version).

    Raises:
        InvalidModelError: the folder, its model.keras or config.json is missing or unreadable.
    """
    folder = Path(model_dir)
    model_path = folder / MODEL_FILE
    config_path = folder / CONFIG_FILE
    try:
        version = model_path.stat().st_mtime_ns
    except OSError:
        raise InvalidModelError(
            f"{folder.name}: not a harmonizer model folder (no {MODEL_FILE} in it)"
        ) from None
    key = (str(folder.resolve()), version)
    with _LOCK:
        if key not in _LOADED:
            _LOADED[key] = _load(folder, model_path, config_path)
        return _LOADED[key]


def _load(folder: Path, model_path: Path, config_path: Path) -> ChoraleHarmonizer:
    try:
        config = json.loads(config_path.read_text())
    except (OSError, ValueError) as error:
        raise InvalidModelError(
            f"{folder.name}: the harmonizer's {CONFIG_FILE} is missing or not JSON ({error})"
        ) from error
    net = _load_keras(folder, model_path, NumpyHarmonizerNet.from_keras)
    if net.heads[0].bias.shape != (N_CLASSES,):
        raise InvalidModelError(
            f"{folder.name}: the harmonizer was trained for another frame encoding "
            f"({net.heads[0].bias.shape[0]} choices per voice, this version has {N_CLASSES})"
        )
    chords = _load_chord_model(folder) if (folder / CHORD_MODEL_FILE).exists() else None
    log.info("loaded the chorale harmonizer from %s (chord model: %s)", folder, chords is not None)
    return ChoraleHarmonizer(net, config, folder, chords=chords)


def _load_keras(folder: Path, path: Path, to_numpy: Callable[[Any], T]) -> T:
    """The Keras model in `path` as `to_numpy` reads it, or an InvalidModelError naming it."""
    try:
        import keras

        return to_numpy(keras.saving.load_model(path, compile=False, safe_mode=True))
    except Exception as error:  # keras raises many types for a damaged file
        raise InvalidModelError(
            f"{folder.name}: the harmonizer's {path.name} cannot be loaded "
            f"({type(error).__name__}: {str(error)[:200]})"
        ) from error


def _load_chord_model(folder: Path) -> ChordModel:
    try:
        data = json.loads((folder / CHORD_VOCABULARY_FILE).read_text())
        vocabulary = ChordVocabulary.from_dict(data["vocabulary"])
        # an ensemble names its members' files; one model is chords.keras alone
        members = [str(name) for name in data.get("members", [CHORD_MODEL_FILE])]
        if not members or any(Path(name).name != name for name in members):
            raise ValueError(f"members must be file names in the folder, not {members}")
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise InvalidModelError(
            f"{folder.name}: the chord model's {CHORD_VOCABULARY_FILE} is missing or damaged "
            f"({error})"
        ) from error
    nets = []
    for name in members:
        net = _load_keras(folder, folder / name, NumpyChordNet.from_keras)
        if net.head.bias.shape != (vocabulary.classes,):
            raise InvalidModelError(
                f"{folder.name}: the chord model's {name} and {CHORD_VOCABULARY_FILE} do not match"
            )
        nets.append(net)
    return ChordModel(tuple(nets), vocabulary)
