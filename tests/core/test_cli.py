"""The CLI through `python -m core`, as a user runs it."""

import json
import math
import os
import subprocess
import sys

import pytest

from tests.conftest import REPO


def cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """`python -m core ARGS`; `env`: TUNESMITH_* settings instead of the machine's (the tests'
    data directory is kept)."""
    environ = None
    if env is not None:
        environ = {k: v for k, v in os.environ.items()
                   if not k.startswith("TUNESMITH_") or k == "TUNESMITH_DATA_DIR"}
        environ.update(env)
    return subprocess.run(
        [sys.executable, "-m", "core", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
        env=environ,
    )


def test_help_lists_the_commands():
    out = cli("--help")
    assert out.returncode == 0
    for command in ("dataset", "roundtrip", "transcribe", "train", "generate", "render", "bench"):
        assert command in out.stdout


def test_dataset_json_prints_one_object_and_exports(music_fixture, tmp_path):
    out = cli(
        "dataset",
        "--files",
        str(music_fixture("scale.mid")),
        str(music_fixture("tunes.abc")),
        "--json",
        "--export",
        str(tmp_path / "exp"),
    )
    assert out.returncode == 0, out.stderr
    summary = json.loads(out.stdout)
    assert {"pieces", "tokens", "vocab_size", "heldout_coverage"} <= summary.keys()
    assert summary["pieces"] == 3
    assert sorted(p.name for p in (tmp_path / "exp").iterdir()) == [
        "encoding.json",
        "train.jsonl",
        "valid.jsonl",
        "vocab.json",
    ]


def test_dataset_with_a_bad_file_names_it_and_exits_non_zero(music_fixture):
    out = cli(
        "dataset",
        "--files",
        str(music_fixture("scale.mid")),
        str(music_fixture("truncated.mid")),
        "--json",
    )
    assert out.returncode == 1
    assert json.loads(out.stdout)["pieces"] == 1  # the good file still went through
    errors = [line for line in out.stderr.splitlines() if line.startswith("error:")]
    assert errors == [errors[0]] and "truncated.mid" in errors[0]


def test_dataset_with_only_bad_input_fails(music_fixture):
    out = cli("dataset", "--files", str(music_fixture("empty.mid")))
    assert out.returncode != 0
    assert "empty.mid: the file is empty" in out.stderr


def test_roundtrip_writes_the_same_notes(music_fixture, tmp_path):
    target = tmp_path / "out.mid"
    out = cli("roundtrip", str(music_fixture("scale.mid")), "--out", str(target), "--json")
    assert out.returncode == 0, out.stderr
    figures = json.loads(out.stdout)
    assert figures["exact"] is True and figures["notes_out"] == 10
    assert target.read_bytes().startswith(b"MThd")


@pytest.mark.parametrize("name", ["not_music.mid", "absurd_ticks.mid"])
def test_roundtrip_of_bad_input_is_one_line(music_fixture, tmp_path, name):
    out = cli("roundtrip", str(music_fixture(name)), "--out", str(tmp_path / "x.mid"))
    assert out.returncode == 1
    assert out.stderr.strip().count("\n") == 0 and name in out.stderr
    assert not (tmp_path / "x.mid").exists()


def test_bench_rejects_unknown_names():
    out = cli("bench", "nonsense")
    assert out.returncode != 0 and "unknown benchmark nonsense" in out.stderr


def test_encoding_benchmark_prints_its_figures(monkeypatch):
    from benchmarks import encoding

    monkeypatch.setattr(encoding, "COLD_FILES", 3)
    figures = encoding.run()
    assert figures["files"] == 3
    assert figures["cold_notes_per_s"] > 0 and figures["cached_speedup"] > 1
    assert figures["bach_chorales_heldout_coverage"] >= 0.99
    assert figures["tutorial_scheme_heldout_coverage"] < figures["bach_chorales_heldout_coverage"]


def test_the_quality_benchmark_compares_on_the_music_as_written_too():
    from benchmarks.quality import as_written
    from core.data.datasets import load_dataset
    from core.tokens.config import EncodingConfig

    normalized = load_dataset(["bach-chorales"], config=EncodingConfig(normalize_key=True))
    tokens = sum(len(ids) - 1 for ids in normalized.valid_ids())  # what training counts
    figures = as_written("bach-chorales", {"val_loss": math.log(2.0), "valid_tokens": tokens})
    # the same held-out tokens, moved back to their keys, and ln 12 per piece for the key
    assert figures["tokens_ngram"] == figures["tokens_model"] == tokens
    pieces = len(normalized.valid)
    assert figures["held_out_pieces"] == pieces
    expected = 2.0 * math.exp(pieces * math.log(12) / tokens)
    assert figures["model_perplexity"] == pytest.approx(expected, abs=1e-3)
    assert figures["ratio"] == pytest.approx(expected / figures["ngram_perplexity"], abs=2e-3)
    assert figures["ngram_perplexity"] > 3.0  # as written, the 4-gram is far from 2.0


def test_quality_benchmark_is_opt_in_and_reports_ratios(monkeypatch):
    from benchmarks import quality
    from core.commands import bench

    assert "quality" in bench.available() and "quality" not in bench.default_names()
    for heavy in ("small_data", "load"):  # they train models or drive many browsers
        assert heavy in bench.available() and heavy not in bench.default_names()
    assert not any(name.startswith("_") for name in bench.available())  # shared helpers
    trained = []

    def fake_training(preset):  # the real one trains two full models (hours on a CPU)
        trained.append(preset)
        return {"val_perplexity": 2.0, "baseline_perplexity": 4.0, "epochs_run": 7}

    monkeypatch.setattr(quality, "default_training_metrics", fake_training)
    monkeypatch.setattr(quality, "as_written", lambda preset, metrics: {"ratio": 0.5})
    figures = quality.run()
    assert trained == ["bach-chorales", "folk-tunes"]
    assert figures["folk-tunes_ratio"] == 0.5 and figures["bach-chorales_epochs"] == 7


def test_pace_persistence_tells_pieces_that_keep_their_pace_from_pieces_that_drift():
    from benchmarks.bundled_style import pace_persistence
    from core.music.piece import Note, Piece

    def piece(first_per_beat, second_per_beat, beats=8):
        notes, step = [], 0
        for per_beat in (first_per_beat, second_per_beat):
            for onset in range(beats * per_beat):
                notes.append(Note(step + onset * 4 // per_beat, 60, 4 // per_beat))
            step += beats * 4
        return Piece("p", tuple(notes), 4)

    keeping = [piece(1, 1), piece(2, 2), piece(4, 4), piece(2, 2)]
    swapping = [piece(1, 4), piece(4, 1), piece(1, 4), piece(4, 1)]
    assert pace_persistence(keeping) == pytest.approx(1.0)
    assert pace_persistence(swapping) == pytest.approx(-1.0)
    assert math.isnan(pace_persistence(keeping[:2]))


def test_train_options_override_the_preset_and_refuse_a_shape_when_fine_tuning():
    import argparse

    from core.commands.train import add_arguments, configs_from_args
    from core.training.presets import TRAINING_PRESETS

    parser = argparse.ArgumentParser()
    add_arguments(parser)
    model, training = configs_from_args(parser.parse_args(["--input-dropout", "0.2"]))
    assert training.input_dropout == 0.2
    assert model == TRAINING_PRESETS["thorough"].model
    _, plain = configs_from_args(parser.parse_args([]))
    assert plain == TRAINING_PRESETS["thorough"].training
    with pytest.raises(ValueError, match="from-scratch"):
        configs_from_args(parser.parse_args(["--units", "64"]))


def test_bench_writes_each_benchmark_s_figures_dated(tmp_path):
    import json

    from core.commands.bench import save_results

    path = save_results(tmp_path / "results", "encoding", {"files": 3, "ratio": 1.5})
    record = json.loads(path.read_text())
    assert path.name == "encoding.json" and record["benchmark"] == "encoding"
    assert record["figures"] == {"files": 3, "ratio": 1.5}
    assert record["measured_at"][:2] == "20" and "CPUs" in record["machine"]


def test_the_commands_offer_every_transcription_preset():
    from core.commands.transcribe import PRESET_NAMES
    from core.transcription.params import TranscriptionPreset

    assert tuple(p.value for p in TranscriptionPreset) == PRESET_NAMES


def test_check_settings_says_all_is_well_and_exits_0():
    out = cli("check-settings", env={"TUNESMITH_MAX_JOBS": "2", "TUNESMITH_MAX_CACHE_MB": ""})
    assert out.returncode == 0, out.stderr
    assert out.stderr == ""
    assert out.stdout.startswith("every setting can be used (")


def test_an_unusable_setting_stops_every_command_with_one_line_each_and_status_2(tmp_path):
    env = {"TUNESMITH_MAX_JOBS": "nan", "TUNESMITH_DATA_DIR": "", "TUNESMITH_MAX_JOB": "3"}
    for args in (["check-settings"], ["clean", "--json"], ["render", "x.mid", "--out", "x.wav"]):
        out = cli(*args, env=env)
        assert out.returncode == 2, (args, out.stderr)
        assert out.stdout == "" and "Traceback" not in out.stderr
        assert out.stderr.splitlines() == [
            "warning: TUNESMITH_MAX_JOB is not a Tunesmith setting, so it changes nothing; did you "
            "mean TUNESMITH_MAX_JOBS?",
            "error: TUNESMITH_MAX_JOBS='nan' cannot be used (trainings that run at once on the "
            "server): it must be a whole number from 1 to 64.",
            "error: TUNESMITH_DATA_DIR='' cannot be used (where workspaces, uploads, models, jobs "
            "and caches live): it must be an absolute path to a folder the server may write (an "
            "empty value would mean the folder the server was started in).",
        ]


def test_an_unknown_setting_is_a_warning_and_the_command_goes_on():
    out = cli("check-settings", env={"TUNESMITH_COLOUR": "red"})
    assert out.returncode == 0
    assert out.stderr == (
        "warning: TUNESMITH_COLOUR is not a Tunesmith setting, so it changes nothing.\n"
    )


def test_run_sh_checks_the_settings_before_it_starts_the_server():
    script = (REPO / "run.sh").read_text()
    app = script[script.index("  app)"):script.index(";;", script.index("  app)"))]
    assert app.index("-m core check-settings") < app.index("exec .venv/bin/python -m streamlit")


def test_the_audio_benchmarks_count_a_repeated_note_heard_as_one_long_note():
    from benchmarks.audio_to_training import missed_notes

    written = [(0.0, 1.0, 60), (1.0, 2.0, 60), (2.0, 3.0, 62), (3.0, 4.0, 64)]
    merged = [(0.5, 2.5, 60), (2.5, 3.5, 62)]  # half a beat late: the best shift undoes it
    assert missed_notes(written, merged, window=0.1) == (2, 1)  # the repeat, and the E
    assert missed_notes(written, written, window=0.1) == (0, 0)
    assert missed_notes(written, [], window=0.1) == (4, 1)

