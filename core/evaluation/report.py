"""One evaluation of a model: its held-out figures beside the n-gram's, and a set of its pieces
judged for style, originality and degeneracy. Same model, pieces and seed: the same report.

The model figures are the ones training computed on the held-out pieces of its split (loss,
perplexity and accuracy beside the n-gram baseline on the same tokens, `metrics.json`); they
are read, never computed a second way.
"""

from __future__ import annotations

import logging
import statistics
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from core.errors import EvaluationError
from core.evaluation.degeneracy import Degeneracy, degeneracy
from core.evaluation.features import (
    MIN_NOTES,
    PieceFigures,
    check_piece,
    piece_figures,
    scale_consistency_in,
)
from core.evaluation.form import collection_form_profile, cut_to_beats
from core.evaluation.records import EvaluationReport, ModelFigures, without_nan
from core.evaluation.style import compare_style, real_set_figures
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
from core.model.blas import one_blas_thread
from core.model.model_data import HELDOUT_FILE, load_index, read_heldout
from core.model.training_notes import Originality, OriginalityIndex
from core.music.piece import Piece
from core.progress import ProgressCallback
from core.tokens.config import EncodingConfig
from core.tokens.scheme import piece_to_tokens

log = logging.getLogger(__name__)

DEFAULT_COUNT = 20

MAX_COUNT = 100

FIRST_PIECE_SEED = 1  # pieces use seeds 1, 2, ... N

PIECE_LENGTH_S = 30.0

# `on_progress`'s info once every piece is judged, while the set is compared with real music.
SET_STAGE = "comparing the set with the real music"


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
    _check_count(count)
    settings = settings or evaluation_settings()
    pieces = []
    for i in range(count):  # each on one BLAS thread (`Generator.generate`)
        pieces.append(_new_piece(generator, settings, seed=seed + i))
        if on_progress:
            on_progress(i + 1, count, f"piece {i + 1} of {count}")
    return pieces


def _check_count(count: int) -> None:
    if not 1 <= count <= MAX_COUNT:
        raise EvaluationError(f"count must be within 1..{MAX_COUNT} pieces (got {count})")


def _new_piece(generator: Generator, settings: SamplingSettings, *, seed: int) -> Piece:
    return replace(generator.generate(settings, seed=seed).piece, name=f"seed {seed}")


def check_model_folder(folder: Path) -> list[Piece]:
    """The held-out pieces, after checking the folder holds everything an evaluation reads.

    Raises:
        EvaluationError: no held-out pieces or no training notes in the folder.
    """
    heldout = read_heldout(folder)
    load_index(folder)
    return heldout


@dataclass(frozen=True)
class _RealSide:
    """What an evaluation measures of the held-out real pieces, the same for every set."""

    pieces: tuple[Piece, ...]
    figures: tuple[PieceFigures, ...]  # of `usable_real_pieces(pieces)`
    degeneracy: tuple[Degeneracy, ...]


_REAL_SIDES: OrderedDict[tuple[str, int, EncodingConfig], _RealSide] = OrderedDict()
_REAL_SIDES_LOCK = threading.Lock()
MAX_CACHED_REAL_SIDES = 8  # as many models as a server's pages judge in turn


def _real_side(folder: Path, encoding: EncodingConfig) -> _RealSide:
    """The held-out pieces' figures, once per version of the folder's held-out file: MusPy on
    306 folk tunes takes seconds, and every evaluation of the model compares with them."""
    heldout = check_model_folder(folder)
    path = Path(folder).resolve() / HELDOUT_FILE
    key = (str(path), path.stat().st_mtime_ns, encoding)
    # One measurement at a time: a page's evaluation that starts while `prepare_evaluation`
    # measures the same pieces waits for it instead of measuring them again.
    with _REAL_SIDES_LOCK:
        if key in _REAL_SIDES:
            _REAL_SIDES.move_to_end(key)
            return _REAL_SIDES[key]
        side = _RealSide(
            pieces=tuple(heldout),
            figures=real_set_figures(heldout),
            degeneracy=tuple(degeneracy(p, piece_to_tokens(p, encoding)) for p in heldout),
        )
        _REAL_SIDES[key] = side
        while len(_REAL_SIDES) > MAX_CACHED_REAL_SIDES:
            _REAL_SIDES.popitem(last=False)
    return side


def prepare_evaluation(folder: Path, encoding: EncodingConfig) -> None:
    """Do before any click what every evaluation of this model needs first: import MusPy (2-4
    s on a busy 2-core server), build the training notes' index, measure the held-out pieces.
    A folder without its held-out data has nothing to prepare (evaluating it says why)."""
    try:
        load_index(folder)
        _real_side(folder, encoding)
    except (EvaluationError, OSError) as error:  # OSError: the folder went away meanwhile
        log.info("nothing to prepare for %s: %s", Path(folder).name, error)


def clear_real_side_cache() -> None:
    """Forget the held-out figures (benchmarks measure a first evaluation with this)."""
    with _REAL_SIDES_LOCK:
        _REAL_SIDES.clear()


@dataclass(frozen=True)
class _JudgedPiece:
    piece: Piece
    figures: PieceFigures
    originality: Originality
    degeneracy: Degeneracy


