"""`python -m core evaluate` in a subprocess, as a user runs it, on the bundled model."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from core.generation.generator import DEFAULT_MODEL_DIR
from core.model.model_data import HELDOUT_FILE
from core.music.midi import midi_to_bytes, piece_to_midi
from core.music.piece import Note, Piece
from tests.core.test_cli import cli

AREAS = {"model", "style", "originality", "degeneracy", "form"}




def _no_constant(name: str) -> Any:
    raise ValueError(f"not strict JSON: {name}")


def strict_json(stdout: str) -> dict[str, Any]:
    """Exactly one JSON object, without NaN or Infinity."""
    assert stdout.endswith("\n") and stdout.count("\n") == 1, stdout[-500:]
    data = json.loads(stdout, parse_constant=_no_constant)
    assert isinstance(data, dict)
    return data


@pytest.fixture(scope="module")
def three_pieces() -> tuple[subprocess.CompletedProcess, subprocess.CompletedProcess]:
    args = ("evaluate", "--model", "default", "--count", "3", "--seed", "7", "--json")
    return cli(*args), cli(*args)


def test_json_report_of_three_generated_pieces(three_pieces) -> None:
    out, again = three_pieces
    assert out.returncode == 0, out.stderr
    report = strict_json(out.stdout)
    metrics = json.loads((DEFAULT_MODEL_DIR / "metrics.json").read_text())
    model = report["model"]
    assert model["val_perplexity"] == metrics["val_perplexity"]
    assert model["baseline_perplexity"] == metrics["baseline_perplexity"]
    assert model["perplexity_ratio"] == pytest.approx(
        metrics["val_perplexity"] / metrics["baseline_perplexity"]
    )
    summary = report["summary"]
    assert summary["pieces"] == 3
    assert summary["model"]["val_perplexity"] == metrics["val_perplexity"]
    assert summary["model"]["baseline_perplexity"] == metrics["baseline_perplexity"]
    names = ["seed 7", "seed 8", "seed 9"]
    assert [o["name"] for o in report["originality"]] == names
    assert [d["name"] for d in report["degeneracy"]] == names
    assert [p["name"] for p in report["style"]["per_piece"]] == names
    assert report["style"]["generated_pieces"] == 3 and report["style"]["real_pieces"] >= 4
    assert set(report["style"]["overlaps"]) and not report["style"]["note"]
    assert report["generation"]["count"] == 3 and report["generation"]["seed"] == 7
    assert {"style", "originality", "degeneracy"} <= summary.keys()
    assert set(report["sentences"]) == AREAS
    assert all(isinstance(s, str) and s for s in report["sentences"].values())
    assert f"{metrics['val_perplexity']:.2f}" in report["sentences"]["model"]
    # the same seed gives the same report
    assert again.returncode == 0, again.stderr
    assert again.stdout == out.stdout


def test_text_report_with_progress_on_stderr() -> None:
    out = cli("evaluate", "--model", "default", "--count", "2", "--seed", "3")
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith(f"Evaluation of {DEFAULT_MODEL_DIR.name} on 2 piece(s)")
    for area in AREAS:
        assert f"- {area}: " in out.stdout
    assert "seed 3" in out.stdout and "seed 4" in out.stdout
    assert "[2/2]" in out.stderr


@pytest.fixture(scope="module")
def generated_midi(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    folder = tmp_path_factory.mktemp("generated")
    paths = []
    for seed in (11, 12):
        path = folder / f"tune{seed}.mid"
        out = cli(
            "generate",
            "--model",
            "default",
            "--seconds",
            "10",
            "--seed",
            str(seed),
            "--out",
            str(path),
        )
        assert out.returncode == 0, out.stderr
        paths.append(path)
    return paths


def test_generated_files_with_a_broken_one(generated_midi: list[Path], tmp_path: Path) -> None:
    broken = tmp_path / "x.mid"
    broken.write_bytes(b"not midi")
    files = [str(p) for p in generated_midi] + [str(broken)]
    out = cli("evaluate", "--model", "default", "--generated", *files, "--json")
    assert out.returncode == 0, out.stderr
    assert "x.mid" in out.stderr
    assert "tune11" not in out.stderr and "tune12" not in out.stderr
    report = strict_json(out.stdout)
    assert report["summary"]["pieces"] == 2
    assert len(report["originality"]) == len(report["degeneracy"]) == 2
    assert len(report["style"]["per_piece"]) == 2
    named = " ".join(o["name"] for o in report["originality"])
    assert "tune11" in named and "tune12" in named


def test_a_file_too_short_to_judge_is_named(tmp_path: Path) -> None:
    short = tmp_path / "short.mid"
    notes = tuple(Note(4 * i, 60 + i, 4) for i in range(5))
    short.write_bytes(midi_to_bytes(piece_to_midi(Piece("five notes", notes))))
    out = cli("evaluate", "--model", "default", "--generated", str(short), "--json")
    assert out.returncode != 0
    assert out.stdout == ""
    assert "short: 5 note(s)" in out.stderr and "at least 8" in out.stderr  # the file's name


def test_a_model_without_heldout_data_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "old model"
    shutil.copytree(DEFAULT_MODEL_DIR, folder)
    (folder / HELDOUT_FILE).unlink()
    out = cli("evaluate", "--model", str(folder), "--count", "2", "--json")
    assert out.returncode == 1
    assert out.stdout == ""
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1, out.stderr
    assert "old model" in lines[0] and "held-out" in lines[0]


def test_count_zero_is_refused() -> None:
    out = cli("evaluate", "--model", "default", "--count", "0")
    assert out.returncode != 0
    assert out.stdout == ""
    assert "error: argument --count: must be a whole number from 1 to 100, got 0" in out.stderr
