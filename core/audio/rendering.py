"""MIDI → audio with FluidSynth, loudness normalization, and WAV / OGG / MP3 bytes for playback.

A FluidSynth synthesizer with its soundfont loaded is kept per soundfont file (loading the
148 MB FluidR3 General MIDI soundfont takes about a second; rendering a minute of music takes
far less), and reset before each render. Events are rendered offline in blocks between note
events, so rendering runs many times faster than real time and needs no audio device.
"""

from __future__ import annotations

import io
import logging
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pretty_midi

from core.errors import InvalidMusicError, InvalidSettingError, InvalidSoundfontError
from core.music.midi import first_tempo_bpm, read_midi

log = logging.getLogger(__name__)

DEFAULT_SAMPLE_RATE_HZ = 44100
SYSTEM_SOUNDFONT_PATHS: tuple[Path, ...] = (
    Path("/usr/share/sounds/sf2/FluidR3_GM.sf2"),  # Debian's fluid-soundfont-gm (packages.txt)
    Path("/usr/share/sounds/sf2/default-GM.sf2"),
)
BUNDLED_SOUNDFONT_PATH = Path(pretty_midi.__file__).parent / "TimGM6mb.sf2"  # 6 MB fallback
RELEASE_TAIL_S = 1.0  # rendered after the last note-off so the final notes ring out
DEFAULT_TARGET_RMS_DBFS = -18.0
DEFAULT_PEAK_LIMIT_DBFS = -1.0
SYNTH_GAIN = 0.5  # FluidSynth's master gain; loudness is normalized afterwards anyway
DRUM_CHANNEL = 9
MAX_MIDI_CHANNELS = 16
MAX_RENDER_S = 20 * 60.0  # longer renders are refused: 20 min of stereo float is 800 MB
OGG_WRITE_BLOCK_FRAMES = 16384
# LAME's VBR quality through libsndfile (level x 10 = LAME's -V): 0.5 is -V5, about 55 kbit/s for
# mono piano, which sounds like the WAV on a phone or laptop and encodes fastest of the levels
# measured (0.25 s for 18 s of audio against 0.39 s at 0.3); the page waits for it on each tune.
MP3_COMPRESSION_LEVEL = 0.5
MP3_SAMPLE_RATES_HZ = (8000, 11025, 12000, 16000, 22050, 24000, 32000, 44100, 48000)  # MPEG 1/2
FLUIDSYNTH_BLOCK_FRAMES = 64  # FLUID_BUFSIZE: events take effect at these boundaries
SOUNDFONT_MAGIC_RIFF = b"RIFF"
SOUNDFONT_MAGIC_FORM = b"sfbk"


@dataclass(frozen=True)
class Instrument:
    """A General MIDI instrument the UI offers by name."""

    name: str
    program: int  # General MIDI program number, 0..127


# A small named list for the UI; every entry is a General MIDI program.
INSTRUMENTS: tuple[Instrument, ...] = (
    Instrument("Piano", 0),
    Instrument("Electric piano", 4),
    Instrument("Harpsichord", 6),
    Instrument("Music box", 10),
    Instrument("Vibraphone", 11),
    Instrument("Church organ", 19),
    Instrument("Accordion", 21),
    Instrument("Nylon guitar", 24),
    Instrument("Steel guitar", 25),
    Instrument("Violin", 40),
    Instrument("Cello", 42),
    Instrument("Harp", 46),
    Instrument("Strings", 48),
    Instrument("Choir", 52),
    Instrument("Trumpet", 56),
    Instrument("Clarinet", 71),
    Instrument("Flute", 73),
    Instrument("Pan flute", 75),
)
INSTRUMENT_PROGRAMS: dict[str, int] = {i.name: i.program for i in INSTRUMENTS}
DEFAULT_INSTRUMENT = "Piano"


# ---------------------------------------------------------------- soundfonts


def default_soundfont() -> Path:
    """The General MIDI soundfont to use: the system's FluidR3, else pretty_midi's TimGM6mb."""
    for path in (*SYSTEM_SOUNDFONT_PATHS, BUNDLED_SOUNDFONT_PATH):
        if path.is_file():
            return path.resolve()
    raise InvalidSoundfontError("no General MIDI soundfont found; install fluid-soundfont-gm")


