"""Audio files (bytes or paths) → mono blocks at one sample rate, streamed, with clear refusals.

Decoding streams: a 10-minute file is read, mixed to mono and resampled block by block, so
memory stays flat whatever the length. The samples are the ones `librosa.load(path, sr=...,
mono=True)` gives (libsndfile decoding, channel mean in float32, soxr "HQ" resampling, length
fixed to ceil(n * ratio)), because Basic Pitch's golden outputs were made with it.

libsndfile reads WAV, FLAC, OGG/Vorbis, MP3 and AIFF. M4A/AAC need ffmpeg (through audioread),
which may be missing; such a file is refused with that reason.
"""

from __future__ import annotations

import io
import logging
import math
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf

from core.errors import InvalidAudioError
from core.settings import setting_value

log = logging.getLogger(__name__)

# Longer files are refused before decoding. Override with TUNESMITH_MAX_AUDIO_MINUTES.
DEFAULT_MAX_AUDIO_MINUTES = 15.0
MAX_AUDIO_MINUTES_ENV = "TUNESMITH_MAX_AUDIO_MINUTES"
BLOCK_S = 10.0  # seconds decoded at a time
# A file whose header promises more than this share of samples beyond what decodes is truncated.
TRUNCATION_TOLERANCE = 0.02
TRUNCATION_MIN_MISSING_S = 0.25
# Sample rates outside these are refused before decoding: a 1 Hz WAV of 1.6 KB "lasts" 13
# minutes and costs many seconds of resampling; real recordings are 8 to 192 kHz.
MIN_SAMPLE_RATE_HZ = 8_000
MAX_SAMPLE_RATE_HZ = 384_000
# Decoding costs by the sample of every channel (about 10 ns each, measured: a minute of 384 kHz
# 8-channel FLAC is 2 s of CPU, of 48 kHz stereo 0.1 s), and a few MB of FLAC silence can hold
# a billion. So a file may hold as many samples as the longest file accepted would at 96 kHz in
# stereo (a hi-res recording): 15 minutes of those is about 3 s of decoding; a 384 kHz
# 8-channel file is refused above 56 s. Blocks are cut to the same rate of samples, so memory
# stays flat whatever the channels.
FULL_COST_RATE_HZ = 96_000
FULL_COST_CHANNELS = 2
MAX_BLOCK_SAMPLES = int(BLOCK_S * FULL_COST_RATE_HZ * FULL_COST_CHANNELS)
AUDIOREAD_SUFFIXES = (".m4a", ".aac", ".mp4", ".wma")
AUDIO_UPLOAD_TYPES = ["mp3", "wav", "ogg", "flac", "m4a", "aiff"]


def max_audio_duration_s() -> float:
    """The longest audio accepted, in seconds (`TUNESMITH_MAX_AUDIO_MINUTES`, default 15)."""
    return setting_value(MAX_AUDIO_MINUTES_ENV) * 60.0


def max_audio_samples(max_duration_s: float) -> int:
    """The most samples (frames times channels) decoded from one file, for a duration limit
    (no limit for an infinite one: a caller that only reads the header)."""
    if not math.isfinite(max_duration_s):
        return sys.maxsize
    return int(max_duration_s * FULL_COST_RATE_HZ * FULL_COST_CHANNELS)


@dataclass(frozen=True)
class AudioInfo:
    """What the file's header says, before decoding."""

    name: str
    sample_rate_hz: int
    channels: int
    frames: int  # at the native rate; an estimate for some MP3s

    @property
    def duration_s(self) -> float:
        return self.frames / self.sample_rate_hz if self.sample_rate_hz else 0.0


def resampled_length(frames: int, *, native_rate_hz: int, sample_rate_hz: int) -> int:
    """The number of samples `librosa.resample(..., fix=True)` returns."""
    if native_rate_hz == sample_rate_hz:
        return frames
    return math.ceil(frames * (float(sample_rate_hz) / native_rate_hz))


