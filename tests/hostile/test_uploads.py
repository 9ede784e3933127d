"""Hostile uploads of music and audio: each refused, or read, within what one request may cost.

The cases of the probe (issue 29), replayed on small inputs made here: an .mxl whose sizes lie,
one that packs thousands of files, MIDI floods of notes and of other messages, a refusal by a
limit that must not outlive the limit, and audio with many channels at a high rate.
"""

from __future__ import annotations

import io
import struct
import zipfile

import numpy as np
import pytest
import soundfile as sf

from core.audio.decoding import audio_to_array
from core.data.parse_cache import read_music_cached
from core.errors import FileTooLargeError, InvalidAudioError, InvalidMusicError, MusicLimitError
from core.music import midi
from core.music.files import read_music
from tests.hostile.conftest import within

SPQ = 4
# Each refusal below costs well under a second and a few MB once fixed; before, the same inputs
# cost hundreds of MB or seconds. The bounds sit between the two.
CHEAP_CPU_S = 1.0
CHEAP_MB = 50.0


# ---------------------------------------------------------------- inputs


def forged_mxl(*, inflated_bytes: int, declared_bytes: int) -> bytes:
    """A .mxl whose one score inflates to `inflated_bytes` but whose headers declare
    `declared_bytes`. Written by streaming, so making it costs no more than its compressed size."""
    buffer = io.BytesIO()
    with (
        zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive,
        archive.open("score.xml", "w") as member,
    ):
        member.write(b"<score-partwise>")
        spaces = b" " * 1_000_000
        for _ in range(inflated_bytes // len(spaces)):
            member.write(spaces)
    forged = bytearray(buffer.getvalue())
    struct.pack_into("<I", forged, 22, declared_bytes)  # the local header's size
    directory = forged.rindex(b"PK\x01\x02")
    struct.pack_into("<I", forged, directory + 24, declared_bytes)  # the central directory's
    return bytes(forged)


def mxl_of_many_files(files: int) -> bytes:
    """One empty member, listed `files` times: about 47 bytes a file."""
    name = b"a"
    local = struct.pack("<4s5H3I2H", b"PK\x03\x04", 20, 0, 0, 0, 0, 0, 0, 0, len(name), 0)
    entry = struct.pack(
        "<4s6H3I5H2I", b"PK\x01\x02", 20, 20, 0, 0, 0, 0, 0, 0, 0, len(name), 0, 0, 0, 0, 0, 0
    )
    directory = (entry + name) * files
    end = struct.pack(
        "<4s4H2IH",
        b"PK\x05\x06",
        0,
        0,
        min(files, 0xFFFF),
        min(files, 0xFFFF),
        len(directory),
        len(local) + len(name),
        0,
    )
    return local + name + directory + end


def midi_file(track: bytes) -> bytes:
    """A one-track MIDI file around raw track bytes."""
    track += b"\x00\xff\x2f\x00"  # end of track
    header = b"MThd" + struct.pack(">IHHH", 6, 0, 1, 96)
    return header + b"MTrk" + struct.pack(">I", len(track)) + track


def note_flood(notes: int) -> bytes:
    """`notes` notes in 6 bytes each: running status, a note-on of velocity 0 as the note-off."""
    return midi_file(
        b"\x00\x90\x3c\x40" + b"\x18\x3c\x00\x00\x3c\x40" * (notes - 1) + b"\x18\x3c\x00"
    )


def controller_flood(messages: int) -> bytes:
    """One note, then `messages` volume changes in 3 bytes each (running status)."""
    return midi_file(
        b"\x00\x90\x3c\x40\x18\x3c\x00" + b"\x00\xb0\x07\x40" + b"\x00\x07\x40" * messages
    )


def silent_flac(*, rate_hz: int, channels: int, seconds: float) -> bytes:
    buffer = io.BytesIO()
    with sf.SoundFile(
        buffer, "w", samplerate=rate_hz, channels=channels, format="FLAC", subtype="PCM_16"
    ) as file:
        block = np.zeros((rate_hz // 10, channels), dtype=np.int16)
        for _ in range(int(seconds * 10)):
            file.write(block)
    return buffer.getvalue()


# ---------------------------------------------------------------- compressed MusicXML


def test_an_mxl_whose_sizes_lie_is_refused_before_it_inflates(monkeypatch):
    """Probe: 1 MB of .mxl took 2 GB of memory before its refusal; music21 inflated it whole."""
    monkeypatch.setenv("TUNESMITH_MAX_MUSIC_FILE_MB", "1")
    data = forged_mxl(inflated_bytes=200_000_000, declared_bytes=1_000)  # 200 MB in 200 kB
    assert len(data) < 300_000
    with within(cpu_s=CHEAP_CPU_S, mb=CHEAP_MB), pytest.raises(InvalidMusicError) as raised:
        read_music(data, name="bomb.mxl")
    assert str(raised.value).startswith("bomb.mxl: a corrupt compressed MusicXML file")


def test_an_mxl_that_packs_thousands_of_files_is_refused_before_they_are_listed():
    data = mxl_of_many_files(40_000)  # 1.9 MB
    with within(cpu_s=0.2, mb=5), pytest.raises(MusicLimitError) as raised:
        read_music(data, name="pages.mxl")
    assert str(raised.value).startswith(
        "pages.mxl: the compressed MusicXML file packs 40,000 files, above the 100 file limit"
    )


# ---------------------------------------------------------------- MIDI


def test_a_midi_flood_of_notes_is_refused_before_it_is_read(monkeypatch):
    """Probe: 19.9 MB of notes cost 68 s and 2.6 GB before the note limit refused it."""
    monkeypatch.setattr(midi, "MAX_MIDI_NOTES", 1_000)
    data = note_flood(300_000)  # 1.8 MB
    with within(cpu_s=CHEAP_CPU_S, mb=CHEAP_MB), pytest.raises(MusicLimitError) as raised:
        read_music(data, name="flood.mid")
    assert str(raised.value) == (
        "flood.mid: the MIDI file has more notes than the 1,000 note limit"
    )


def test_a_midi_flood_of_controllers_is_refused_before_it_is_read(monkeypatch):
    monkeypatch.setattr(midi, "MAX_MIDI_EVENTS", 5_000)
    data = controller_flood(500_000)  # 1.5 MB
    with within(cpu_s=CHEAP_CPU_S, mb=CHEAP_MB), pytest.raises(MusicLimitError) as raised:
        read_music(data, name="knobs.mid")
    assert str(raised.value).startswith("knobs.mid: the MIDI file has more messages")


# ---------------------------------------------------------------- the parse cache


def test_a_refusal_by_a_limit_is_gone_once_the_limit_is_raised(isolated_data_dir, monkeypatch):
    """Probe: a file refused under a tiny size limit stayed refused, for every workspace."""
    data = note_flood(50)
    monkeypatch.setenv("TUNESMITH_MAX_MUSIC_FILE_MB", "0.0001")  # 100 bytes
    with within(), pytest.raises(FileTooLargeError, match=r"^tune\.mid: the file is 0\.0 MB"):
        read_music_cached(data, name="tune.mid", steps_per_quarter=SPQ)
    monkeypatch.setenv("TUNESMITH_MAX_MUSIC_FILE_MB", "20")
    with within():
        pieces = read_music_cached(data, name="tune.mid", steps_per_quarter=SPQ)
    assert len(pieces) == 1 and pieces[0].notes


# ---------------------------------------------------------------- audio


def test_audio_with_many_channels_at_a_high_rate_is_refused_before_decoding(monkeypatch):
    """Probe: a 384 kHz 8-channel FLAC cost about 40 s of CPU."""
    monkeypatch.setenv("TUNESMITH_MAX_AUDIO_MINUTES", "0.1")  # 6 s
    data = silent_flac(rate_hz=384_000, channels=8, seconds=5.0)  # 15 million samples
    assert len(data) < 500_000
    with within(cpu_s=CHEAP_CPU_S, mb=CHEAP_MB), pytest.raises(InvalidAudioError) as raised:
        audio_to_array(data, name="wide.flac", sample_rate_hz=22_050)
    assert str(raised.value).startswith(
        "wide.flac: 5.0 s of 8 channels at 384,000 Hz is 15,360,000 samples, too many to decode"
    )
