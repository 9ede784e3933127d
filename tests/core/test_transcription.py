"""Audio → notes: basic-pitch's golden output, a round trip through sound, refusals, the CLI."""

from __future__ import annotations

import io
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
    TRANSCRIPTION_PRESETS,
    NoteEvent,
    Transcription,
    TranscriptionParams,
    TranscriptionPreset,
    csv_to_note_events,
    load_model,
    transcribe,
    transcription_to_piece,
    transcription_to_training_midi,
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
VOCADITO_NOTES = FIXTURES / "vocadito_10.note_events.csv"
TIME_ATOL_S = 1e-3
AMPLITUDE_ATOL = 1e-3
ONSET_TOLERANCE_S = 0.05  # mir_eval's default


@pytest.fixture(scope="module")
def model():
    return load_model()


@pytest.fixture(scope="module")
def vocadito(model) -> Transcription:
    return transcribe(VOCADITO, model=model)


@pytest.fixture(scope="module")
def vocadito_mp3() -> bytes:
    audio, rate = sf.read(VOCADITO, dtype="float32")
    return audio_to_bytes(audio, fmt="MP3", rate_hz=rate)


# ---------------------------------------------------------------- golden output


def test_vocadito_reproduces_basic_pitch_golden_notes(vocadito):
    expected = csv_to_note_events(VOCADITO_NOTES.read_text())
    assert len(vocadito.notes) == len(expected) == 28
    got = sorted(vocadito.notes)
    want = sorted(expected)
    assert [n.pitch for n in got] == [n.pitch for n in want]
    np.testing.assert_allclose(
        [n.start_s for n in got], [n.start_s for n in want], atol=TIME_ATOL_S
    )
    np.testing.assert_allclose([n.end_s for n in got], [n.end_s for n in want], atol=TIME_ATOL_S)
    np.testing.assert_allclose(
        [n.amplitude for n in got], [n.amplitude for n in want], atol=AMPLITUDE_ATOL
    )


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


def test_text_named_mp3_is_refused(model):
    with pytest.raises(InvalidAudioError, match=r"^notes\.mp3: .*text file"):
        transcribe(b"these are my notes, not a song\n" * 10, name="notes.mp3", model=model)


def test_zero_byte_file_is_refused(model, tmp_path):
    path = tmp_path / "empty.wav"
    path.write_bytes(b"")
    with pytest.raises(InvalidAudioError, match=r"^empty\.wav: the file is empty"):
        transcribe(path, model=model)
    with pytest.raises(InvalidAudioError, match=r"^empty\.mp3: the file is empty"):
        transcribe(b"", name="empty.mp3", model=model)


def test_truncated_mp3_is_refused(model, vocadito_mp3):
    cut = vocadito_mp3[: len(vocadito_mp3) // 2]
    with pytest.raises(InvalidAudioError, match=r"^cut\.mp3: the file is truncated"):
        transcribe(cut, name="cut.mp3", model=model)
    with pytest.raises(InvalidAudioError, match=r"^stub\.mp3: "):
        transcribe(vocadito_mp3[:300], name="stub.mp3", model=model)


def test_mp3_without_a_length_header_is_decoded_as_far_as_it_goes(model, vocadito_mp3):
    # Without a Xing/Info header the length is only an estimate: no "truncated" verdict.
    assert b"Info" in vocadito_mp3[:4096] or b"Xing" in vocadito_mp3[:4096]
    untagged = vocadito_mp3.replace(b"Info", b"Junk", 1).replace(b"Xing", b"Junk", 1)
    result = transcribe(untagged[: len(untagged) // 2], name="half.mp3", model=model)
    assert result.duration_s > 1.0


def test_undecodable_bytes_are_refused(model):
    noise = np.random.default_rng(0).integers(0, 256, 4000, dtype=np.uint8).tobytes()
    with pytest.raises(InvalidAudioError, match=r"^noise\.ogg: cannot decode"):
        transcribe(noise, name="noise.ogg", model=model)


def test_m4a_without_a_decoder_says_what_is_missing(model):
    noise = np.random.default_rng(1).integers(0, 256, 5000, dtype=np.uint8).tobytes()
    with pytest.raises(InvalidAudioError, match=r"^phone\.m4a: .*(ffmpeg|cannot decode)"):
        transcribe(noise, name="phone.m4a", model=model)


def test_flac_and_ogg_decode(model, vocadito):
    audio, rate = sf.read(VOCADITO, dtype="float32")
    flac = transcribe(audio_to_bytes(audio, fmt="FLAC", rate_hz=rate), name="v.flac", model=model)
    assert flac.notes == vocadito.notes  # lossless: the very same notes
    ogg = transcribe(audio_to_bytes(audio, fmt="OGG", rate_hz=rate), name="v.ogg", model=model)
    assert abs(len(ogg.notes) - len(vocadito.notes)) <= 3


def test_missing_file_is_refused(model, tmp_path):
    with pytest.raises(InvalidAudioError, match=r"^gone\.wav: no such file"):
        transcribe(tmp_path / "gone.wav", model=model)


def test_too_long_audio_is_refused(model, monkeypatch):
    with pytest.raises(InvalidAudioError, match=r"^long\.wav: .*above the 0\.05 min limit"):
        transcribe(VOCADITO.read_bytes(), name="long.wav", model=model, max_duration_s=3.0)
    monkeypatch.setenv("TUNESMITH_MAX_AUDIO_MINUTES", "0.1")
    with pytest.raises(InvalidAudioError, match="TUNESMITH_MAX_AUDIO_MINUTES"):
        transcribe(VOCADITO, model=model)


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
    assert io is not None


@pytest.mark.parametrize("rate_hz", [1, 4_000, 1_000_000])
def test_audio_at_an_absurd_sample_rate_is_refused_before_decoding(model, rate_hz):
    import io

    import numpy as np
    import soundfile as sf

    buffer = io.BytesIO()
    sf.write(buffer, np.zeros(800, dtype="float32"), rate_hz, format="WAV")
    with pytest.raises(InvalidAudioError, match=rf"^odd\.wav: a sample rate of {rate_hz:,} Hz"):
        transcribe(buffer.getvalue(), name="odd.wav", model=model)


def test_the_shipped_model_is_basic_pitch_s_own_and_used_without_the_package(monkeypatch):
    import importlib.util

    from core.transcription import basic_pitch as transcription

    installed = transcription.default_model_path()
    assert installed != transcription.SHIPPED_MODEL_PATH  # the package's file, when installed
    assert transcription.SHIPPED_MODEL_PATH.read_bytes() == installed.read_bytes()
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)  # not installed
    assert transcription.default_model_path() == transcription.SHIPPED_MODEL_PATH
