"""core/evaluation/style_check and its place at the end of a job: a few short pieces of the new
model and of the built-in one, beside the real music, recorded in the model's metrics."""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

from core.evaluation.style_check import STYLE_CHECK_KEY, read_style_check, style_check
from core.generation.generator import Generator
from core.jobs.process import record_style_check
from core.model.bundled import resolve_model_dir
from core.model.model_data import read_heldout


def test_the_check_measures_both_models_and_the_real_music_quickly() -> None:
    model, base = Generator.from_folder("folk-tunes"), Generator.from_folder("base")
    real = read_heldout(model.path)[:20]
    began = time.monotonic()
    first = style_check(model, base, real)
    assert time.monotonic() - began < 20  # a few seconds; generous for a loaded test machine
    assert first == style_check(model, base, real)  # fixed seeds: the same figures
    assert first.pieces == 4 and first.length_s == 15.0 and first.real_pieces == 20
    polyphony = first.figures["polyphony"]
    assert polyphony.real < 1.1  # folk tunes are one line of notes
    assert all(v > 0 for t in first.figures.values() for v in (t.real, t.base, t.model))


def test_a_job_records_the_check_in_the_folder_and_never_fails_for_it(tmp_path: Path) -> None:
    folder = tmp_path / "Mine"
    shutil.copytree(resolve_model_dir("folk-tunes"), folder)
    real = read_heldout(folder)[:10]
    record_style_check(folder, None, real)  # from scratch: beside the bundled base
    check = read_style_check(json.loads((folder / "metrics.json").read_text()))
    assert check is not None and check.base_model == "base" and check.real_pieces == 10

    broken = tmp_path / "Broken"
    shutil.copytree(folder, broken)
    before = json.loads((broken / "metrics.json").read_text())
    before.pop(STYLE_CHECK_KEY)
    (broken / "metrics.json").write_text(json.dumps(before))
    record_style_check(broken, tmp_path / "no such base", real)  # logged and skipped
    assert STYLE_CHECK_KEY not in json.loads((broken / "metrics.json").read_text())
