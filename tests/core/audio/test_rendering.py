"""MIDI → audio with FluidSynth: length, loudness, soundfonts, and the WAV/OGG/MP3 files."""

import io

import numpy as np
import pytest
import soundfile

from core.audio.rendering import (
    BUNDLED_SOUNDFONT_PATH,
    INSTRUMENTS,
    RELEASE_TAIL_S,
    audio_to_mp3_bytes,
    audio_to_ogg_and_mp3,
    audio_to_ogg_bytes,
    audio_to_wav_bytes,
    default_soundfont,
    midi_to_audio,
    normalize_loudness,
    ogg_to_mp3_bytes,
    validate_soundfont,
)
from core.errors import InvalidMusicError, InvalidSettingError, InvalidSoundfontError
from core.music.midi import midi_to_bytes, piece_to_midi
from core.music.piece import Note, Piece

SAMPLE_RATE_HZ = 22050


@pytest.fixture(scope="module")
def scale_midi() -> bytes:
    """An ascending C major scale of eighth notes at 120 BPM: 2 s of music."""
    pitches = [60, 62, 64, 65, 67, 69, 71, 72]
    notes = tuple(Note(i * 2, p, 2) for i, p in enumerate(pitches))
    return midi_to_bytes(piece_to_midi(Piece("scale", notes, 4, 120.0)))


def test_rendered_audio_has_the_expected_length_and_is_not_silent(scale_midi: bytes) -> None:
    audio = midi_to_audio(scale_midi, sample_rate_hz=SAMPLE_RATE_HZ)
    music_s = 16 * 0.125  # 16 steps of a sixteenth at 120 BPM
    assert audio.dtype == np.float32 and audio.ndim == 1
    assert len(audio) == pytest.approx((music_s + RELEASE_TAIL_S) * SAMPLE_RATE_HZ, abs=2)
    rms = float(np.sqrt(np.mean(audio**2)))
    assert rms > 0.05
    assert np.max(np.abs(audio)) <= 1.0


def test_tempo_changes_the_length_and_stereo_has_two_channels(scale_midi: bytes) -> None:
    audio = midi_to_audio(scale_midi, sample_rate_hz=SAMPLE_RATE_HZ, tempo_bpm=60, stereo=True)
    assert audio.shape == (round((4.0 + RELEASE_TAIL_S) * SAMPLE_RATE_HZ), 2)


def test_program_changes_the_sound(scale_midi: bytes) -> None:
    piano = midi_to_audio(scale_midi, sample_rate_hz=SAMPLE_RATE_HZ, program=0)
    flute = midi_to_audio(scale_midi, sample_rate_hz=SAMPLE_RATE_HZ, program=73)
    assert piano.shape == flute.shape
    assert not np.allclose(piano, flute, atol=1e-3)
    assert {i.program for i in INSTRUMENTS} <= set(range(128))


def test_same_input_renders_the_same_within_a_hair(scale_midi: bytes) -> None:
    first = midi_to_audio(scale_midi, sample_rate_hz=SAMPLE_RATE_HZ)
    second = midi_to_audio(scale_midi, sample_rate_hz=SAMPLE_RATE_HZ)
    # FluidSynth's reverb keeps a little state between renders: equal to well below hearing.
    np.testing.assert_allclose(first, second, atol=1e-2)


def test_bundled_fallback_soundfont_renders(scale_midi: bytes) -> None:
    audio = midi_to_audio(
        scale_midi, sample_rate_hz=SAMPLE_RATE_HZ, soundfont=BUNDLED_SOUNDFONT_PATH
    )
    assert float(np.sqrt(np.mean(audio**2))) > 0.05
    validate_soundfont(default_soundfont())


def test_uploaded_soundfont_bytes_render(scale_midi: bytes) -> None:
    audio = midi_to_audio(
        scale_midi, sample_rate_hz=SAMPLE_RATE_HZ, soundfont=BUNDLED_SOUNDFONT_PATH.read_bytes()
    )
    assert float(np.sqrt(np.mean(audio**2))) > 0.05


@pytest.mark.parametrize(
    ("data", "reason"),
    [(b"", "empty"), (b"RIFF\x00\x00\x00\x00WAVEfmt ", "not a SoundFont"), (b"hello", "not a")],
)
def test_bad_soundfont_is_refused_with_its_name(
    scale_midi: bytes, data: bytes, reason: str, tmp_path
) -> None:
    path = tmp_path / "mine.sf2"
    path.write_bytes(data)
    with pytest.raises(InvalidSoundfontError, match=f"mine.sf2: .*{reason}"):
        midi_to_audio(scale_midi, soundfont=path)
    with pytest.raises(InvalidSoundfontError, match=reason):
        midi_to_audio(scale_midi, soundfont=data)


def test_bad_midi_is_refused_with_its_name(tmp_path) -> None:
    path = tmp_path / "broken.mid"
    path.write_bytes(b"not midi at all")
    with pytest.raises(InvalidMusicError, match=r"broken\.mid: not a MIDI file"):
        midi_to_audio(path)


