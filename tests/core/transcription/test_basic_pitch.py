"""Audio → notes: the whole chain (decoding, the model, note creation), a round trip through
sound, refusals reaching the caller, the CLI. Decoding and note creation on their own:
tests/core/audio/test_decoding.py and tests/core/transcription/test_note_creation.py."""

from __future__ import annotations

import json
import sys
import tracemalloc
from pathlib import Path

import mir_eval
import numpy as np
import pytest
import soundfile as sf

from core.cli import main
from core.errors import InvalidAudioError, JobCancelled
from core.music.files import read_music
from core.transcription.basic_pitch import (
    Transcription,
    transcribe,
    transcription_to_dataset_midi,
    transcription_to_piece,
    transcription_to_training_midi,
)
from core.transcription.events import NoteEvent, csv_to_note_events
from core.transcription.inference import activations_to_notes, audio_to_activations
from core.transcription.model import load_model
from core.transcription.params import (
    TRANSCRIPTION_PRESETS,
    TranscriptionParams,
    TranscriptionPreset,
)
from tests.conftest import FIXTURES
from tests.core.transcription_audio import (
    audio_to_bytes,
    corpus_tune,
    reference_notes,
    render_piece,
    silence_wav,
)

VOCADITO = FIXTURES / "vocadito_10.wav"
ONSET_TOLERANCE_S = 0.05  # mir_eval's default


@pytest.fixture(scope="module")
def model():
    return load_model()


@pytest.fixture(scope="module")
def vocadito(model) -> Transcription:
    return transcribe(VOCADITO, model=model)


# ---------------------------------------------------------------- golden output


def test_transcribing_is_the_model_then_note_creation(model, vocadito):
    """basic-pitch's golden notes are checked on the activations (test_note_creation.py); the
    whole chain gives exactly the notes of those activations."""
    activations = audio_to_activations(VOCADITO, model=model)
    assert vocadito.notes == tuple(activations_to_notes(activations, TranscriptionParams()))
    assert len(vocadito.notes) == 28
    assert vocadito.duration_s == pytest.approx(activations.duration_s)


def test_bytes_and_path_give_the_same_notes(model, vocadito):
    from_bytes = transcribe(VOCADITO.read_bytes(), name="take.wav", model=model)
    assert from_bytes.notes == vocadito.notes
    assert from_bytes.name == "take.wav"


def test_midi_and_csv_outputs(vocadito):
    midi = vocadito.to_midi()
    assert len(midi.instruments) == 1
    assert len(midi.instruments[0].notes) == 28
    assert csv_to_note_events(vocadito.to_csv()) == list(vocadito.notes)
    assert read_music(vocadito.to_midi_bytes(), name="vocadito.mid")[0].notes


def test_params_round_trip_and_validation():
    params = TranscriptionParams(onset_threshold=0.6, min_frequency_hz=80.0, melodia_trick=False)
    assert TranscriptionParams.from_dict(params.to_dict()) == params
    assert TranscriptionParams.from_dict(json.loads(json.dumps(params.to_dict()))) == params
    with pytest.raises(ValueError, match="onset_threshold"):
        TranscriptionParams(onset_threshold=1.5)
    with pytest.raises(ValueError, match="below"):
        TranscriptionParams(min_frequency_hz=500.0, max_frequency_hz=100.0)
    assert set(TRANSCRIPTION_PRESETS) == set(TranscriptionPreset)


def test_progress_moves_and_reaches_the_total(model):
    calls: list[tuple[int, int]] = []
    transcribe(
        VOCADITO,
        model=model,
        batch_windows=1,
        on_progress=lambda done, total, info: calls.append((done, total)),
    )
    assert len(calls) >= 3
    dones = [d for d, _ in calls]
    assert dones == sorted(dones) and dones[0] < dones[-1]
    assert calls[-1][0] == calls[-1][1]


def test_batching_does_not_change_notes(model, vocadito):
    assert transcribe(VOCADITO, model=model, batch_windows=3).notes == vocadito.notes


def test_progress_callback_can_cancel(model):
    def cancel(done: int, total: int, info: str) -> None:
        raise JobCancelled("stop")

    with pytest.raises(JobCancelled):
        transcribe(VOCADITO, model=model, batch_windows=1, on_progress=cancel)


