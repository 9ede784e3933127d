"""Small-data benchmark: the page's default training on a handful of songs it has never seen,
and the bundled models' music against their own held-out pieces.

The collection is Ludwig Erk's German folk songs (`essenFolksong/erk20.abc` in music21's corpus:
371 songs, none of them in the base model's data). Its songs are written out as MIDI files, as a
user would upload them. With the Train page's defaults (the quick preset, fine-tuned from the
base model) it trains on the first 5, 30 and 150 songs, and scores every run on the same 50
other songs, which no run trained on:
- held-out perplexity of the fine-tuned model, of the untouched base and of a 4-gram trained on
  the same training pieces, on the same held-out pieces, and the ratios to both;
- whether the run kept the base's weights (no check beat them), and the training's wall time;
- the style figures of 20 generated pieces against those 50 real songs.
Then each bundled style model: 30 pieces with the default settings against its held-out pieces.
Opt-in (it trains three models, about 10 minutes here).

The goals (issue 24): on 30 songs at most GOAL_VS_BASE × the base and GOAL_VS_NGRAM × the
n-gram; on 5 songs never worse than the base.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.bundled_style import style_run
from core.data.datasets import SPLIT_SEED, load_dataset
from core.data.parse_cache import read_music_cached
from core.evaluation.report import generate_pieces
from core.evaluation.style import compare_style
from core.generation.generator import Generator
from core.model.bundled import BASE_MODEL_NAME, available_styles
from core.music.midi import midi_to_bytes, piece_to_midi
from core.music.piece import Piece
from core.tokens.scheme import tokens_to_piece
from core.training.data import evaluate, evaluation_windows
from core.training.fine_tuning import fine_tuning_setup
from core.training.loop import train
from core.training.ngram import ngram_baseline
from core.training.presets import TRAINING_PRESETS

COLLECTION = "essenFolksong/erk20.abc"
TRAIN_SIZES = (5, 30, 150)
HELDOUT_SONGS = 50
GENERATED = 20
PAGE_PRESET = "quick"  # the Train page's default
GOAL_SIZE = 30
GOAL_VS_BASE = 0.97
GOAL_VS_NGRAM = 0.8
NEVER_WORSE_SIZE = 5


def _song_pieces() -> list[Piece]:
    """The collection's songs with at least 8 notes, in the file's order (on sixteenths)."""
    import music21.corpus

    path = Path(music21.corpus.__file__).parent / COLLECTION
    pieces = read_music_cached(path.read_bytes(), name=path.name, steps_per_quarter=4)
    return [p for p in pieces if len(p.notes) >= 8]


def _songs(out_dir: Path) -> list[Path]:
    """The collection's songs as MIDI files (only songs with at least 8 notes)."""
    files = []
    for index, piece in enumerate(_song_pieces()):
        file = out_dir / f"erk20-{index:03d}.mid"
        file.write_bytes(midi_to_bytes(piece_to_midi(piece)))
        files.append(file)
    return files


def _style_figures(report: Any) -> dict[str, Any]:
    metrics, overlaps = report.metrics, report.overlaps
    ratios = [v.ratio for v in overlaps.values()]
    return {
        "scale_consistency": round(metrics["scale_consistency"].generated, 3),
        "scale_consistency_real": round(metrics["scale_consistency"].real, 3),
        "pitch_class_entropy": round(metrics["pitch_class_entropy"].generated, 3),
        "pitch_class_entropy_real": round(metrics["pitch_class_entropy"].real, 3),
        "overlap_ratio_min": round(min(ratios), 3) if ratios else None,
        "overlap_ratios": {k: round(v.ratio, 3) for k, v in overlaps.items()},
        "means": {  # set means, generated beside real (bench your_style's style goal)
            k: {"generated": round(v.generated, 3), "real": round(v.real, 3)}
            for k, v in metrics.items()
        },
    }


def _base_perplexity(heldout_files: list[Path]) -> float:
    """The untouched base model's perplexity on the held-out songs."""
    import keras

    base = fine_tuning_setup(BASE_MODEL_NAME)
    config = TRAINING_PRESETS[PAGE_PRESET].training_for(from_scratch=False)
    heldout = load_dataset(
        heldout_files, config=base.encoding, vocab=base.vocab, valid_fraction=0.0
    )
    model = keras.saving.load_model(base.path / "model.keras", compile=False)
    windows = evaluation_windows(
        heldout.train_ids(), length=config.sequence_length, pad_id=base.vocab.pad_id
    )
    return evaluate(model, windows)["perplexity"]