def validate_soundfont(source: bytes | Path | str, *, name: str | None = None) -> None:
    """Check that a file is a SoundFont 2 (RIFF .... sfbk), before FluidSynth sees it.

    Raises:
        InvalidSoundfontError: missing, empty, or not a SoundFont 2 file.
    """
    if isinstance(source, bytes):
        head, label = source[:12], name or "upload"
    else:
        path = Path(source)
        label = name or path.name
        if not path.is_file():
            raise InvalidSoundfontError(f"{label}: no such file")
        with path.open("rb") as handle:
            head = handle.read(12)
    if not head:
        raise InvalidSoundfontError(f"{label}: the file is empty")
    if head[:4] != SOUNDFONT_MAGIC_RIFF or head[8:12] != SOUNDFONT_MAGIC_FORM:
        raise InvalidSoundfontError(
            f"{label}: not a SoundFont 2 file (it does not start with a RIFF sfbk header)"
        )


class _LoadedSynth:
    """One FluidSynth synthesizer with one soundfont loaded; used by one render at a time."""

    def __init__(self, soundfont: Path, sample_rate_hz: int) -> None:
        import fluidsynth

        self.lock = threading.Lock()
        self.deleted = False  # set when evicted; a render that finds it so loads again
        # Chorus off: its LFO keeps running between renders, so the same MIDI would not give
        # the same audio twice. Reverb stays; its tail is drained after each render.
        settings = {"synth.chorus.active": 0}
        self.synth = fluidsynth.Synth(gain=SYNTH_GAIN, samplerate=float(sample_rate_hz), **settings)
        self.frames_written = 0
        self.sfid = self.synth.sfload(str(soundfont))
        if self.sfid < 0:
            self.synth.delete()
            raise InvalidSoundfontError(f"{soundfont.name}: FluidSynth could not load it")


# Loaded synthesizers, least recently used first. Each holds its soundfont's samples in memory
# (FluidR3 is 148 MB), so only a few stay; the default one is simply used most often.
MAX_LOADED_SYNTHS = 3
_SYNTHS: OrderedDict[tuple[str, int, int], _LoadedSynth] = OrderedDict()
_SYNTHS_LOCK = threading.Lock()


def _synth_for(soundfont: Path, sample_rate_hz: int) -> _LoadedSynth:
    key = (str(soundfont), soundfont.stat().st_mtime_ns, sample_rate_hz)
    with _SYNTHS_LOCK:
        loaded = _SYNTHS.get(key)
        if loaded is None:
            log.info("loading soundfont %s at %d Hz", soundfont, sample_rate_hz)
            loaded = _LoadedSynth(soundfont, sample_rate_hz)
            _SYNTHS[key] = loaded
            while len(_SYNTHS) > MAX_LOADED_SYNTHS:
                _, oldest = _SYNTHS.popitem(last=False)
                with oldest.lock:  # waits for a render still using it
                    oldest.deleted = True
                    oldest.synth.delete()
        _SYNTHS.move_to_end(key)
        return loaded


# ---------------------------------------------------------------- MIDI → audio


@dataclass(frozen=True, order=True)
class _Event:
    time_s: float
    order: int  # note-offs before note-ons at the same instant, so repeated notes restart
    channel: int
    pitch: int
    velocity: int


def _events(
    midi: pretty_midi.PrettyMIDI, time_scale: float
) -> tuple[list[_Event], list[tuple[int, int, bool]]]:
    """Timed note events and (channel, program, is_drum) for each used channel."""
    events: list[_Event] = []
    channels: list[tuple[int, int, bool]] = []
    melodic_channels = [c for c in range(MAX_MIDI_CHANNELS) if c != DRUM_CHANNEL]
    next_melodic = 0
    for instrument in midi.instruments:
        if not instrument.notes:
            continue
        if instrument.is_drum:
            channel = DRUM_CHANNEL
        else:
            # More than 15 melodic instruments share channels round-robin; rare and harmless.
            channel = melodic_channels[next_melodic % len(melodic_channels)]
            next_melodic += 1
        channels.append((channel, instrument.program, instrument.is_drum))
        for note in instrument.notes:
            start, end = note.start * time_scale, note.end * time_scale
            if end <= start:
                continue
            events.append(_Event(start, 1, channel, note.pitch, max(1, min(127, note.velocity))))
            events.append(_Event(end, 0, channel, note.pitch, 0))
    events.sort()
    return events, channels


