"""Train the chorale harmonizer (models/harmonizer/): three voices under a melody, Bach's way.

    .venv/bin/python scripts/train_harmonizer.py [--out models/harmonizer] [--transpose N]
        [--max-epochs N] [--budget-s S]

Data: music21's bundled Bach chorales (`COLLECTIONS["bach-chorales"]`), four single-line parts
each (`core.harmonize.bach`), trained only on the chorales the app's split does not hold out
(the 35 of `collection_heldout_names("bach-chorales")` stay unseen for the benchmark). Each is
moved to C major / A minor by the key of its melody (all a harmonizer is given), and, with
`--transpose N`, also by every shift of 1..N semitones up and down (2 is the default: it
reached a lower validation loss than 1 in the same time). A tenth of the training chorales
(split by name, this script's seed) is held back to judge early stopping and keep the best
epoch. Training stops at the first of: 4 epochs without a better validation loss,
`--max-epochs`, or `--budget-s` seconds (13 minutes, so the epochs reached depend on the
machine: pass the epochs config.json records as `--max-epochs` to repeat a run). The network
is `core.harmonize.network`; the frames `core.harmonize.frames`. Fixed seed; the figures and
the time go into config.json, and the output into models/harmonizer/training_output.txt.
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
from core.harmonize.frames import (
    FRAME_QUARTERS,
    N_PITCHES,
    REST,
    choices_to_sounding,
    estimate_bar_shift_quarters,
    melody_frames,
    voice_to_choices,
)
from core.harmonize.network import NetworkSettings, build_network, teacher_forced_inputs
from core.music.keys import key_normalizing_shift
from core.music.meter import parse_meter
from core.storage.files import REPO_DIR, atomic_write_json

SEED = 20261202
DEFAULT_OUT = REPO_DIR / "models" / "harmonizer"
VALID_FRACTION = 0.1
BATCH_SIZE = 16
LEARNING_RATE = 2e-3
DROPOUT = 0.2
PATIENCE_EPOCHS = 4
DEFAULT_MAX_EPOCHS = 100
DEFAULT_BUDGET_S = 13 * 60.0
LENGTH_BUCKET_FRAMES = 32  # batches are padded to a multiple of this (few shapes to trace)
DEFAULT_TRANSPOSE = 2


@dataclass(frozen=True)
class Example:
    """One chorale (at one transposition) as arrays: melody frames and three voices' choices."""

    name: str
    soprano: np.ndarray
    features: np.ndarray
    choices: np.ndarray  # (3, frames)

    @property
    def frames(self) -> int:
        return len(self.soprano)


def chorale_examples(chorale: Chorale, transpositions: range) -> list[Example]:
    length = max(v.length_steps for v in chorale.voices)
    base = key_normalizing_shift(chorale.soprano)
    out = []
    for extra in transpositions:
        shift = base + extra
        melody = melody_frames(chorale.soprano, shift=shift, length_steps=length)
        try:
            choices = np.stack(
                [voice_to_choices(v.notes, melody.bounds, shift=shift) for v in chorale.voices[1:]]
            )
        except ValueError:  # a voice outside the model's range at this transposition
            continue
        out.append(Example(chorale.name, melody.sounding, melody.features, choices))
    return out


def example_inputs(example: Example) -> dict[str, np.ndarray]:
    sounding = choices_to_sounding(example.choices)
    onsets = (example.choices < N_PITCHES).astype(np.float32)
    return teacher_forced_inputs(example.soprano, example.features, sounding, onsets)


def make_batches(examples: list[Example], rng: np.random.Generator | None) -> list[tuple]:
    """Batches of similar length, padded to a multiple of LENGTH_BUCKET_FRAMES; the padding
    has weight 0. Shuffled within and between buckets when `rng` is given."""
    order = sorted(range(len(examples)), key=lambda i: examples[i].frames)
    if rng is not None:  # shuffle among neighbours of similar length, then the batches
        keys = np.array([examples[i].frames for i in order]) + rng.uniform(0, 8, len(order))
        order = [order[i] for i in np.argsort(keys, kind="stable")]
    batches = []
    for start in range(0, len(order), BATCH_SIZE):
        chunk = [examples[i] for i in order[start : start + BATCH_SIZE]]
        frames = max(e.frames for e in chunk)
        padded = math.ceil(frames / LENGTH_BUCKET_FRAMES) * LENGTH_BUCKET_FRAMES
        parts = [example_inputs(e) for e in chunk]
        x = {}
        for key in parts[0]:
            arrays = []
            for e, p in zip(chunk, parts, strict=True):
                pad = [(0, 0)] * p[key].ndim
                pad[1] = (0, padded - e.frames)
                arrays.append(np.pad(p[key][0:1], pad)[0])
            x[key] = np.stack(arrays)
        y = []
        for voice in range(3):
            target = np.full((len(chunk), padded), REST, dtype=np.int32)
            for row, e in enumerate(chunk):
                target[row, : e.frames] = e.choices[voice]
            y.append(target)
        weight = np.zeros((len(chunk), padded), dtype=np.float32)
        for row, e in enumerate(chunk):
            weight[row, : e.frames] = 1.0
        batches.append((x, tuple(y), (weight, weight, weight)))
    if rng is not None:
        batches = [batches[i] for i in rng.permutation(len(batches))]
    return batches


