"""Train the harmonizer's chord model (models/harmonizer/chords.keras, chords.json).

    .venv/bin/python scripts/train_chord_model.py [--out models/harmonizer] [--transpose N]
        [--max-epochs N] [--budget-s S] [--seeds S1,S2,...]

The chord model (`core.harmonize.harmony`) chooses the pitch-class set the four voices sound at
each eighth frame of a melody; the voice model (`scripts/train_harmonizer.py`, model.keras) then
puts the alto, tenor and bass on those pitch classes. Same data and split as that script:
music21's Bach chorales of the app's training side, four single-line parts, each moved to
C major / A minor by its melody's key (with `--transpose N`, also by 1..N semitones up and
down); the same tenth of the training chorales (by name, the same seed) is held back to judge
the epochs. The vocabulary: the `VOCABULARY_SIZE` commonest sets at the frames of the fitted
chorales, plus "another". The loss: cross-entropy per frame, frames where a melody note starts
weighted `ONSET_WEIGHT` (the benchmark compares the chord at melody notes). The best epoch is the
one whose chord (the likeliest holding the melody's pitch class) is Bach's at the most melody
notes of the validation chorales; training stops after `PATIENCE_EPOCHS` epochs without a better
one, at `--max-epochs`, or after `--budget-s` seconds. One model is trained per seed of
`--seeds` (`SEEDS`), alike but for their weights and batch order; harmonizing averages their
chord probabilities (an ensemble: chords.keras, chords_2.keras, ..., named in chords.json). The
figures go into chords.json, the output is appended to training_output.txt by the caller (see
models/README.md).
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core.harmonize.bach import Chorale, harmonizer_split
from core.harmonize.chorale import CHORD_MODEL_FILE
from core.harmonize.frames import MODEL_PITCH_LOW, N_PITCHES, melody_frames
from core.harmonize.harmony import (
    PITCH_CLASSES,
    ChordNetworkSettings,
    ChordVocabulary,
    build_chord_network,
    chord_features,
    mean_log_probabilities,
    voices_to_frame_chords,
)
from core.harmonize.voice_leading import voices_to_grid
from core.music.keys import key_normalizing_shift
from core.storage.files import REPO_DIR, atomic_write_json

SEED = 20261202  # the voice model's: the same validation chorales
# The ensemble's members, one seed each (their weights and batch order; the split keeps SEED):
# averaging their chord probabilities beat each member on the validation chorales.
SEEDS = (SEED, 1, 2, 3, 4, 5)
DEFAULT_OUT = REPO_DIR / "models" / "harmonizer"
VALID_FRACTION = 0.1
VOCABULARY_SIZE = 150  # 98.6% of the fitted chorales' frames
BATCH_SIZE = 16
LEARNING_RATE = 2e-3
ONSET_WEIGHT = 2.0
PATIENCE_EPOCHS = 10
DEFAULT_MAX_EPOCHS = 80
DEFAULT_BUDGET_S = 15 * 60.0
LENGTH_BUCKET_FRAMES = 32
DEFAULT_TRANSPOSE = 0


@dataclass(frozen=True)
class ChordExample:
    name: str
    soprano: np.ndarray  # (frames,) sounding indices
    features: np.ndarray  # (frames, N_CHORD_FEATURES)
    onsets: np.ndarray  # (frames,) bools: a melody note starts at the frame
    chords: tuple[frozenset[int], ...]

    @property
    def frames(self) -> int:
        return len(self.soprano)


def chorale_examples(chorale: Chorale, transpositions: range) -> list[ChordExample]:
    length = max(v.length_steps for v in chorale.voices)
    grid = voices_to_grid(chorale.voices)
    base = key_normalizing_shift(chorale.soprano)
    out = []
    for extra in transpositions:
        shift = base + extra
        melody = melody_frames(chorale.soprano, shift=shift, length_steps=length)
        chords = voices_to_frame_chords(grid, melody.bounds, shift=shift)
        onsets = (melody.features[:, 0] > 0) & (melody.sounding < N_PITCHES)
        out.append(
            ChordExample(
                chorale.name, melody.sounding, chord_features(melody), onsets, tuple(chords)
            )
        )
    return out


def make_batches(
    examples: list[ChordExample], vocabulary: ChordVocabulary, rng: np.random.Generator
) -> list[tuple]:
    order = sorted(range(len(examples)), key=lambda i: examples[i].frames)
    keys = np.array([examples[i].frames for i in order]) + rng.uniform(0, 8, len(order))
    order = [order[i] for i in np.argsort(keys, kind="stable")]
    batches = []
    for start in range(0, len(order), BATCH_SIZE):
        chunk = [examples[i] for i in order[start : start + BATCH_SIZE]]
        frames = math.ceil(max(e.frames for e in chunk) / LENGTH_BUCKET_FRAMES)
        frames *= LENGTH_BUCKET_FRAMES
        soprano = np.zeros((len(chunk), frames), dtype=np.int32)
        features = np.zeros((len(chunk), frames, chunk[0].features.shape[1]), dtype=np.float32)
        target = np.zeros((len(chunk), frames), dtype=np.int32)
        weight = np.zeros((len(chunk), frames), dtype=np.float32)
        for row, e in enumerate(chunk):
            soprano[row, : e.frames] = e.soprano
            features[row, : e.frames] = e.features
            target[row, : e.frames] = vocabulary.labels(e.chords)
            weight[row, : e.frames] = np.where(e.onsets, ONSET_WEIGHT, 1.0)
        batches.append(({"soprano": soprano, "chord_features": features}, target, weight))
    return [batches[i] for i in rng.permutation(len(batches))]


def onset_figures(
    models: list[object], examples: list[ChordExample], vocabulary: ChordVocabulary
) -> dict[str, float]:
    """Where a melody note starts: the share whose likeliest chord holding the melody's pitch
    class is Bach's, and the perplexity of Bach's chord; and the perplexity at every frame. Of
    the models' mean probabilities, as harmonizing uses an ensemble (`ChordModel`)."""
    containing = vocabulary.containing()
    right = total = 0
    onset_nll: list[float] = []
    nll: list[float] = []
    for e in examples:
        x = {"soprano": e.soprano[None].astype(np.int32), "chord_features": e.features[None]}
        logp = mean_log_probabilities(
            np.stack([m.predict_on_batch(x)[0] for m in models])  # type: ignore[attr-defined]
        )
        labels = vocabulary.labels(e.chords)
        picked = logp[np.arange(e.frames), labels]
        nll.extend(-picked)
        for t in np.nonzero(e.onsets)[0]:
            pitch_class = (int(e.soprano[t]) + MODEL_PITCH_LOW) % PITCH_CLASSES
            guess = int(np.where(containing[pitch_class], logp[t], -np.inf).argmax())
            right += int(guess == labels[t] and labels[t] != vocabulary.other)
            total += 1
            onset_nll.append(-picked[t])
    return {
        "same_chord_at_melody_notes": round(right / max(total, 1), 4),
        "melody_note_perplexity": round(float(np.exp(np.mean(onset_nll))), 4),
        "frame_perplexity": round(float(np.exp(np.mean(nll))), 4),
    }