class AudioStream:
    """An open audio file: `info`, then `blocks()` yields float32 mono blocks at the target rate.

    Use as a context manager. The total number of samples `blocks()` yields is
    `resampled_length(...)` of the frames actually decoded, as with librosa.
    """

    def __init__(
        self,
        source: bytes | str | Path,
        *,
        sample_rate_hz: int,
        name: str | None = None,
        max_duration_s: float | None = None,
    ) -> None:
        self.name = name or (Path(source).name if not isinstance(source, bytes) else "audio")
        self.sample_rate_hz = sample_rate_hz
        self.max_duration_s = (
            max_duration_s if max_duration_s is not None else (max_audio_duration_s())
        )
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        self._file: Any = None
        self._audioread: Any = None
        self._exact_length = False
        self.info = self._open(source)
        self.decoded_frames = 0  # at the native rate, after blocks() ran

    # ------------------------------------------------------------ opening

    def _open(self, source: bytes | str | Path) -> AudioInfo:
        name = self.name
        if isinstance(source, bytes):
            data: bytes | None = source
            if not source:
                raise InvalidAudioError(f"{name}: the file is empty")
            handle: Any = io.BytesIO(source)
        else:
            path = Path(source)
            if not path.is_file():
                raise InvalidAudioError(f"{name}: no such file")
            if path.stat().st_size == 0:
                raise InvalidAudioError(f"{name}: the file is empty")
            data = None
            handle = str(path)
        # Text is refused before the decoders see it (libmpg123 would print resync noise).
        head = data[:512] if data is not None else _read_head(Path(str(source)))
        if _looks_like_text(head):
            raise InvalidAudioError(f"{name}: it is a text file, not audio")
        try:
            self._file = sf.SoundFile(handle)
        except (sf.LibsndfileError, RuntimeError, TypeError) as error:
            if Path(name).suffix.lower() in AUDIOREAD_SUFFIXES:
                return self._open_with_audioread(source)
            raise InvalidAudioError(
                f"{name}: cannot decode it as audio ({_reason(error)})"
            ) from error
        info = AudioInfo(
            name, int(self._file.samplerate), int(self._file.channels), int(self._file.frames)
        )
        self._check_info(info)
        # The header's length is exact for WAV, FLAC and OGG, and for MP3 only with a
        # Xing/Info/VBRI header; other MP3s have an estimate, too rough to call a file truncated.
        self._exact_length = str(self._file.format) != "MP3" or _has_mp3_length_header(
            data if data is not None else Path(str(source))
        )
        return info

    def _open_with_audioread(self, source: bytes | str | Path) -> AudioInfo:
        import audioread

        name = self.name
        if isinstance(source, bytes):
            self._tmp = tempfile.TemporaryDirectory()
            path = Path(self._tmp.name) / f"audio{Path(name).suffix.lower()}"
            path.write_bytes(source)
        else:
            path = Path(source)
        try:
            self._audioread = audioread.audio_open(str(path))
        except audioread.NoBackendError as error:
            raise InvalidAudioError(
                f"{name}: cannot decode {Path(name).suffix.lower()} here: it needs ffmpeg, "
                "which is not installed; convert it to mp3, wav, ogg or flac"
            ) from error
        except Exception as error:  # audioread backends raise their own types
            raise InvalidAudioError(f"{name}: cannot decode it as audio ({error})") from error
        reader = self._audioread
        info = AudioInfo(
            name,
            int(reader.samplerate),
            int(reader.channels),
            round(reader.duration * reader.samplerate),
        )
        self._check_info(info)
        return info

    def _check_info(self, info: AudioInfo) -> None:
        """Refuse, before decoding, what no real recording looks like or what is too long."""
        rate = info.sample_rate_hz
        if not MIN_SAMPLE_RATE_HZ <= rate <= MAX_SAMPLE_RATE_HZ:
            raise InvalidAudioError(
                f"{self.name}: a sample rate of {rate:,} Hz, outside {MIN_SAMPLE_RATE_HZ:,}.."
                f"{MAX_SAMPLE_RATE_HZ:,} Hz: not a real recording"
            )
        self._check_length(info, info.frames)

    def _check_length(self, info: AudioInfo, frames: int) -> None:
        """Refuse audio longer than the limit, or with more samples than its cost allows."""
        duration_s = frames / info.sample_rate_hz
        if duration_s > self.max_duration_s:
            raise InvalidAudioError(
                f"{self.name}: the audio is {duration_s / 60:.1f} min long, above the "
                f"{self.max_duration_s / 60:g} min limit (set {MAX_AUDIO_MINUTES_ENV} to change it)"
            )
        samples = frames * info.channels
        limit = max_audio_samples(self.max_duration_s)
        if samples > limit:
            length = f"{duration_s:.1f} s" if duration_s < 60 else f"{duration_s / 60:.1f} min"
            raise InvalidAudioError(
                f"{self.name}: {length} of {info.channels} channels at {info.sample_rate_hz:,} Hz "
                f"is {samples:,} samples, too many to decode: the limit is {limit:,} "
                f"({self.max_duration_s / 60:g} min of {FULL_COST_RATE_HZ // 1000} kHz stereo). "
                "Save it in stereo at 48 kHz or less (any audio editor can), then add it again"
            )

    # ------------------------------------------------------------ decoding

    def _native_blocks(self) -> Iterator[np.ndarray]:
        """Mono float32 blocks at the native rate."""
        channels = max(1, self.info.channels)
        block = max(1, min(int(BLOCK_S * self.info.sample_rate_hz), MAX_BLOCK_SAMPLES // channels))
        if self._file is not None:
            while True:
                try:
                    chunk = self._file.read(block, dtype="float32", always_2d=True)
                except (sf.LibsndfileError, RuntimeError) as error:
                    raise InvalidAudioError(
                        f"{self.name}: the audio data is corrupt ({_reason(error)})"
                    ) from error
                if not len(chunk):
                    return
                yield _to_mono(chunk)
            return
        for buffer in self._audioread:  # 16-bit interleaved PCM, as librosa reads it
            samples = np.frombuffer(buffer, dtype="<i2").astype(np.float32) / 32768.0
            yield _to_mono(samples.reshape(-1, channels))

    def blocks(self) -> Iterator[np.ndarray]:
        """Mono float32 blocks at `sample_rate_hz`, the length fixed as librosa fixes it.

        Raises:
            InvalidAudioError: the data is corrupt, longer than the limit, truncated (fewer
                samples than the header promises), or empty.
        """
        import soxr

        native = self.info.sample_rate_hz
        resampler = None
        if native != self.sample_rate_hz:
            resampler = soxr.ResampleStream(
                native, self.sample_rate_hz, 1, dtype="float32", quality="HQ"
            )
        emitted = 0
        # A header may say less than the data holds (an MP3's estimate, a forged length).
        limit_frames = min(
            self.max_duration_s * native,
            max_audio_samples(self.max_duration_s) / max(1, self.info.channels),
        )
        for chunk in self._native_blocks():
            self.decoded_frames += len(chunk)
            if self.decoded_frames > limit_frames:
                self._check_length(self.info, self.decoded_frames)
            out = chunk if resampler is None else resampler.resample_chunk(chunk)
            # Hold back the tail: the final length fix may cut a few samples off the end.
            if len(out):
                emitted += len(out)
                yield out
        if self.decoded_frames == 0:
            raise InvalidAudioError(f"{self.name}: the file holds no audio samples")
        self._check_truncation()
        tail = (
            np.zeros(0, np.float32)
            if resampler is None
            else resampler.resample_chunk(np.zeros(0, np.float32), last=True)
        )
        want = resampled_length(
            self.decoded_frames, native_rate_hz=native, sample_rate_hz=self.sample_rate_hz
        )
        missing = want - emitted
        if missing >= 0:
            tail = np.concatenate(
                [tail[:missing], np.zeros(max(0, missing - len(tail)), np.float32)]
            )
            if len(tail):
                yield tail.astype(np.float32, copy=False)
        elif missing < 0:
            # soxr gave more samples than librosa keeps; callers trim to `expected_length`.
            log.debug("%s: resampler gave %d extra samples", self.name, -missing)

    def expected_length(self) -> int:
        """Samples at the target rate once `blocks()` is exhausted (valid after it ran)."""
        return resampled_length(
            self.decoded_frames,
            native_rate_hz=self.info.sample_rate_hz,
            sample_rate_hz=self.sample_rate_hz,
        )

    def _check_truncation(self) -> None:
        promised = self.info.frames
        missing = promised - self.decoded_frames
        if self._file is None or not self._exact_length or missing <= 0:
            return
        missing_s = missing / self.info.sample_rate_hz
        if missing > TRUNCATION_TOLERANCE * promised and missing_s > TRUNCATION_MIN_MISSING_S:
            raise InvalidAudioError(
                f"{self.name}: the file is truncated: its header promises "
                f"{promised / self.info.sample_rate_hz:.1f} s of audio but only "
                f"{self.decoded_frames / self.info.sample_rate_hz:.1f} s can be decoded"
            )

    # ------------------------------------------------------------ context manager

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
        if self._audioread is not None:
            self._audioread.close()
        if self._tmp is not None:
            self._tmp.cleanup()

    def __enter__(self) -> AudioStream:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def audio_to_array(
    source: bytes | str | Path,
    *,
    sample_rate_hz: int,
    name: str | None = None,
    max_duration_s: float | None = None,
) -> np.ndarray:
    """The whole file as one mono float32 array at `sample_rate_hz` (for short clips)."""
    with AudioStream(
        source, sample_rate_hz=sample_rate_hz, name=name, max_duration_s=max_duration_s
    ) as stream:
        parts = list(stream.blocks())
        audio = np.concatenate(parts) if parts else np.zeros(0, np.float32)
        return audio[: stream.expected_length()]


def _to_mono(chunk: np.ndarray) -> np.ndarray:
    # librosa.to_mono: the mean over channels, in float32.
    if chunk.shape[1] == 1:
        return np.ascontiguousarray(chunk[:, 0])
    return np.ascontiguousarray(np.mean(chunk, axis=1, dtype=np.float32))


MP3_LENGTH_HEADER_TAGS = (b"Xing", b"Info", b"VBRI")
MP3_LENGTH_HEADER_SEARCH_BYTES = 4096  # the tag sits in the first MPEG frame


def _has_mp3_length_header(source: bytes | Path) -> bool:
    """Whether the first MPEG frame (after any ID3v2 tag) holds an exact length header."""
    head = source[:10] if isinstance(source, bytes) else _read_head(source, 10)
    offset = 0
    if head.startswith(b"ID3") and len(head) == 10:
        size = 0
        for byte in head[6:10]:  # a "syncsafe" integer: 7 bits per byte
            size = (size << 7) | (byte & 0x7F)
        offset = 10 + size + (10 if head[5] & 0x10 else 0)
    if isinstance(source, bytes):
        frame = source[offset : offset + MP3_LENGTH_HEADER_SEARCH_BYTES]
    else:
        with source.open("rb") as handle:
            handle.seek(offset)
            frame = handle.read(MP3_LENGTH_HEADER_SEARCH_BYTES)
    return any(tag in frame for tag in MP3_LENGTH_HEADER_TAGS)


def _read_head(path: Path, size: int = 512) -> bytes:
    with path.open("rb") as handle:
        return handle.read(size)


def _looks_like_text(head: bytes) -> bool:
    if not head or b"\x00" in head:
        return False
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError:
        return False
    printable = sum(ch.isprintable() or ch in "\r\n\t" for ch in text)
    return printable >= 0.95 * len(text)


def _reason(error: Exception) -> str:
    """libsndfile's reason, without its 'Error opening <object>:' prefix."""
    message = str(error)
    if ": " in message and message.startswith("Error"):
        message = message.split(": ", 1)[1]
    if "does not exist" in message or "not a regular file" in message:
        return "the audio data is truncated or corrupt"
    if "Format not recognised" in message:
        return "the format is not recognised"
    return message.rstrip(".")
