"""core/audio/decoding: audio files → mono float32 at one rate, as librosa.load gives them, streamed
block by block; refusals that name the file."""

from __future__ import annotations

import io

import librosa
import numpy as np
import pytest
import soundfile as sf

from core.audio import decoding
from core.audio.decoding import AudioStream, audio_to_array
from core.errors import InvalidAudioError
from tests.conftest import FIXTURES
from tests.core.transcription_audio import audio_to_bytes

RATE_HZ = 22050  # what Basic Pitch listens at
NATIVE_RATE_HZ = 44100
# librosa.load and the decoder share libsndfile and soxr; streaming the resampler block by block
# moves samples by rounding only.
ATOL = 1e-4
VOCADITO = FIXTURES / "vocadito_10.wav"


def stereo_tone(seconds: float = 1.5) -> np.ndarray:
    """Two channels that differ (A4 left, E5 right, a fade in), so the mono mix is checked."""
    t = np.arange(int(seconds * NATIVE_RATE_HZ)) / NATIVE_RATE_HZ
    fade = np.minimum(1.0, t / 0.2)
    left = 0.5 * np.sin(2 * np.pi * 440.0 * t) * fade
    right = 0.3 * np.sin(2 * np.pi * 659.25 * t + 0.4)
    return np.stack([left, right], axis=1).astype(np.float32)


@pytest.fixture(scope="module")
def vocadito_mp3() -> bytes:
    audio, rate = sf.read(VOCADITO, dtype="float32")
    return audio_to_bytes(audio, fmt="MP3", rate_hz=rate)


# ---------------------------------------------------------------- decoding


@pytest.mark.parametrize(("fmt", "suffix"), [("WAV", ".wav"), ("FLAC", ".flac"), ("OGG", ".ogg")])
def test_a_file_decodes_to_mono_at_the_target_rate_as_librosa_loads_it(tmp_path, fmt, suffix):
    path = tmp_path / f"tone{suffix}"
    sf.write(path, stereo_tone(), NATIVE_RATE_HZ, format=fmt)
    expected, _ = librosa.load(path, sr=RATE_HZ, mono=True)
    audio = audio_to_array(path, sample_rate_hz=RATE_HZ)
    assert audio.dtype == np.float32 and audio.ndim == 1
    assert len(audio) == len(expected) == decoding.resampled_length(
        len(stereo_tone()), native_rate_hz=NATIVE_RATE_HZ, sample_rate_hz=RATE_HZ
    )
    np.testing.assert_allclose(audio, expected, atol=ATOL)
    assert np.array_equal(audio_to_array(path.read_bytes(), sample_rate_hz=RATE_HZ), audio)


def test_small_blocks_give_what_one_block_gives(tmp_path, monkeypatch):
    path = tmp_path / "tone.wav"
    sf.write(path, stereo_tone(), NATIVE_RATE_HZ)
    whole = audio_to_array(path, sample_rate_hz=RATE_HZ)
    monkeypatch.setattr(decoding, "BLOCK_S", 0.05)  # 30 blocks instead of one
    with AudioStream(path, sample_rate_hz=RATE_HZ) as stream:
        blocks = list(stream.blocks())
        assert len(blocks) > 20
        streamed = np.concatenate(blocks)[: stream.expected_length()]
    assert len(streamed) == len(whole)
    np.testing.assert_allclose(streamed, whole, atol=ATOL)


def test_the_header_is_read_before_decoding(tmp_path):
    path = tmp_path / "tone.flac"
    sf.write(path, stereo_tone(2.0), NATIVE_RATE_HZ, format="FLAC")
    with AudioStream(path, sample_rate_hz=RATE_HZ) as stream:
        info = stream.info
        assert (info.name, info.sample_rate_hz, info.channels) == ("tone.flac", 44100, 2)
        assert info.duration_s == pytest.approx(2.0)
        assert stream.decoded_frames == 0