def midi_to_audio(
    midi: bytes | Path | str | pretty_midi.PrettyMIDI,
    *,
    sample_rate_hz: int = DEFAULT_SAMPLE_RATE_HZ,
    program: int | None = None,
    soundfont: bytes | Path | str | None = None,
    tempo_bpm: float | None = None,
    stereo: bool = False,
    normalize: bool = True,
) -> np.ndarray:
    """Render MIDI to float32 audio in [-1, 1] with FluidSynth.

    Args:
        midi: MIDI bytes, a path, or a PrettyMIDI.
        sample_rate_hz: output sample rate.
        program: General MIDI program for every non-drum instrument (None: the file's own).
        soundfont: a .sf2 path or its bytes (None: `default_soundfont()`).
        tempo_bpm: play at this tempo instead of the file's first tempo (times are scaled).
        stereo: return shape (samples, 2) instead of mono (samples,).
        normalize: scale to `DEFAULT_TARGET_RMS_DBFS`, limited to `DEFAULT_PEAK_LIMIT_DBFS`.

    Returns:
        Audio of length (last note end + `RELEASE_TAIL_S`) at `sample_rate_hz`.

    Raises:
        InvalidMusicError: unreadable MIDI, or longer than `MAX_RENDER_S`.
        InvalidSoundfontError: the soundfont is not a SoundFont 2 file.
    """
    if program is not None and not 0 <= program <= 127:
        raise InvalidSettingError(f"program must be a General MIDI program 0..127, not {program}")
    if tempo_bpm is not None and tempo_bpm <= 0:
        raise InvalidSettingError(f"tempo_bpm must be positive, not {tempo_bpm}")
    parsed = read_midi(midi)
    time_scale = first_tempo_bpm(parsed) / tempo_bpm if tempo_bpm else 1.0
    events, channels = _events(parsed, time_scale)
    end_s = (max((e.time_s for e in events), default=0.0)) + RELEASE_TAIL_S
    if end_s > MAX_RENDER_S:
        raise InvalidMusicError(
            f"MIDI: {end_s / 60:.0f} minutes long, above the {MAX_RENDER_S / 60:.0f} minute limit"
        )
    if isinstance(soundfont, bytes):
        audio = _render_with_temporary_soundfont(
            soundfont, events, channels, end_s, sample_rate_hz, program
        )
    else:
        path = Path(soundfont) if soundfont is not None else default_soundfont()
        validate_soundfont(path)
        rendered = None
        while rendered is None:  # None: the synth was evicted meanwhile; load it again
            loaded = _synth_for(path.resolve(), sample_rate_hz)
            rendered = _render(loaded, events, channels, end_s, sample_rate_hz, program)
        audio = rendered
    if not stereo:
        audio = audio.mean(axis=1)
    if normalize:
        audio = normalize_loudness(audio)
    return audio.astype(np.float32, copy=False)


def _render_with_temporary_soundfont(
    data: bytes,
    events: Sequence[_Event],
    channels: Sequence[tuple[int, int, bool]],
    end_s: float,
    sample_rate_hz: int,
    program: int | None,
) -> np.ndarray:
    import tempfile

    validate_soundfont(data)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "upload.sf2"
        path.write_bytes(data)
        loaded = _LoadedSynth(path, sample_rate_hz)
        try:
            audio = _render(loaded, events, channels, end_s, sample_rate_hz, program)
        finally:
            loaded.synth.delete()
    assert audio is not None  # a private synth is never evicted
    return audio


