"""Train the pretrained base model (models/base/) that every new model starts from.

    .venv/bin/python scripts/train_base_model.py [--out models/base] [--epochs N] [--units N]
        [--checkpoints DIR]

The app's built-in collections (the Bach chorales and the folk tunes), each split by piece as
the app splits it (seed 1234), so a model fine-tuned on one collection is judged on held-out
pieces the base never saw either. Every piece is key-normalized (C major / A minor), so the
network learns to hold one key; the vocabulary is every token of the sixteenth grid
(`Vocabulary.for_grid`), so anyone's music on that grid fits it. Fixed seed; the figures and
the time it took go into models/base/README.md by hand from this script's last line.
"""

from __future__ import annotations

import argparse
import json
import logging
import shutil
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core.data.datasets import Dataset, load_dataset
from core.data.pickups import opening_pickups
from core.generation.primers import DEFAULT_PRIMER_PIECES, write_training_primers
from core.model.folder import CHECKPOINT_DIR
from core.model.network import ModelConfig
from core.storage.files import REPO_DIR
from core.tokens.config import EncodingConfig
from core.tokens.vocabulary import Vocabulary
from core.training.config import TrainingConfig
from core.training.loop import train

SEED = 20261125
PRESETS = ("bach-chorales", "folk-tunes")
ENCODING = EncodingConfig(normalize_key=True)
MODEL_CONFIG = ModelConfig(embedding_dim=64, units=384, layers=2, dropout=0.3)
TRAINING_CONFIG = TrainingConfig(
    sequence_length=128,
    batch_size=32,
    learning_rate=3e-3,
    epochs=12,
    patience=3,
    seed=SEED,
    augmentation=False,  # the pieces are key-normalized: transposing them would undo it
    transpose_semitones=0,
    window_stride=None,
    ngram_order=4,
    max_batches_per_epoch=None,
)


def combined_dataset(presets: tuple[str, ...], vocab: Vocabulary) -> Dataset:
    """The presets, each split as the app splits it alone, joined side by side."""
    parts = [load_dataset([p], config=ENCODING, vocab=vocab) for p in presets]
    return Dataset(
        name="+".join(presets),
        config=ENCODING,
        pieces=tuple(p for d in parts for p in d.pieces),
        train=tuple(p for d in parts for p in d.train),
        valid=tuple(p for d in parts for p in d.valid),
        vocab=vocab,
        errors=tuple(e for d in parts for e in d.errors),
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REPO_DIR / "models" / "base")
    parser.add_argument("--epochs", type=int, default=TRAINING_CONFIG.epochs)
    parser.add_argument("--max-batches-per-epoch", type=int, default=None)
    parser.add_argument(
        "--units", type=int, default=MODEL_CONFIG.units, help="LSTM width (trying a wider base)"
    )
    parser.add_argument(
        "--checkpoints",
        type=Path,
        default=None,
        help="keep the training checkpoint here, so a stopped run resumes (default: a temp dir)",
    )
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    training = TrainingConfig.from_dict(
        {
            **TRAINING_CONFIG.to_dict(),
            "epochs": args.epochs,
            "max_batches_per_epoch": args.max_batches_per_epoch,
        }
    )
    started = time.monotonic()
    dataset = combined_dataset(PRESETS, Vocabulary.for_grid(ENCODING))
    print(f"dataset: {dataset.summary().to_dict()}", flush=True)

    def on_progress(done: int, total: int, info: object) -> None:
        history = getattr(info, "history", ())
        if history and getattr(info, "batch", 0) == getattr(info, "batches", -1):
            print(f"[{done}/{total}] {history[-1]}", flush=True)

    model_config = replace(MODEL_CONFIG, units=args.units)
    with tempfile.TemporaryDirectory() as scratch:
        result = train(
            dataset,
            model_config=model_config,
            training_config=training,
            checkpoint_dir=args.checkpoints or Path(scratch),
            out_dir=args.out,
            on_progress=on_progress,
            resume=args.checkpoints is not None,
        )
    assert result.model_dir is not None
    shutil.rmtree(result.model_dir / CHECKPOINT_DIR, ignore_errors=True)
    write_training_primers(
        result.model_dir,
        [p.tokens for p in dataset.train],
        source=dataset.name,
        meters=dataset.train_meters(),
        pickups=opening_pickups(dataset, collections=PRESETS, pieces=DEFAULT_PRIMER_PIECES),
    )
    elapsed = time.monotonic() - started
    metrics = {k: v for k, v in result.metrics.items() if k != "history"}
    print(
        json.dumps(
            {"model_dir": str(result.model_dir), "elapsed_s": round(elapsed, 1), **metrics},
            default=str,
        ),
        flush=True,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
