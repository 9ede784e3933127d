"""One evaluation of a model: its held-out figures beside the n-gram's, and a set of its pieces
judged for style, originality and degeneracy. Same model, pieces and seed: the same report.

The model figures are the ones training computed on the held-out pieces of its split (loss,
perplexity and accuracy beside the n-gram baseline on the same tokens, `metrics.json`); they
are read, never computed a second way.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from core.errors import EvaluationError
from core.evaluation.degeneracy import degeneracy
from core.evaluation.features import MIN_NOTES, check_piece, scale_consistency_in
from core.evaluation.records import EvaluationReport, ModelFigures, without_nan
from core.evaluation.style import compare_style
from core.evaluation.verdicts import summary_figures, summary_sentences
from core.generation.generator import Generator
from core.generation.result import GenerationResult
from core.generation.settings import (
    CREATIVITY_LEVELS,
    DEFAULT_CREATIVITY,
    PAGE_TEMPO_BPM,
    SamplingSettings,
    creativity_to_settings,
)
from core.model.model_data import load_index, read_heldout
from core.music.piece import Piece
from core.progress import ProgressCallback
from core.tokens.scheme import piece_to_tokens

DEFAULT_COUNT = 20

MAX_COUNT = 100

FIRST_PIECE_SEED = 1  # pieces use seeds 1, 2, ... N

PIECE_LENGTH_S = 30.0


def evaluation_settings() -> SamplingSettings:
    """The settings a new user gets by default: "Balanced" creativity, 30 s at 100 BPM."""
    return creativity_to_settings(
        CREATIVITY_LEVELS[DEFAULT_CREATIVITY],
        length_tokens=None,
        length_s=PIECE_LENGTH_S,
        tempo_bpm=PAGE_TEMPO_BPM,
    )


def usable_pieces(pieces: Sequence[Piece]) -> tuple[list[Piece], list[str]]:
    """(pieces long enough to judge, one line per piece left out naming it)."""
    kept, skipped = [], []
    for piece in pieces:
        try:
            check_piece(piece)
        except EvaluationError as error:
            skipped.append(str(error))
        else:
            kept.append(piece)
    return kept, skipped


def piece_without_primer(result: GenerationResult) -> Piece:
    """A generated piece without the notes its primer gave it (those are not the model's).

    The primer's notes are the first ones in sorted order: every new note starts at or after
    the primer's last onset, and one in the primer's last chord is higher (the grammar writes
    chords in ascending pitch). There is one note per duration token of the primer.
    """
    primer = result.tokens[1 : 1 + result.primer_length]
    primer_notes = sum(1 for t in primer if t[:1] == "D")
    if not primer_notes:
        return result.piece
    return replace(result.piece, notes=tuple(sorted(result.piece.notes)[primer_notes:]))


def new_notes_in_key(result: GenerationResult) -> float | None:
    """The share of the piece's new notes (not its primer's) in the key and scale it was made
    in: 1.0 with the scale lock on. None when no key was asked for and no tune gave one."""
    if result.tonic is None:
        return None
    new = piece_without_primer(result)
    return scale_consistency_in(new, result.tonic, result.scale or "major") if new.notes else None


def generate_pieces(
    generator: Generator,
    *,
    count: int = DEFAULT_COUNT,
    seed: int = FIRST_PIECE_SEED,
    settings: SamplingSettings | None = None,
    on_progress: ProgressCallback[str] | None = None,
) -> list[Piece]:
    """`count` pieces from a blank page with seeds seed, seed + 1, ..."""
    if not 1 <= count <= MAX_COUNT:
        raise EvaluationError(f"count must be within 1..{MAX_COUNT} pieces (got {count})")
    settings = settings or evaluation_settings()
    pieces = []
    for i in range(count):
        result = generator.generate(settings, seed=seed + i)
        pieces.append(replace(result.piece, name=f"seed {seed + i}"))
        if on_progress:
            on_progress(i + 1, count, f"piece {i + 1} of {count}")
    return pieces


def check_model_folder(folder: Path) -> list[Piece]:
    """The held-out pieces, after checking the folder holds everything an evaluation reads.

    Raises:
        EvaluationError: no held-out pieces or no training notes in the folder.
    """
    heldout = read_heldout(folder)
    load_index(folder)
    return heldout


def evaluate_pieces(
    generator: Generator,
    pieces: Sequence[Piece],
    *,
    generation: dict[str, Any] | None = None,
) -> EvaluationReport:
    """Judge `pieces` as the music of `generator`'s model (its folder holds the references).

    Pieces with fewer than MIN_NOTES notes are left out and named in `skipped`.

    Raises:
        EvaluationError: the folder lacks its held-out data, or no piece can be judged.
    """
    if generator.path is None:
        raise EvaluationError(f"{generator.name}: a model folder is needed to evaluate it")
    heldout = check_model_folder(generator.path)
    if not pieces:
        raise EvaluationError("no pieces to judge (the set is empty)")
    kept, skipped = usable_pieces(pieces)
    if not kept:
        raise EvaluationError(f"no piece has at least {MIN_NOTES} notes: " + "; ".join(skipped))
    index = load_index(generator.path)
    encoding = generator.encoding
    return EvaluationReport(
        model_name=generator.name,
        model=ModelFigures.from_metrics(generator.name, generator.metrics),
        pieces=tuple(kept),
        style=compare_style(kept, heldout),
        originality=tuple(index.query(p) for p in kept),
        degeneracy=tuple(degeneracy(p, piece_to_tokens(p, encoding)) for p in kept),
        real_degeneracy=tuple(degeneracy(p, piece_to_tokens(p, encoding)) for p in heldout),
        skipped=tuple(skipped),
        generation=dict(generation or {}),
    )


def evaluate_model(
    generator: Generator,
    *,
    count: int = DEFAULT_COUNT,
    seed: int = FIRST_PIECE_SEED,
    settings: SamplingSettings | None = None,
    on_progress: ProgressCallback[str] | None = None,
) -> EvaluationReport:
    """Generate `count` pieces with the default settings and judge them.

    The model folder is checked before anything is generated.
    """
    if generator.path is None:
        raise EvaluationError(f"{generator.name}: a model folder is needed to evaluate it")
    check_model_folder(generator.path)
    settings = settings or evaluation_settings()
    pieces = generate_pieces(
        generator, count=count, seed=seed, settings=settings, on_progress=on_progress
    )
    generation = {"count": count, "seed": seed, "settings": settings.to_dict()}
    return evaluate_pieces(generator, pieces, generation=generation)


def report_to_dict(report: EvaluationReport) -> dict[str, Any]:
    """Every figure of the report, its headline figures and their plain sentences (JSON-able)."""
    return {
        **report.to_dict(),
        "summary": without_nan(summary_figures(report)),
        "sentences": summary_sentences(report),
    }
