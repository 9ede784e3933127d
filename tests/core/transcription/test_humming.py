"""A recording → one clean tune: the sung fixture, the clean-up, refusals, the continuation."""

from __future__ import annotations

import contextlib
import csv
import importlib.util
import io
import itertools
import re

import mir_eval
import numpy as np
import pytest
import soundfile as sf

from core.errors import InvalidAudioError
from core.generation.generator import Generator
from core.generation.primers import piece_to_primer
from core.generation.settings import CREATIVITY_LEVELS, DEFAULT_CREATIVITY, creativity_to_settings
from core.music.piece import Note
from core.transcription.events import NoteEvent
from core.transcription.humming import (
    MIN_PITCHED_SHARE,
    MIN_TUNE_NOTES,
    HeardTune,
    fit_tempo_bpm,
    melody_to_piece,
    notes_to_melody,
    recording_to_heard_tune,
)
from core.transcription.model import load_model
from tests.conftest import FIXTURES, REPO

HUMMED = FIXTURES / "hummed_tune.wav"
HUMMED_NOTES = FIXTURES / "hummed_tune.notes.csv"
# What scripts/make_fixtures.py sings (HUM_TEMPO_BPM, HUM_KEY).
WRITTEN_TEMPO_BPM = 100.0
WRITTEN_KEY = "D major"
RATE_HZ = 48_000
ONSET_TOLERANCE_S = 0.1  # a singer's onsets are soft: mir_eval's 50 ms is for plucked notes
MIN_F_MEASURE = 0.9
TEMPO_TOLERANCE = 0.03
NAME = "take 1"
ADVICE = re.compile(r"hum|record again|microphone|choose")


@pytest.fixture(scope="module")
def model():
    return load_model()


@pytest.fixture(scope="module")
def heard(model) -> HeardTune:
    return recording_to_heard_tune(HUMMED.read_bytes(), model=model, name="hummed_tune.wav")


def written_notes() -> list[tuple[float, float, int]]:
    with HUMMED_NOTES.open() as handle:
        return [
            (float(r["onset_s"]), float(r["duration_s"]), int(r["pitch_midi"]))
            for r in csv.DictReader(handle)
        ]