class _SilentModel:
    """Stands in for Basic Pitch where only the streaming is under test."""

    workers = 1

    def predict(self, windows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        zeros = np.zeros((len(windows), 172, 88), np.float32)
        return zeros, zeros


@pytest.mark.slow
def test_ten_minute_file_streams_in_flat_memory(tmp_path):
    source, rate = sf.read(VOCADITO, dtype="float32")
    path = tmp_path / "long.wav"
    minutes = 10
    with sf.SoundFile(path, "w", rate, 1, subtype="PCM_16") as handle:
        for _ in range(int(np.ceil(minutes * 60 * rate / len(source)))):
            handle.write(source)
    calls: list[tuple[int, int]] = []
    tracemalloc.start()
    try:
        result = transcribe(
            path,
            model=_SilentModel(),
            on_progress=lambda done, total, info: calls.append((done, total)),
        )
        _, peak_bytes = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert result.duration_s >= minutes * 60
    # The whole file as float32 at 44.1 kHz would be 106 MB, as float64 212 MB.
    assert peak_bytes < 160e6, f"peak {peak_bytes / 1e6:.0f} MB"
    assert len(calls) > 40 and calls[-1][0] == calls[-1][1]
    assert [d for d, _ in calls] == sorted(d for d, _ in calls)


# ---------------------------------------------------------------- clean-up for training


def test_training_midi_is_quantized_one_instrument_and_readable(vocadito):
    data = transcription_to_training_midi(vocadito, tempo_bpm=90.0)
    pieces = read_music(data, name="vocadito.mid")
    assert len(pieces) == 1
    assert pieces[0].tempo_bpm == pytest.approx(90.0)
    assert pieces[0].notes[0].onset_step == 0
    piece = transcription_to_piece(vocadito, tempo_bpm=90.0)
    assert pieces[0].notes == piece.notes


def test_dataset_midi_keeps_the_heard_times_so_any_grid_quantizes_it_once():
    import io

    import pretty_midi

    from core.music.piece import GRIDS

    tempo_bpm, origin_s = 90.0, 1.0
    quarter_s = 60.0 / tempo_bpm
    # Eighth triplets, the second and third of each sung 20 ms late; no time lies half-way
    # between two steps of any grid, where rounding a tick could tip it either way. Staccato,
    # so that, though one line, each note keeps its length (more than a sixteenth's gap).
    notes = tuple(
        NoteEvent(start, start + 0.02 * quarter_s, 60 + i % 5, 0.7)
        for i in range(12)
        for start in [origin_s + i * quarter_s / 3 + (0.02 if i % 3 else 0.0)]
    )
    result = Transcription("triplets.wav", notes, 6.0, TranscriptionParams())
    data = transcription_to_dataset_midi(result, tempo_bpm=tempo_bpm)
    [instrument] = pretty_midi.PrettyMIDI(io.BytesIO(data)).instruments
    tick_s = quarter_s / 480
    np.testing.assert_allclose(
        [n.start for n in instrument.notes], [n.start_s - origin_s for n in notes], atol=tick_s
    )
    np.testing.assert_allclose(
        [n.end for n in instrument.notes], [n.end_s - origin_s for n in notes], atol=tick_s
    )
    for grid in GRIDS.values():
        [piece] = read_music(data, name="triplets.mid", steps_per_quarter=grid)
        once = transcription_to_piece(result, tempo_bpm=tempo_bpm, steps_per_quarter=grid)
        assert piece.notes == once.notes and piece.tempo_bpm == pytest.approx(tempo_bpm)
    [triplets] = read_music(data, name="triplets.mid", steps_per_quarter=GRIDS["eighth triplet"])
    assert [n.onset_step for n in triplets.notes] == list(range(12))


def test_tempo_is_estimated_when_not_given():
    # An onset every half second: 120 BPM.
    notes = tuple(NoteEvent(0.5 * i, 0.5 * i + 0.3, 60 + i % 5, 0.7) for i in range(40))
    result = Transcription("pulse.wav", notes, 20.0, TranscriptionParams())
    assert result.estimated_tempo_bpm() == pytest.approx(120.0, rel=0.03)
    assert transcription_to_piece(result).tempo_bpm == pytest.approx(120.0, rel=0.03)


# ---------------------------------------------------------------- round trip through sound


@pytest.mark.slow
def test_rendered_flute_melody_as_mp3_round_trips(model, tmp_path):
    piece = corpus_tune(0, max_seconds=20.0)
    audio, midi = render_piece(piece)
    path = tmp_path / "flute_tune.mp3"
    path.write_bytes(audio_to_bytes(audio, fmt="MP3"))
    result = transcribe(path, model=model, params=TRANSCRIPTION_PRESETS[TranscriptionPreset.OTHER])
    ref_intervals, ref_pitches = reference_notes(midi)
    est_intervals = np.array([[n.start_s, n.end_s] for n in result.notes])
    est_pitches = np.array([440.0 * 2 ** ((n.pitch - 69) / 12) for n in result.notes])
    _, _, onset_f = mir_eval.transcription.onset_precision_recall_f1(
        ref_intervals, est_intervals, onset_tolerance=ONSET_TOLERANCE_S
    )
    _, _, note_f, _ = mir_eval.transcription.precision_recall_f1_overlap(
        ref_intervals, ref_pitches, est_intervals, est_pitches, offset_ratio=None
    )
    print(f"onset F {onset_f:.3f}, onset+pitch F {note_f:.3f}", file=sys.stderr)
    assert onset_f >= 0.8
    assert note_f >= 0.7


# ---------------------------------------------------------------- refusals


def test_a_decoding_refusal_reaches_the_caller_by_name(model):
    # The refusals themselves are core/audio/decoding's (test_audio_decoding.py).
    with pytest.raises(InvalidAudioError, match=r"^notes\.mp3: .*text file"):
        transcribe(b"these are my notes, not a song\n" * 10, name="notes.mp3", model=model)


def test_flac_and_ogg_decode(model, vocadito):
    audio, rate = sf.read(VOCADITO, dtype="float32")
    flac = transcribe(audio_to_bytes(audio, fmt="FLAC", rate_hz=rate), name="v.flac", model=model)
    assert flac.notes == vocadito.notes  # lossless: the very same notes
    ogg = transcribe(audio_to_bytes(audio, fmt="OGG", rate_hz=rate), name="v.ogg", model=model)
    assert abs(len(ogg.notes) - len(vocadito.notes)) <= 3


def test_silence_gives_no_notes_and_a_clear_refusal_to_clean(model):
    result = transcribe(silence_wav(3.0), name="quiet.wav", model=model)
    assert result.notes == ()
    assert result.duration_s == pytest.approx(3.0, abs=0.01)
    with pytest.raises(InvalidAudioError, match=r"^quiet\.wav: no notes found"):
        transcription_to_training_midi(result)


def test_invalid_audio_error_is_a_value_error():
    assert issubclass(InvalidAudioError, ValueError)


# ---------------------------------------------------------------- CLI


@pytest.fixture
def cli_inputs(tmp_path) -> tuple[Path, Path, Path]:
    good = tmp_path / "in" / "song.wav"
    good.parent.mkdir()
    good.write_bytes(VOCADITO.read_bytes())
    bad = tmp_path / "in" / "letter.mp3"
    bad.write_text("Dear friend,\nthis is not music.\n")
    return good, bad, tmp_path / "out"


def test_cli_writes_good_files_reports_bad_ones_and_fails(cli_inputs, capsys):
    good, bad, out = cli_inputs
    code = main(["transcribe", str(good), str(bad), "--out-dir", str(out)])
    captured = capsys.readouterr()
    assert code == 1
    assert "letter.mp3:" in captured.err and "text file" in captured.err
    assert "song.wav: 28 notes" in captured.out
    assert (out / "song.mid").exists()
    assert len(csv_to_note_events((out / "song.csv").read_text())) == 28
    assert not (out / "letter.mid").exists()


def test_cli_json_is_one_object_and_succeeds(cli_inputs, capsys):
    good, _, out = cli_inputs
    code = main(
        [
            "transcribe",
            str(good),
            "--out-dir",
            str(out),
            "--json",
            "--quantize",
            "--tempo",
            "100",
            "--preset",
            "voice",
            "--no-melodia",
        ]
    )
    captured = capsys.readouterr()
    assert code == 0
    payload = json.loads(captured.out)
    assert captured.out.count("\n") == 1
    assert payload["errors"] == []
    [row] = payload["files"]
    assert row["file"] == "song.wav" and row["notes"] > 0 and row["tempo_bpm"] == 100.0
    assert payload["params"]["melodia_trick"] is False
    piece = read_music(Path(row["midi"]), name="song.mid")[0]
    assert piece.tempo_bpm == pytest.approx(100.0)


def test_cli_json_reports_errors(cli_inputs, capsys):
    _, bad, out = cli_inputs
    code = main(["transcribe", str(bad), "--out-dir", str(out), "--json"])
    payload = json.loads(capsys.readouterr().out)
    assert code == 1
    assert payload["files"] == []
    assert payload["errors"][0]["file"] == "letter.mp3"


def test_cli_rejects_bad_parameters(cli_inputs, capsys):
    good, _, out = cli_inputs
    with pytest.raises(SystemExit) as refused:
        main(["transcribe", str(good), "--out-dir", str(out), "--onset-threshold", "3"])
    assert refused.value.code == 2
    assert "--onset-threshold" in capsys.readouterr().err
    bad_band = ["--min-freq-hz", "500", "--max-freq-hz", "100"]  # each in range, not together
    assert main(["transcribe", str(good), "--out-dir", str(out), *bad_band]) == 2
    assert "min_frequency_hz" in capsys.readouterr().err


def test_soundfile_mp3_writer_is_available():
    # The round-trip test and the benchmark write MP3 with libsndfile (>= 1.1).
    assert "MP3" in sf.available_formats()


def test_the_shipped_model_is_basic_pitch_s_own_and_used_without_the_package(monkeypatch):
    import importlib.util

    from core.transcription import model as transcription

    installed = transcription.default_model_path()
    assert installed != transcription.SHIPPED_MODEL_PATH  # the package's file, when installed
    assert transcription.SHIPPED_MODEL_PATH.read_bytes() == installed.read_bytes()
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)  # not installed
    assert transcription.default_model_path() == transcription.SHIPPED_MODEL_PATH