def member_file(index: int) -> str:
    """The first member is chords.keras (a folder of one model reads as before)."""
    return CHORD_MODEL_FILE if index == 0 else f"chords_{index + 1}.keras"


def train_member(
    seed: int,
    settings: ChordNetworkSettings,
    fit: list[ChordExample],
    valid: list[ChordExample],
    vocabulary: ChordVocabulary,
    args: argparse.Namespace,
) -> tuple[object, dict]:
    """One chord model from `seed` (its weights and batch order; the data are the same for
    every member), at its best validation epoch, and its training record."""
    import keras

    started = time.monotonic()
    keras.utils.set_random_seed(seed)
    model = build_chord_network(settings, vocabulary.classes, training=True)
    model.compile(
        optimizer=keras.optimizers.Adam(LEARNING_RATE, clipnorm=1.0),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    rng = np.random.default_rng(seed)
    best_share, best_epoch, best_weights = -1.0, 0, model.get_weights()
    history = []
    for epoch in range(1, args.max_epochs + 1):
        losses = [
            float(model.train_on_batch(x, y, sample_weight=w))
            for x, y, w in make_batches(fit, vocabulary, rng)
        ]
        figures = onset_figures([model], valid, vocabulary)
        elapsed = time.monotonic() - started
        history.append({"epoch": epoch, "loss": round(float(np.mean(losses)), 4), **figures})
        print(
            f"seed {seed}, epoch {epoch}: loss {np.mean(losses):.4f}, validation: same chord "
            f"{figures['same_chord_at_melody_notes']:.4f}, perplexity "
            f"{figures['frame_perplexity']:.3f} ({elapsed:.0f} s)",
            flush=True,
        )
        if figures["same_chord_at_melody_notes"] > best_share + 1e-9:
            best_share, best_epoch = figures["same_chord_at_melody_notes"], epoch
            best_weights = model.get_weights()
        elif epoch - best_epoch >= PATIENCE_EPOCHS:
            print(f"early stop: no better validation chord since epoch {best_epoch}", flush=True)
            break
        if elapsed > args.budget_s:
            print(f"time budget of {args.budget_s:.0f} s spent", flush=True)
            break
    model.set_weights(best_weights)
    record = {
        "seed": seed,
        "best_epoch": best_epoch,
        "best_validation_same_chord": best_share,
        "epochs_run": len(history),
        "time_s": round(time.monotonic() - started, 1),
        "history": history,
    }
    return model, record


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--transpose", type=int, default=DEFAULT_TRANSPOSE)
    parser.add_argument("--max-epochs", type=int, default=DEFAULT_MAX_EPOCHS)
    parser.add_argument(
        "--budget-s", type=float, default=DEFAULT_BUDGET_S, help="per member, in seconds"
    )
    parser.add_argument("--units", type=int, default=ChordNetworkSettings.units)
    parser.add_argument(
        "--seeds",
        type=lambda text: [int(s) for s in text.split(",")],
        default=list(SEEDS),
        help="one member of the ensemble per seed, comma-separated (the split keeps SEED)",
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    started = time.monotonic()
    split = harmonizer_split(seed=SEED, valid_fraction=VALID_FRACTION)
    shifts = range(-args.transpose, args.transpose + 1)
    fit = [e for c in split.fit for e in chorale_examples(c, shifts)]
    valid = [e for c in split.valid for e in chorale_examples(c, range(0, 1))]
    heldout = [e for c in split.heldout for e in chorale_examples(c, range(0, 1))]
    vocabulary = ChordVocabulary.from_counts(
        (c for e in fit for c in e.chords), size=VOCABULARY_SIZE
    )
    fit_frames = sum(e.frames for e in fit)
    covered = sum(vocabulary.index(c) != vocabulary.other for e in fit for c in e.chords)
    print(
        f"examples: {len(fit)} to fit ({len(split.fit)} chorales x transpositions "
        f"{shifts.start}..{shifts.stop - 1}), {len(valid)} validation, {len(heldout)} held out; "
        f"{vocabulary.classes - 1} chords cover {covered / fit_frames:.1%} of the fitted frames",
        flush=True,
    )
    settings = ChordNetworkSettings(units=args.units)
    models, members = [], []
    for seed in args.seeds:
        model, record = train_member(seed, settings, fit, valid, vocabulary, args)
        record["heldout"] = onset_figures([model], heldout, vocabulary)
        print(f"seed {seed}: held out {record['heldout']}", flush=True)
        models.append(model)
        members.append(record)
    ensemble = {
        "validation": onset_figures(models, valid, vocabulary),
        "heldout": {"chorales": len(heldout), **onset_figures(models, heldout, vocabulary)},
    }
    print(f"ensemble of {len(models)}: {ensemble}", flush=True)
    args.out.mkdir(parents=True, exist_ok=True)
    files = [member_file(i) for i in range(len(models))]
    for model, name in zip(models, files, strict=True):
        inference = build_chord_network(settings, vocabulary.classes, training=False)
        inference.set_weights(model.get_weights())  # type: ignore[attr-defined]
        inference.save(args.out / name)
    config = {
        "model": "chord model of the chorale harmonizer",
        "split_seed": SEED,
        "members": files,
        "network": settings.to_dict(),
        "vocabulary": vocabulary.to_dict(),
        "training": {
            "chorales": len(split.train),
            "fit_chorales": len(split.fit),
            "validation_chorales": len(split.valid),
            "transpose_semitones": args.transpose,
            "onset_weight": ONSET_WEIGHT,
            "batch_size": BATCH_SIZE,
            "learning_rate": LEARNING_RATE,
            "time_s": round(time.monotonic() - started, 1),
            "members": members,
        },
        "validation": ensemble["validation"],
        "heldout": ensemble["heldout"],
        "parameters_per_member": int(models[0].count_params()),  # type: ignore[attr-defined]
    }
    atomic_write_json(args.out / "chords.json", config)
    size_mb = sum((args.out / name).stat().st_size for name in files) / 1e6
    print(
        f"wrote {len(files)} members to {args.out} ({size_mb:.2f} MB) after "
        f"{time.monotonic() - started:.0f} s",
        flush=True,
    )
    print(json.dumps({"heldout": config["heldout"]}), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