def _render(
    loaded: _LoadedSynth,
    events: Sequence[_Event],
    channels: Sequence[tuple[int, int, bool]],
    end_s: float,
    sample_rate_hz: int,
    program: int | None,
) -> np.ndarray | None:
    """Stereo float32 audio, or None when `loaded` was evicted before this render got it."""
    total = round(end_s * sample_rate_hz)
    out = np.zeros((total, 2), dtype=np.float32)
    with loaded.lock:
        if loaded.deleted:
            return None
        synth = loaded.synth
        synth.system_reset()
        for channel, own_program, is_drum in channels:
            if is_drum:
                synth.program_select(channel, loaded.sfid, 128, 0)
            else:
                synth.program_select(
                    channel, loaded.sfid, 0, own_program if program is None else program
                )
        written = 0
        for event in events:
            target = min(total, round(event.time_s * sample_rate_hz))
            if target > written:
                _write_float(synth, out[written:target])
                written = target
            if event.velocity:
                synth.noteon(event.channel, event.pitch, event.velocity)
            else:
                synth.noteoff(event.channel, event.pitch)
        if total > written:
            _write_float(synth, out[written:])
        # Silence what still rings and drain the reverb tail, so the next render starts clean;
        # FluidSynth applies events at the start of its internal blocks, so the drain also
        # brings the running frame count to a block boundary: each render starts aligned.
        synth.system_reset()
        drained = sample_rate_hz + (-(loaded.frames_written + total + sample_rate_hz)) % (
            FLUIDSYNTH_BLOCK_FRAMES
        )
        _write_float(synth, np.zeros((drained, 2), dtype=np.float32))
        loaded.frames_written += total + drained
    return out


_WRITE_FLOAT = None


def _write_float(synth: object, block: np.ndarray) -> None:
    """Render into a C-contiguous (frames, 2) float32 view, in place.

    pyfluidsynth only exposes 16-bit output, which FluidSynth dithers with a running noise
    table, so identical input would not give identical audio; float output has no dither.
    """
    global _WRITE_FLOAT
    if _WRITE_FLOAT is None:
        import ctypes

        import fluidsynth

        function = fluidsynth._fl.fluid_synth_write_float
        function.restype = ctypes.c_int
        function.argtypes = [
            ctypes.c_void_p,
            ctypes.c_int,
            ctypes.c_void_p,
            ctypes.c_int,
            ctypes.c_int,
            ctypes.c_void_p,
            ctypes.c_int,
            ctypes.c_int,
        ]
        _WRITE_FLOAT = function
    frames = block.shape[0]
    if frames == 0:
        return
    assert block.flags.c_contiguous and block.dtype == np.float32
    pointer = block.ctypes.data
    _WRITE_FLOAT(synth.synth, frames, pointer, 0, 2, pointer, 1, 2)  # type: ignore[attr-defined]


# ---------------------------------------------------------------- loudness and files


def dbfs_to_gain(dbfs: float) -> float:
    return float(10.0 ** (dbfs / 20.0))


def normalize_loudness(
    audio: np.ndarray,
    *,
    target_rms_dbfs: float = DEFAULT_TARGET_RMS_DBFS,
    peak_limit_dbfs: float = DEFAULT_PEAK_LIMIT_DBFS,
) -> np.ndarray:
    """Scale to an RMS target, then down if the peak would pass the limit. Silence stays silent."""
    audio = np.asarray(audio, dtype=np.float32)
    rms = float(np.sqrt(np.mean(np.square(audio, dtype=np.float64)))) if audio.size else 0.0
    peak = float(np.max(np.abs(audio))) if audio.size else 0.0
    if rms <= 1e-9 or peak <= 1e-9:
        return audio
    gain = min(dbfs_to_gain(target_rms_dbfs) / rms, dbfs_to_gain(peak_limit_dbfs) / peak)
    return (audio * gain).astype(np.float32)


def audio_to_wav_bytes(audio: np.ndarray, sample_rate_hz: int) -> bytes:
    """16-bit PCM WAV bytes."""
    import soundfile

    buffer = io.BytesIO()
    soundfile.write(buffer, np.asarray(audio), sample_rate_hz, format="WAV", subtype="PCM_16")
    return buffer.getvalue()


def _encoded(audio: np.ndarray, sample_rate_hz: int, *, block_frames: int, **format_: Any) -> bytes:
    """`audio` written by libsndfile into one compressed file in memory, `block_frames` at a
    time (`format_`: its format, subtype and encoder options)."""
    import soundfile

    data = np.asarray(audio, dtype=np.float32)
    buffer = io.BytesIO()
    with soundfile.SoundFile(
        buffer,
        mode="w",
        samplerate=sample_rate_hz,
        channels=1 if data.ndim == 1 else data.shape[1],
        **format_,
    ) as handle:
        for start in range(0, max(len(data), 1), block_frames):
            handle.write(data[start : start + block_frames])
    return buffer.getvalue()