def _judge(piece: Piece, index: OriginalityIndex, encoding: EncodingConfig) -> _JudgedPiece:
    return _JudgedPiece(
        piece=piece,
        figures=piece_figures(piece),
        originality=index.query(piece),
        degeneracy=degeneracy(piece, piece_to_tokens(piece, encoding)),
    )


def _model_path(generator: Generator) -> Path:
    if generator.path is None:
        raise EvaluationError(f"{generator.name}: a model folder is needed to evaluate it")
    return generator.path


def evaluate_pieces(
    generator: Generator,
    pieces: Sequence[Piece],
    *,
    generation: dict[str, Any] | None = None,
    on_progress: ProgressCallback[str] | None = None,
) -> EvaluationReport:
    """Judge `pieces` as the music of `generator`'s model (its folder holds the references).

    Pieces with fewer than MIN_NOTES notes are left out and named in `skipped`. `on_progress`
    hears (pieces judged, pieces, "piece i of n") before each piece, then (n, n, SET_STAGE)
    before the set is compared with the real music.

    Raises:
        EvaluationError: the folder lacks its held-out data, or no piece can be judged.
    """
    folder = _model_path(generator)
    check_model_folder(folder)
    if not pieces:
        raise EvaluationError("no pieces to judge (the set is empty)")
    kept, skipped = usable_pieces(pieces)
    if not kept:
        raise EvaluationError(f"no piece has at least {MIN_NOTES} notes: " + "; ".join(skipped))
    index = load_index(folder)
    judged = []
    with one_blas_thread():
        for i, piece in enumerate(kept):
            if on_progress:
                on_progress(i, len(kept), f"piece {i + 1} of {len(kept)}")
            judged.append(_judge(piece, index, generator.encoding))
        if on_progress:
            on_progress(len(kept), len(kept), SET_STAGE)
        return _report(generator, judged, skipped, generation)


def _report(
    generator: Generator,
    judged: Sequence[_JudgedPiece],
    skipped: Sequence[str],
    generation: dict[str, Any] | None,
) -> EvaluationReport:
    real = _real_side(_model_path(generator), generator.encoding)
    kept = [j.piece for j in judged]
    return EvaluationReport(
        model_name=generator.name,
        model=ModelFigures.from_metrics(generator.name, generator.metrics),
        pieces=tuple(kept),
        style=compare_style(
            kept,
            real.pieces,
            real_figures=real.figures,
            generated_figures=[j.figures for j in judged],
        ),
        originality=tuple(j.originality for j in judged),
        degeneracy=tuple(j.degeneracy for j in judged),
        real_degeneracy=real.degeneracy,
        skipped=tuple(skipped),
        generation=dict(generation or {}),
        form=form_figures(kept, real.pieces),
    )


def form_figures(pieces: Sequence[Piece], real: Sequence[Piece]) -> dict[str, dict[int, float]]:
    """The form profiles of `pieces` and of `real` cut to their median length (a 30 s piece
    has room for fewer returns than a whole tune)."""
    if not pieces:
        return {}
    beats = statistics.median(p.length_steps / p.steps_per_quarter for p in pieces)
    return {
        "generated": collection_form_profile(pieces),
        "real": collection_form_profile([cut_to_beats(p, beats) for p in real]),
    }


def evaluate_model(
    generator: Generator,
    *,
    count: int = DEFAULT_COUNT,
    seed: int = FIRST_PIECE_SEED,
    settings: SamplingSettings | None = None,
    on_progress: ProgressCallback[str] | None = None,
) -> EvaluationReport:
    """Generate `count` pieces with the default settings and judge them, in one pass: each
    piece is judged as soon as it is written.

    The model folder is checked before anything is generated. `on_progress` hears (pieces
    done, count, "piece i of count") before each piece is written and judged, then
    (count, count, SET_STAGE) before the set is compared with the real music.

    Raises:
        EvaluationError: the folder lacks its held-out data, or no piece can be judged.
    """
    folder = _model_path(generator)
    check_model_folder(folder)
    _check_count(count)
    settings = settings or evaluation_settings()
    index = load_index(folder)
    judged, skipped = [], []
    with one_blas_thread():
        for i in range(count):
            if on_progress:
                on_progress(i, count, f"piece {i + 1} of {count}")
            piece = _new_piece(generator, settings, seed=seed + i)
            try:
                check_piece(piece)
            except EvaluationError as error:
                skipped.append(str(error))
                continue
            judged.append(_judge(piece, index, generator.encoding))
        if not judged:
            raise EvaluationError(f"no piece has at least {MIN_NOTES} notes: " + "; ".join(skipped))
        if on_progress:
            on_progress(count, count, SET_STAGE)
        generation = {"count": count, "seed": seed, "settings": settings.to_dict()}
        return _report(generator, judged, skipped, generation)


def report_to_dict(report: EvaluationReport) -> dict[str, Any]:
    """Every figure of the report, its headline figures and their plain sentences (JSON-able)."""
    return {
        **report.to_dict(),
        "summary": without_nan(summary_figures(report)),
        "sentences": summary_sentences(report),
    }