def heldout_figures(model: object, examples: list[Example]) -> dict[str, float]:
    """Teacher-forced frame accuracy and perplexity per voice on `examples`."""
    figures: dict[str, float] = {}
    nll_all: list[float] = []
    for voice, name in enumerate(("alto", "tenor", "bass")):
        correct = total = 0
        nll: list[float] = []
        moves_correct = moves = 0
        for e in examples:
            logits = model.predict_on_batch(example_inputs(e))[voice][0]  # type: ignore[attr-defined]
            logits = logits - logits.max(axis=1, keepdims=True)
            logp = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
            target = e.choices[voice]
            guess = logp.argmax(axis=1)
            correct += int((guess == target).sum())
            total += len(target)
            nll.extend(-logp[np.arange(len(target)), target])
            new = target < N_PITCHES
            moves_correct += int((guess[new] == target[new]).sum())
            moves += int(new.sum())
        figures[f"{name}_frame_accuracy"] = round(correct / total, 4)
        figures[f"{name}_new_note_accuracy"] = round(moves_correct / max(moves, 1), 4)
        figures[f"{name}_perplexity"] = round(float(np.exp(np.mean(nll))), 4)
        nll_all.extend(nll)
    figures["frame_perplexity"] = round(float(np.exp(np.mean(nll_all))), 4)
    figures["frame_accuracy"] = round(
        float(np.mean([figures[f"{v}_frame_accuracy"] for v in ("alto", "tenor", "bass")])), 4
    )
    return figures