def _one_run(
    files: list[Path], heldout_files: list[Path], work: Path, *, base_perplexity: float
) -> dict[str, Any]:
    base = fine_tuning_setup(BASE_MODEL_NAME)
    config = TRAINING_PRESETS[PAGE_PRESET].training_for(from_scratch=False)
    dataset = load_dataset(files, config=base.encoding, vocab=base.vocab, seed=SPLIT_SEED)
    heldout = load_dataset(
        heldout_files, config=base.encoding, vocab=base.vocab, valid_fraction=0.0
    )
    started = time.perf_counter()
    result = train(
        dataset,
        model_config=base.model,
        training_config=config,
        checkpoint_dir=work / "checkpoint",
        out_dir=work / "model",
        base_dir=base.path,
    )
    train_s = time.perf_counter() - started
    import keras

    model = keras.saving.load_model(work / "model" / "model.keras", compile=False)
    heldout_ids = heldout.train_ids()
    scores = evaluate(
        model,
        evaluation_windows(heldout_ids, length=config.sequence_length, pad_id=base.vocab.pad_id),
    )
    ngram = ngram_baseline(
        dataset.train_ids(),
        heldout_ids,
        vocab_size=len(base.vocab),
        order=config.ngram_order,
        bos_id=base.vocab.bos_id,
    )
    generator = Generator.from_folder(work / "model")
    pieces = generate_pieces(generator, count=GENERATED, seed=1)
    real = [tokens_to_piece(e.tokens, base.encoding, name=e.name) for e in heldout.train]
    return {
        "songs": len(files),
        "train_pieces": len(dataset.train),
        "rounds": result.metrics["epochs_run"],
        "best_round": result.metrics["best_epoch"],
        "first_check_step": (result.metrics["history"] or [{}])[0].get("step"),
        "kept_base_weights": result.metrics["kept_base_weights"],
        "train_wall_s": round(train_s, 1),
        "heldout_perplexity": round(scores["perplexity"], 3),
        "base_perplexity": round(base_perplexity, 3),
        "ngram_perplexity": round(ngram.perplexity, 3),
        "ratio_vs_base": round(scores["perplexity"] / base_perplexity, 3),
        "ratio": round(scores["perplexity"] / ngram.perplexity, 3),
        "style": _style_figures(compare_style(pieces, real)),
    }


def run() -> dict[str, Any]:
    figures: dict[str, Any] = {"collection": COLLECTION, "preset": PAGE_PRESET}
    with tempfile.TemporaryDirectory(prefix="tunesmith-small-data-") as tmp:
        songs_dir = Path(tmp) / "songs"
        songs_dir.mkdir()
        songs = _songs(songs_dir)
        heldout = songs[-HELDOUT_SONGS:]
        base_perplexity = _base_perplexity(heldout)
        for size in TRAIN_SIZES:
            work = Path(tmp) / f"run-{size}"
            work.mkdir()
            figures[f"songs_{size}"] = _one_run(
                songs[:size], heldout, work, base_perplexity=base_perplexity
            )
    figures["goals"] = _goals(figures)
    for style in available_styles():  # more seed ranges and real music's floor: bundled_style
        figures[f"bundled_{style.name}"] = style_run(Generator.from_folder(style.path), seed=1)
    return figures


def _goals(figures: dict[str, Any]) -> dict[str, Any]:
    """The issue's goals against this run's figures."""
    at_goal, small = figures[f"songs_{GOAL_SIZE}"], figures[f"songs_{NEVER_WORSE_SIZE}"]
    return {
        f"songs_{GOAL_SIZE}_vs_base_at_most_{GOAL_VS_BASE}": at_goal["ratio_vs_base"]
        <= GOAL_VS_BASE,
        f"songs_{GOAL_SIZE}_vs_ngram_at_most_{GOAL_VS_NGRAM}": at_goal["ratio"] <= GOAL_VS_NGRAM,
        f"songs_{NEVER_WORSE_SIZE}_never_worse_than_base": small["ratio_vs_base"] <= 1.0,
    }