def wav_bytes(audio: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    sf.write(buffer, np.clip(audio, -1, 1), RATE_HZ, format="WAV", subtype="PCM_16")
    return buffer.getvalue()


def event(start_s: float, end_s: float, pitch: int, amplitude: float = 0.8) -> NoteEvent:
    return NoteEvent(start_s, end_s, pitch, amplitude)


# ---------------------------------------------------------------- the sung fixture


def test_fixture_is_what_the_script_makes():
    spec = importlib.util.spec_from_file_location(
        "make_fixtures", REPO / "scripts/make_fixtures.py"
    )
    assert spec and spec.loader
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    wav, notes = script.hummed_tune()
    assert script.notes_to_csv(notes) == HUMMED_NOTES.read_bytes()
    checked_in, rate = sf.read(HUMMED, dtype="int16")
    made, _ = sf.read(io.BytesIO(wav), dtype="int16")
    assert rate == RATE_HZ and len(made) == len(checked_in)
    # Bit for bit on the machine that made it; one step of rounding elsewhere (libm's sin).
    assert np.max(np.abs(made.astype(int) - checked_in.astype(int))) <= 1
    assert HUMMED.stat().st_size < 1_000_000


def test_fixture_becomes_the_written_tune(heard):
    written = written_notes()
    melody = heard.melody
    # A tune hummed an octave lower or higher is the same tune: move the whole line by the
    # octaves that bring its median pitch nearest the written one's; each note must then match.
    octaves = round(
        (np.median([p for *_, p in written]) - np.median([n.pitch for n in melody])) / 12
    )
    reference_hz = np.array([440 * 2 ** ((p - 69) / 12) for *_, p in written])
    estimate_hz = np.array([440 * 2 ** ((n.pitch + 12 * octaves - 69) / 12) for n in melody])
    _, _, f_measure, _ = mir_eval.transcription.precision_recall_f1_overlap(
        np.array([[onset, onset + duration] for onset, duration, _ in written]),
        reference_hz,
        np.array([[n.start_s, n.end_s] for n in melody]),
        estimate_hz,
        onset_tolerance=ONSET_TOLERANCE_S,
        offset_ratio=None,
    )
    assert f_measure >= MIN_F_MEASURE
    assert heard.key == WRITTEN_KEY
    assert heard.pitched_share > 2 * MIN_PITCHED_SHARE


def test_fixture_tempo_and_grid(heard):
    ratio = heard.tempo_bpm / WRITTEN_TEMPO_BPM
    multiple = min((0.5, 1.0, 2.0), key=lambda m: abs(np.log(ratio / m)))
    assert abs(ratio / multiple - 1) <= TEMPO_TOLERANCE
    assert heard.tempo_estimated
    piece = heard.piece
    assert piece.notes[0].onset_step == 0 and piece.steps_per_quarter == 4
    # At the written tempo every sung onset falls on its written 16th.
    first_s = written_notes()[0][0]
    steps_per_s = WRITTEN_TEMPO_BPM * multiple / 60 * piece.steps_per_quarter
    want = [round((onset - first_s) * steps_per_s) for onset, _, _ in written_notes()]
    got = [n.onset_step for n in piece.notes]
    assert len(got) == len(want)
    assert np.mean(np.array(got) == np.array(want)) >= 0.9


def test_tune_is_one_line(heard):
    notes = heard.piece.notes
    assert len(notes) >= MIN_TUNE_NOTES
    for before, after in itertools.pairwise(notes):
        assert before.onset_step < after.onset_step
        assert before.end_step <= after.onset_step
    for before, after in zip(heard.melody, heard.melody[1:], strict=False):
        assert before.end_s <= after.start_s


def test_bytes_and_path_give_the_same_tune(model, heard):
    from_path = recording_to_heard_tune(HUMMED, model=model, name="hummed_tune.wav").piece
    assert from_path == heard.piece
    assert from_path.name == "hummed_tune"
    assert recording_to_heard_tune(HUMMED.read_bytes(), model=model).piece.name == "my recording"


def test_a_given_tempo_is_used(model):
    heard = recording_to_heard_tune(HUMMED.read_bytes(), model=model, tempo_bpm=90.0)
    assert heard.tempo_bpm == 90.0 and not heard.tempo_estimated
    with pytest.raises(ValueError, match="tempo_bpm"):
        recording_to_heard_tune(HUMMED.read_bytes(), model=model, tempo_bpm=1000.0)


def test_the_tune_continues_with_the_folk_model(heard):
    generator = Generator.from_folder("folk-tunes")
    tune = heard.piece
    primer = piece_to_primer(tune, generator.encoding)
    settings = creativity_to_settings(
        CREATIVITY_LEVELS[DEFAULT_CREATIVITY],
        length_tokens=None,
        length_s=10.0,
        tempo_bpm=tune.tempo_bpm,
    )
    result = generator.generate(settings, seed=1, primer=primer)
    assert result.piece.notes[: len(tune.notes)] == tune.notes
    assert len(result.piece.notes) > len(tune.notes)
    assert result.piece.tempo_bpm == tune.tempo_bpm


# ---------------------------------------------------------------- refusals


def refusal(model, audio: bytes) -> str:
    with pytest.raises(InvalidAudioError) as caught:
        recording_to_heard_tune(audio, model=model, name=NAME)
    message = str(caught.value)
    assert message.startswith(f"{NAME}: ")
    assert ADVICE.search(message), message
    return message


def test_silence_is_refused(model):
    message = refusal(model, wav_bytes(np.zeros(5 * RATE_HZ)))
    assert "no notes heard" in message and "closer to the microphone" in message


def test_white_noise_is_refused_as_noise(model):
    noise = np.random.default_rng(0).standard_normal(10 * RATE_HZ) * 0.1  # -20 dBFS
    message = refusal(model, wav_bytes(noise))
    assert "only noise" in message


@pytest.mark.parametrize("level_dbfs", [-50.0, -30.0, -6.0])
@pytest.mark.parametrize("seconds", [3, 20])
def test_white_noise_never_becomes_a_tune(model, level_dbfs, seconds):
    rng = np.random.default_rng(seconds)
    noise = rng.standard_normal(seconds * RATE_HZ) * 10 ** (level_dbfs / 20)
    refusal(model, wav_bytes(noise))  # as noise, silence or too few notes: never a tune


def test_a_short_clip_is_refused_before_the_model_runs(model, monkeypatch):
    audio, _ = sf.read(HUMMED, dtype="float32")
    import core.transcription.humming as humming

    def fail(*args, **kwargs):
        raise AssertionError("the model ran")

    monkeypatch.setattr(humming, "audio_to_activations", fail)
    message = refusal(model, wav_bytes(audio[: RATE_HZ // 2]))
    assert "under one second" in message


def test_one_long_note_is_too_few(model):
    t = np.arange(3 * RATE_HZ) / RATE_HZ
    message = refusal(model, wav_bytes(0.3 * np.sin(2 * np.pi * 220.0 * t)))
    assert "only one note heard" in message


@pytest.mark.parametrize(
    "data",
    [b"", b"These are not the notes you are looking for.\n" * 20, b"RIFF\x00\x00\x00\x00WAVE"],
    ids=["empty", "text", "broken header"],
)
def test_bytes_that_are_not_audio_are_refused(model, data):
    message = refusal(model, data)
    assert "record again" in message


def test_random_bytes_never_give_a_traceback(model):
    rng = np.random.default_rng(7)
    header = HUMMED.read_bytes()[: 3 * RATE_HZ]
    for size in (1, 44, 4_000):
        with pytest.raises(InvalidAudioError):
            recording_to_heard_tune(rng.bytes(size), model=model, name=NAME)
    for _ in range(20):
        data = bytearray(header)
        data[int(rng.integers(0, 44))] = int(rng.integers(0, 256))
        with contextlib.suppress(InvalidAudioError):
            recording_to_heard_tune(bytes(data), model=model, name=NAME)


# ---------------------------------------------------------------- clean-up, grid, tempo


def test_a_new_onset_ends_the_note_before_it():
    melody = notes_to_melody([event(0.0, 1.0, 60), event(0.6, 1.2, 62)])
    assert melody == (event(0.0, 0.6, 60), event(0.6, 1.2, 62))


def test_of_two_notes_that_start_together_the_louder_stays():
    octave = [event(0.0, 1.0, 72, 0.4), event(0.02, 0.9, 60, 0.9), event(1.0, 1.5, 62)]
    assert notes_to_melody(octave) == (event(0.02, 0.9, 60, 0.9), event(1.0, 1.5, 62))


def test_a_quieter_note_inside_a_held_note_goes():
    held = [event(0.0, 2.0, 60, 0.9), event(0.5, 1.0, 67, 0.4), event(2.0, 2.5, 62)]
    assert notes_to_melody(held) == (event(0.0, 2.0, 60, 0.9), event(2.0, 2.5, 62))


def test_fragments_go_and_a_pitch_overlapping_itself_is_one_note():
    notes = [event(0.0, 0.5, 60), event(0.45, 0.52, 64), event(0.55, 0.9, 62), event(0.8, 1.3, 62)]
    assert notes_to_melody(notes) == (event(0.0, 0.45, 60), event(0.55, 1.3, 62))


def test_melody_on_the_grid():
    melody = [event(1.0, 1.3, 60), event(1.31, 1.6, 62, 0.9), event(1.32, 1.5, 64, 0.5)]
    melody += [event(1.6, 2.6, 65), event(2.5, 3.0, 67)]
    piece = melody_to_piece(melody, tempo_bpm=100.0, name="x")
    # 100 BPM: a 16th is 0.15 s. The two notes at 1.31/1.32 s share a step: the louder stays;
    # the note that runs into the next onset is cut there.
    assert piece.notes == (Note(0, 60, 2), Note(2, 62, 2), Note(4, 65, 6), Note(10, 67, 3))
    assert piece.tempo_bpm == 100.0 and piece.key


def test_the_tempo_is_fitted_to_the_onsets():
    beats = [0, 1, 1.5, 2, 3, 3.5, 4, 6, 7, 7.25, 7.5, 8, 10, 11, 12]
    melody = [event(0.3 + b * 0.6, 0.3 + b * 0.6 + 0.2, 60 + i % 5) for i, b in enumerate(beats)]
    assert fit_tempo_bpm(melody, 97.5) == pytest.approx(100.0, abs=0.3)
    assert fit_tempo_bpm(melody[:1], 97.5) == 97.5