def data_figures(chorales: list[Chorale]) -> dict[str, float]:
    """Why the grid is eighths, and how well the melody-only guesses match the scores."""
    on_eighth = notes = 0
    shift_right = 0
    for chorale in chorales:
        spq = chorale.soprano.steps_per_quarter
        eighth = int(spq * FRAME_QUARTERS)
        for voice in chorale.voices[1:]:
            on_eighth += sum(n.onset_step % eighth == 0 for n in voice.notes)
            notes += len(voice.notes)
        bar_q = parse_meter(chorale.soprano.meter).quarters_per_bar
        guess = estimate_bar_shift_quarters(chorale.soprano, bar_q)
        shift_right += abs(guess - chorale.bar_shift_quarters) < 1e-6
    return {
        "lower_voice_notes_on_eighths": round(on_eighth / notes, 4),
        "upbeat_guessed_right": round(shift_right / len(chorales), 4),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--transpose", type=int, default=DEFAULT_TRANSPOSE)
    parser.add_argument("--max-epochs", type=int, default=DEFAULT_MAX_EPOCHS)
    parser.add_argument("--budget-s", type=float, default=DEFAULT_BUDGET_S)
    parser.add_argument("--encoder-units", type=int, default=NetworkSettings.encoder_units)
    parser.add_argument("--decoder-units", type=int, default=NetworkSettings.decoder_units)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    started = time.monotonic()

    import keras

    keras.utils.set_random_seed(SEED)
    split = harmonizer_split(seed=SEED, valid_fraction=VALID_FRACTION)
    print(
        f"chorales: {len(split.train)} of {split.train_files} training files and "
        f"{len(split.heldout)} of {split.heldout_files} held-out files have four single-line "
        f"parts ({time.monotonic() - started:.0f} s)",
        flush=True,
    )
    shifts = range(-args.transpose, args.transpose + 1)
    fit = [e for c in split.fit for e in chorale_examples(c, shifts)]
    valid = [e for c in split.valid for e in chorale_examples(c, range(0, 1))]
    heldout = [e for c in split.heldout for e in chorale_examples(c, range(0, 1))]
    data = data_figures(split.train)
    print(
        f"examples: {len(fit)} to fit ({len(split.fit)} chorales x transpositions {shifts.start}.."
        f"{shifts.stop - 1}), {len(valid)} validation, {len(heldout)} held out; {data}",
        flush=True,
    )
    settings = NetworkSettings(encoder_units=args.encoder_units, decoder_units=args.decoder_units)
    model = build_network(settings, dropout=DROPOUT)
    model.compile(
        optimizer=keras.optimizers.Adam(LEARNING_RATE, clipnorm=1.0),
        loss=[keras.losses.SparseCategoricalCrossentropy(from_logits=True)] * 3,
    )
    print(f"parameters: {model.count_params():,}", flush=True)
    rng = np.random.default_rng(SEED)
    valid_batches = make_batches(valid, None)
    best_loss, best_epoch, best_weights = math.inf, 0, model.get_weights()
    history = []
    for epoch in range(1, args.max_epochs + 1):
        losses = [
            float(model.train_on_batch(x, y, sample_weight=w)[0])
            for x, y, w in make_batches(fit, rng)
        ]
        valid_loss = _weighted_loss(model, valid_batches)
        elapsed = time.monotonic() - started
        history.append(
            {"epoch": epoch, "loss": round(float(np.mean(losses)), 4), "valid_loss": valid_loss}
        )
        print(
            f"epoch {epoch}: loss {np.mean(losses):.4f}, validation {valid_loss:.4f} "
            f"({elapsed:.0f} s)",
            flush=True,
        )
        if valid_loss < best_loss - 1e-4:
            best_loss, best_epoch, best_weights = valid_loss, epoch, model.get_weights()
        elif epoch - best_epoch >= PATIENCE_EPOCHS:
            print(f"early stop: no better validation loss since epoch {best_epoch}", flush=True)
            break
        if elapsed > args.budget_s:
            print(f"time budget of {args.budget_s:.0f} s spent", flush=True)
            break
    model.set_weights(best_weights)
    train_s = time.monotonic() - started
    figures = heldout_figures(model, heldout)
    print(f"held out ({len(heldout)} chorales, teacher forced): {figures}", flush=True)
    args.out.mkdir(parents=True, exist_ok=True)
    # A fresh, uncompiled copy without dropout: the file holds no optimizer state (a third
    # of the size) and loads as the app uses it.
    inference = build_network(settings)
    inference.set_weights(model.get_weights())
    inference.save(args.out / "model.keras")
    config = {
        "model": "chorale harmonizer",
        "seed": SEED,
        "network": settings.to_dict(),
        "frame_quarters": FRAME_QUARTERS,
        "training": {
            "data": "music21 bundled Bach chorales, four single-line parts, the app's training "
            "side (collection_heldout_names('bach-chorales') held out)",
            "chorales": len(split.train),
            "fit_chorales": len(split.fit),
            "validation_chorales": len(split.valid),
            "transpose_semitones": args.transpose,
            "key": "each chorale moved to C major / A minor by its melody's key",
            "batch_size": BATCH_SIZE,
            "learning_rate": LEARNING_RATE,
            "dropout": DROPOUT,
            "best_epoch": best_epoch,
            "best_validation_loss": round(best_loss, 4),
            "epochs_run": len(history),
            "time_s": round(train_s, 1),
            "history": history,
        },
        "data": data,
        "heldout": {"chorales": len(heldout), **figures},
        "parameters": int(model.count_params()),
    }
    atomic_write_json(args.out / "config.json", config)
    size_mb = (args.out / "model.keras").stat().st_size / 1e6
    print(
        f"wrote {args.out} (model.keras {size_mb:.2f} MB) after {time.monotonic() - started:.0f} s;"
        f" best epoch {best_epoch}, validation loss {best_loss:.4f}",
        flush=True,
    )
    print(json.dumps({"heldout": config["heldout"]}), flush=True)
    return 0


def _weighted_loss(model: object, batches: list[tuple]) -> float:
    """The mean negative log-likelihood per voice and frame, padding left out."""
    total = count = 0.0
    for x, y, w in batches:
        outputs = model.predict_on_batch(x)  # type: ignore[attr-defined]
        for logits, target in zip(outputs, y, strict=True):
            logits = logits - logits.max(axis=-1, keepdims=True)
            logp = logits - np.log(np.exp(logits).sum(axis=-1, keepdims=True))
            picked = np.take_along_axis(logp, target[..., None], axis=-1)[..., 0]
            total -= float((picked * w[0]).sum())
            count += float(w[0].sum())
    return round(total / max(count, 1.0), 4)


if __name__ == "__main__":
    raise SystemExit(main())