def test_wav_and_ogg_bytes_decode_to_the_same_length(scale_midi: bytes) -> None:
    audio = midi_to_audio(scale_midi, sample_rate_hz=SAMPLE_RATE_HZ)
    wav = audio_to_wav_bytes(audio, SAMPLE_RATE_HZ)
    ogg = audio_to_ogg_bytes(audio, SAMPLE_RATE_HZ)
    assert wav[:4] == b"RIFF" and ogg[:4] == b"OggS"
    assert len(ogg) < len(wav)
    for data in (wav, ogg):
        decoded, rate = soundfile.read(io.BytesIO(data), dtype="float32")
        assert rate == SAMPLE_RATE_HZ
        assert abs(len(decoded) - len(audio)) < 2048


def test_mp3_bytes_decode_back_to_the_same_audio_length(scale_midi: bytes) -> None:
    audio = midi_to_audio(scale_midi, sample_rate_hz=SAMPLE_RATE_HZ)
    mp3 = audio_to_mp3_bytes(audio, SAMPLE_RATE_HZ)
    assert soundfile.info(io.BytesIO(mp3)).format == "MP3"
    assert len(mp3) < len(audio_to_wav_bytes(audio, SAMPLE_RATE_HZ)) / 5
    decoded, rate = soundfile.read(io.BytesIO(mp3), dtype="float32")
    assert rate == SAMPLE_RATE_HZ
    # the encoder's delay and padding are trimmed on reading (LAME's header says how much)
    assert len(decoded) == len(audio)
    # and it is the same music: loud where the render is loud, within the codec's error
    rms = [float(np.sqrt(np.mean(x**2))) for x in (audio, decoded)]
    assert rms[1] == pytest.approx(rms[0], rel=0.1)
    stereo = audio_to_mp3_bytes(np.stack([audio, audio], axis=1), SAMPLE_RATE_HZ)
    assert soundfile.info(io.BytesIO(stereo)).channels == 2


def test_the_page_ogg_becomes_an_mp3_of_the_same_length(scale_midi: bytes) -> None:
    audio = midi_to_audio(scale_midi, sample_rate_hz=SAMPLE_RATE_HZ)
    mp3 = ogg_to_mp3_bytes(audio_to_ogg_bytes(audio, SAMPLE_RATE_HZ))
    decoded, rate = soundfile.read(io.BytesIO(mp3), dtype="float32")
    assert soundfile.info(io.BytesIO(mp3)).format == "MP3"
    assert rate == SAMPLE_RATE_HZ and len(decoded) == len(audio)
    with pytest.raises(InvalidMusicError, match="cannot be read"):
        ogg_to_mp3_bytes(b"not audio")


def test_mp3_refuses_a_sample_rate_it_cannot_carry() -> None:
    with pytest.raises(InvalidSettingError, match="MP3 cannot carry 96000 Hz"):
        audio_to_mp3_bytes(np.zeros(960, dtype=np.float32), 96000)
    with pytest.raises(InvalidSettingError, match="MP3 cannot carry 96000 Hz"):
        audio_to_ogg_and_mp3(np.zeros(960, dtype=np.float32), 96000)  # raised here, not lost


def test_the_ogg_and_the_mp3_encoded_side_by_side_are_the_two_encoders_own(
    scale_midi: bytes,
) -> None:
    audio = midi_to_audio(scale_midi, sample_rate_hz=SAMPLE_RATE_HZ)
    ogg, mp3 = audio_to_ogg_and_mp3(audio, SAMPLE_RATE_HZ)
    assert mp3 == audio_to_mp3_bytes(audio, SAMPLE_RATE_HZ)  # the encoder is deterministic
    assert [soundfile.info(io.BytesIO(b)).format for b in (ogg, mp3)] == ["OGG", "MP3"]
    for encoded in (ogg, mp3):
        decoded, rate = soundfile.read(io.BytesIO(encoded), dtype="float32")
        assert rate == SAMPLE_RATE_HZ and len(decoded) == len(audio)


def test_normalize_loudness_hits_the_rms_target_and_keeps_silence() -> None:
    rng = np.random.default_rng(0)
    noise = (rng.standard_normal(44100) * 0.01).astype(np.float32)
    louder = normalize_loudness(noise, target_rms_dbfs=-20.0, peak_limit_dbfs=0.0)
    assert 20 * np.log10(np.sqrt(np.mean(louder**2))) == pytest.approx(-20.0, abs=0.1)
    silence = np.zeros(100, dtype=np.float32)
    np.testing.assert_array_equal(normalize_loudness(silence), silence)


def test_only_a_few_soundfonts_stay_loaded(scale_midi: bytes, tmp_path) -> None:
    from core.audio import rendering

    copies = []
    for index in range(rendering.MAX_LOADED_SYNTHS + 2):
        path = tmp_path / f"font{index}.sf2"
        path.write_bytes(BUNDLED_SOUNDFONT_PATH.read_bytes())
        copies.append(path)
    for path in copies:
        audio = midi_to_audio(scale_midi, sample_rate_hz=SAMPLE_RATE_HZ, soundfont=path)
        assert float(np.sqrt(np.mean(audio**2))) > 0.05
    assert len(rendering._SYNTHS) <= rendering.MAX_LOADED_SYNTHS
    # an evicted soundfont loads again when asked for
    audio = midi_to_audio(scale_midi, sample_rate_hz=SAMPLE_RATE_HZ, soundfont=copies[0])
    assert float(np.sqrt(np.mean(audio**2))) > 0.05