def audio_to_ogg_bytes(
    audio: np.ndarray, sample_rate_hz: int, *, compression_level: float = 0.5
) -> bytes:
    """OGG Vorbis bytes (a fraction of the WAV's size) for playback and download.

    `compression_level` runs from 0 (best quality) to 1 (smallest file).
    """
    # libsndfile 1.2 crashes when one write hands the Vorbis encoder too many frames.
    return _encoded(
        audio,
        sample_rate_hz,
        block_frames=OGG_WRITE_BLOCK_FRAMES,
        format="OGG",
        subtype="VORBIS",
        compression_level=compression_level,
    )


def audio_to_mp3_bytes(
    audio: np.ndarray, sample_rate_hz: int, *, compression_level: float = MP3_COMPRESSION_LEVEL
) -> bytes:
    """MP3 (MPEG-1/2 Layer III, variable bit rate) bytes: the one compressed format every
    browser plays, Safari and iPhones included (OGG Vorbis is not), and a download people know.

    `compression_level` runs from 0 (best quality) to 1 (smallest file).

    Raises:
        InvalidSettingError: a sample rate MP3 cannot carry (see `MP3_SAMPLE_RATES_HZ`).
    """
    if sample_rate_hz not in MP3_SAMPLE_RATES_HZ:
        raise InvalidSettingError(
            f"MP3 cannot carry {sample_rate_hz} Hz audio; use one of {MP3_SAMPLE_RATES_HZ}"
        )
    return _encoded(
        audio,
        sample_rate_hz,
        block_frames=max(len(audio), 1),  # the MP3 encoder takes it in one write
        format="MP3",
        subtype="MPEG_LAYER_III",
        compression_level=compression_level,
        bitrate_mode="VARIABLE",
    )


def audio_to_ogg_and_mp3(audio: np.ndarray, sample_rate_hz: int) -> tuple[bytes, bytes]:
    """(OGG, MP3) of the same audio, the MP3 encoded in a second thread while this one writes
    the OGG: libsndfile lets go of the GIL while it encodes, so on two cores the pair takes the
    MP3's time alone (16 s of piano: 0.28-0.35 s against 0.40-0.45 s one after the other, and
    no OGG to decode again for the MP3, as `ogg_to_mp3_bytes` must).

    Raises:
        InvalidSettingError: a sample rate MP3 cannot carry (see `MP3_SAMPLE_RATES_HZ`).
    """
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="tunesmith-mp3") as pool:
        mp3 = pool.submit(audio_to_mp3_bytes, audio, sample_rate_hz)
        ogg = audio_to_ogg_bytes(audio, sample_rate_hz)
        return ogg, mp3.result()


def ogg_to_mp3_bytes(ogg: bytes, *, compression_level: float = MP3_COMPRESSION_LEVEL) -> bytes:
    """The same audio as MP3, for an OGG this module made (a visitor's file goes through
    `core.audio.decoding`, with its limits). Decoding the OGG takes a tenth of rendering the
    MIDI again (0.03 s against 0.2 s for a 16 s tune, measured), and the page waits for it.

    Raises:
        InvalidMusicError: the bytes are not audio soundfile can read.
    """
    import soundfile

    try:
        audio, sample_rate_hz = soundfile.read(io.BytesIO(ogg), dtype="float32")
    except RuntimeError as error:  # soundfile's LibsndfileError
        raise InvalidMusicError(f"the audio cannot be read: {error}") from error
    return audio_to_mp3_bytes(audio, int(sample_rate_hz), compression_level=compression_level)


def midi_to_wav_bytes(
    midi: bytes | Path | str | pretty_midi.PrettyMIDI,
    *,
    sample_rate_hz: int = DEFAULT_SAMPLE_RATE_HZ,
    program: int | None = None,
    soundfont: bytes | Path | str | None = None,
    tempo_bpm: float | None = None,
) -> bytes:
    """`midi_to_audio` then `audio_to_wav_bytes`: ready for `st.audio` or a file."""
    audio = midi_to_audio(
        midi,
        sample_rate_hz=sample_rate_hz,
        program=program,
        soundfont=soundfont,
        tempo_bpm=tempo_bpm,
    )
    return audio_to_wav_bytes(audio, sample_rate_hz)