def test_the_native_rate_is_kept_as_it_is(tmp_path):
    path = tmp_path / "mono.wav"
    mono = stereo_tone()[:, 0]
    sf.write(path, mono, RATE_HZ, subtype="FLOAT")
    np.testing.assert_array_equal(audio_to_array(path, sample_rate_hz=RATE_HZ), mono)


# ---------------------------------------------------------------- refusals


def test_an_empty_file_is_refused_by_name(tmp_path):
    path = tmp_path / "empty.wav"
    path.write_bytes(b"")
    with pytest.raises(InvalidAudioError, match=r"^empty\.wav: the file is empty"):
        audio_to_array(path, sample_rate_hz=RATE_HZ)
    with pytest.raises(InvalidAudioError, match=r"^empty\.mp3: the file is empty"):
        audio_to_array(b"", name="empty.mp3", sample_rate_hz=RATE_HZ)


def test_garbage_bytes_are_refused_by_name(tmp_path):
    noise = np.random.default_rng(0).integers(0, 256, 4000, dtype=np.uint8).tobytes()
    with pytest.raises(InvalidAudioError, match=r"^noise\.ogg: cannot decode"):
        audio_to_array(noise, name="noise.ogg", sample_rate_hz=RATE_HZ)
    path = tmp_path / "take.flac"
    path.write_bytes(noise)
    with pytest.raises(InvalidAudioError, match=r"^take\.flac: cannot decode"):
        audio_to_array(path, sample_rate_hz=RATE_HZ)


def test_text_is_refused_before_the_decoders_see_it():
    with pytest.raises(InvalidAudioError, match=r"^notes\.mp3: .*text file"):
        audio_to_array(b"these are my notes, not a song\n" * 10, name="notes.mp3",
                       sample_rate_hz=RATE_HZ)


def test_missing_file_is_refused(tmp_path):
    with pytest.raises(InvalidAudioError, match=r"^gone\.wav: no such file"):
        audio_to_array(tmp_path / "gone.wav", sample_rate_hz=RATE_HZ)


