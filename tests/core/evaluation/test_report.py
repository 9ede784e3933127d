"""core/evaluation/report: judging a model's music, and what is left out of the judging.

Grid: 4 steps per quarter note, a bar is 16 steps (4/4). A note is Note(onset, pitch, duration).
"""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import numpy as np
import pytest

from core.errors import EvaluationError
from core.evaluation.report import (
    SET_STAGE,
    evaluate_model,
    evaluate_pieces,
    generate_pieces,
    piece_without_primer,
    prepare_evaluation,
    report_to_dict,
)
from core.evaluation.report import usable_pieces as usable
from core.generation.generator import DEFAULT_MODEL_DIR, Generator
from core.generation.primers import Primer
from core.generation.settings import SamplingSettings
from core.model.model_data import HELDOUT_FILE
from core.music.piece import Piece
from core.tokens.scheme import tokens_to_piece
from tests.core._evaluation_fixtures import piece, real_pieces_in_c_major


@pytest.fixture(scope="module")
def real_pieces() -> list[Piece]:
    return real_pieces_in_c_major()


@pytest.fixture(scope="module")
def default_generator() -> Generator:
    return Generator.from_folder("default")


def test_a_model_without_heldout_data_is_refused_before_judging(
    tmp_path: Path, real_pieces: list[Piece], monkeypatch, default_generator: Generator
) -> None:
    folder = tmp_path / "old model"
    shutil.copytree(DEFAULT_MODEL_DIR, folder)
    (folder / HELDOUT_FILE).unlink()
    generator = Generator.from_folder(folder)

    def never(*args, **kwargs):
        raise AssertionError("judged or generated before the folder was checked")

    monkeypatch.setattr("core.evaluation.report.compare_style", never)
    monkeypatch.setattr(generator, "generate", never)
    with pytest.raises(EvaluationError, match="old model: no held-out pieces"):
        evaluate_pieces(generator, real_pieces)
    with pytest.raises(EvaluationError, match="old model: no held-out pieces"):
        evaluate_model(generator, count=2)


def test_piece_without_primer_drops_exactly_the_primer(default_generator: Generator) -> None:
    g = default_generator
    settings = SamplingSettings(length_tokens=40)
    # A primer ending on an open chord (C3 C4, then E3 G3): the model goes on adding higher
    # notes to that last chord, at the primer's last onset.
    mine = Primer(("P48", "D4", "P60", "D4", "T4", "P52", "D4", "P55", "D4"), name="mine")
    excerpt = g.excerpt_primer(np.random.default_rng(3))
    assert excerpt is not None
    for primer in (mine, excerpt):
        result = g.generate(settings, seed=1, primer=primer)
        primer_notes = tokens_to_piece(primer.tokens, g.encoding).notes
        assert len(primer_notes) == sum(t.startswith("D") for t in primer.tokens)
        ordered = sorted(result.piece.notes)
        assert tuple(ordered[: len(primer_notes)]) == primer_notes
        stripped = piece_without_primer(result)
        assert stripped.notes == tuple(ordered[len(primer_notes) :])
        assert len(stripped.notes) == len(result.piece.notes) - len(primer_notes) > 0
    # the hand-made primer really was continued inside its last chord
    result = g.generate(settings, seed=1, primer=mine)
    assert any(n.onset_step == 4 for n in piece_without_primer(result).notes)
    plain = g.generate(settings, seed=1)
    assert piece_without_primer(plain) == plain.piece


def test_pieces_too_short_to_judge_are_left_out_by_name(real_pieces: list[Piece]) -> None:
    five = piece("five note tune", [(4 * i, 60 + i, 4) for i in range(5)])
    kept, skipped = usable([real_pieces[0], five, real_pieces[1]])
    assert kept == [real_pieces[0], real_pieces[1]]
    assert len(skipped) == 1 and skipped[0].startswith("five note tune: 5 note(s)")


SHORT = SamplingSettings(length_tokens=60)  # about 20 notes: enough to judge, quick to write


def test_progress_is_said_piece_by_piece_in_order_then_the_set(
    default_generator: Generator,
) -> None:
    heard: list[tuple[int, int, str]] = []
    report = evaluate_model(default_generator, count=20, seed=1, settings=SHORT,
                            on_progress=lambda done, total, info: heard.append((done, total, info)))
    # before each piece is written and judged: "piece 1 of 20" ... "piece 20 of 20"
    assert heard[:-1] == [(i, 20, f"piece {i + 1} of 20") for i in range(20)]
    assert heard[-1] == (20, 20, SET_STAGE)
    assert len(report.pieces) == 20
    judged: list[tuple[int, int, str]] = []
    evaluate_pieces(default_generator, report.pieces[:3],
                    on_progress=lambda done, total, info: judged.append((done, total, info)))
    assert judged == [(0, 3, "piece 1 of 3"), (1, 3, "piece 2 of 3"), (2, 3, "piece 3 of 3"),
                      (3, 3, SET_STAGE)]


def test_writing_and_judging_in_one_pass_gives_the_report_of_the_pieces(
    default_generator: Generator,
) -> None:
    one_pass = evaluate_model(default_generator, count=4, seed=7, settings=SHORT)
    pieces = generate_pieces(default_generator, count=4, seed=7, settings=SHORT)
    apart = evaluate_pieces(default_generator, pieces, generation=one_pass.generation)
    assert report_to_dict(one_pass) == report_to_dict(apart)


def test_the_held_out_figures_are_measured_once_per_version_of_the_folder(
    tmp_path: Path, monkeypatch, default_generator: Generator
) -> None:
    import core.evaluation.report as report_module

    folder = tmp_path / "mine"
    shutil.copytree(DEFAULT_MODEL_DIR, folder)
    generator = Generator.from_folder(folder)
    measured: list[int] = []
    real = report_module.real_set_figures

    def counted(pieces):
        measured.append(len(pieces))
        return real(pieces)

    monkeypatch.setattr(report_module, "real_set_figures", counted)
    pieces = generate_pieces(default_generator, count=2, seed=1, settings=SHORT)
    first = evaluate_pieces(generator, pieces)
    evaluate_pieces(generator, pieces)
    assert len(measured) == 1
    heldout = folder / HELDOUT_FILE
    heldout.write_text(heldout.read_text())  # a new version of the file: measured again
    os.utime(heldout, ns=(time.time_ns(), time.time_ns() + 10**9))
    again = evaluate_pieces(generator, pieces)
    assert len(measured) == 2 and report_to_dict(again) == report_to_dict(first)


def test_an_evaluation_prepared_beforehand_measures_nothing_twice(
    tmp_path: Path, monkeypatch, default_generator: Generator
) -> None:
    import core.evaluation.report as report_module

    folder = tmp_path / "mine"
    shutil.copytree(DEFAULT_MODEL_DIR, folder)
    generator = Generator.from_folder(folder)
    measured: list[int] = []
    real = report_module.real_set_figures
    monkeypatch.setattr(report_module, "real_set_figures",
                        lambda pieces: measured.append(len(pieces)) or real(pieces))
    prepare_evaluation(folder, generator.encoding)
    assert len(measured) == 1
    evaluate_model(generator, count=2, seed=1, settings=SHORT)
    assert len(measured) == 1
    (folder / HELDOUT_FILE).unlink()
    prepare_evaluation(folder, generator.encoding)  # nothing to prepare: no error either