def test_truncated_mp3_is_refused(vocadito_mp3):
    cut = vocadito_mp3[: len(vocadito_mp3) // 2]
    with pytest.raises(InvalidAudioError, match=r"^cut\.mp3: the file is truncated"):
        audio_to_array(cut, name="cut.mp3", sample_rate_hz=RATE_HZ)
    with pytest.raises(InvalidAudioError, match=r"^stub\.mp3: "):
        audio_to_array(vocadito_mp3[:300], name="stub.mp3", sample_rate_hz=RATE_HZ)


def test_mp3_without_a_length_header_is_decoded_as_far_as_it_goes(vocadito_mp3):
    # Without a Xing/Info header the length is only an estimate: no "truncated" verdict.
    assert b"Info" in vocadito_mp3[:4096] or b"Xing" in vocadito_mp3[:4096]
    untagged = vocadito_mp3.replace(b"Info", b"Junk", 1).replace(b"Xing", b"Junk", 1)
    audio = audio_to_array(untagged[: len(untagged) // 2], name="half.mp3", sample_rate_hz=RATE_HZ)
    assert len(audio) / RATE_HZ > 1.0


def test_m4a_without_a_decoder_says_what_is_missing():
    noise = np.random.default_rng(1).integers(0, 256, 5000, dtype=np.uint8).tobytes()
    with pytest.raises(InvalidAudioError, match=r"^phone\.m4a: .*(ffmpeg|cannot decode)"):
        audio_to_array(noise, name="phone.m4a", sample_rate_hz=RATE_HZ)


def test_too_long_audio_is_refused(monkeypatch):
    with pytest.raises(InvalidAudioError, match=r"^long\.wav: .*above the 0\.05 min limit"):
        audio_to_array(VOCADITO.read_bytes(), name="long.wav", sample_rate_hz=RATE_HZ,
                       max_duration_s=3.0)
    monkeypatch.setenv("TUNESMITH_MAX_AUDIO_MINUTES", "0.1")
    with pytest.raises(InvalidAudioError, match="TUNESMITH_MAX_AUDIO_MINUTES"):
        audio_to_array(VOCADITO, sample_rate_hz=RATE_HZ)


@pytest.mark.parametrize("rate_hz", [1, 4_000, 1_000_000])
def test_audio_at_an_absurd_sample_rate_is_refused_before_decoding(rate_hz):
    buffer = io.BytesIO()
    sf.write(buffer, np.zeros(800, dtype="float32"), rate_hz, format="WAV")
    with pytest.raises(InvalidAudioError, match=rf"^odd\.wav: a sample rate of {rate_hz:,} Hz"):
        audio_to_array(buffer.getvalue(), name="odd.wav", sample_rate_hz=RATE_HZ)


def _silence(rate_hz: int, channels: int, seconds: float, fmt: str = "FLAC") -> bytes:
    """Silence compresses to almost nothing: many samples in a small upload."""
    buffer = io.BytesIO()
    frames = np.zeros((int(rate_hz * seconds), channels), dtype=np.int16)
    sf.write(buffer, frames, rate_hz, format=fmt, subtype="PCM_16")
    return buffer.getvalue()


def test_more_samples_than_the_limit_allows_are_refused_before_decoding():
    # 1 s of 8 channels at 384 kHz: 3.1 million samples; a 3 s limit allows 3 s of 96 kHz
    # stereo, 0.58 million
    data = _silence(384_000, 8, 1.0)
    with AudioStream(_silence(96_000, 2, 3.0), name="ok.flac", sample_rate_hz=RATE_HZ,
                     max_duration_s=3.0) as stream:  # fmt: skip
        assert stream.info.channels == 2  # exactly at the limit: accepted
    refusal = (r"^wide\.flac: 1\.0 s of 8 channels at 384,000 Hz is 3,072,000 samples, too "
               r"many to decode: the limit is 576,000 \(0\.05 min of 96 kHz stereo\)\. Save "
               r"it in stereo at 48 kHz or less \(any audio editor can\), then add it again$")
    with pytest.raises(InvalidAudioError, match=refusal):
        AudioStream(data, name="wide.flac", sample_rate_hz=RATE_HZ, max_duration_s=3.0)


def test_a_header_that_says_too_little_is_caught_while_decoding(monkeypatch):
    data = _silence(384_000, 8, 1.0, fmt="WAV")
    stream = AudioStream(data, name="liar.wav", sample_rate_hz=RATE_HZ)
    # as if the header had promised 1,000 frames, which the 3 s limit allows
    stream.info = decoding.AudioInfo("liar.wav", 384_000, 8, 1_000)
    stream.max_duration_s = 3.0
    monkeypatch.setattr(decoding, "BLOCK_S", 0.1)
    with stream, pytest.raises(InvalidAudioError, match=r"^liar\.wav: .* too many to decode"):
        list(stream.blocks())
    assert stream.decoded_frames < 384_000  # stopped before the end


def test_blocks_hold_the_same_number_of_samples_whatever_the_channels(monkeypatch):
    many = np.tile(stereo_tone(), (1, 4))  # 8 channels
    buffer = io.BytesIO()
    sf.write(buffer, many, NATIVE_RATE_HZ, format="WAV", subtype="FLOAT")
    whole = audio_to_array(buffer.getvalue(), sample_rate_hz=RATE_HZ)
    monkeypatch.setattr(decoding, "MAX_BLOCK_SAMPLES", 8 * 1_000)
    with AudioStream(buffer.getvalue(), sample_rate_hz=RATE_HZ) as stream:
        native = list(stream._native_blocks())
    assert max(len(block) for block in native) == 1_000
    np.testing.assert_allclose(audio_to_array(buffer.getvalue(), sample_rate_hz=RATE_HZ), whole,
                               atol=ATOL)  # fmt: skip
