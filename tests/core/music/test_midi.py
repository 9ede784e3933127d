"""Pieces and MIDI (core.music.midi): notes snap to the grid; a file's notes and messages are
counted before pretty_midi reads them."""

import io

import mido
import numpy as np
import pytest

from core.errors import InvalidMusicError, MusicLimitError
from core.music import midi
from core.music.midi import pretty_midi_to_notes, quantize, read_midi
from core.music.piece import Note


def test_quantize_snaps_to_the_grid_and_keeps_at_least_one_step():
    notes = quantize([(0.02, 0.49, 60), (1.01, 0.01, 62)], steps_per_quarter=4)
    assert notes == (Note(0, 60, 2), Note(4, 62, 1))


# ---------------------------------------------------------------- limits, counted while reading


def _midi(*tracks: list[mido.Message | mido.MetaMessage], ticks_per_beat: int = 96) -> bytes:
    """mido writes running status, as most files have it."""
    file = mido.MidiFile(ticks_per_beat=ticks_per_beat)
    for messages in tracks:
        file.tracks.append(mido.MidiTrack(messages))
    buffer = io.BytesIO()
    file.save(file=buffer)
    return buffer.getvalue()


def _notes(count: int, *, channel: int = 0) -> list[mido.Message]:
    messages = []
    for i in range(count):
        pitch = 48 + i % 24
        messages.append(mido.Message("note_on", channel=channel, note=pitch, velocity=64, time=0))
        # a note-on of velocity 0 is a note-off: not a note
        messages.append(mido.Message("note_on", channel=channel, note=pitch, velocity=0, time=24))
    return messages


@pytest.fixture
def no_pretty_midi(monkeypatch):
    """Fail if pretty_midi is asked to read: a refusal must come before it builds anything."""

    def refuse(*args, **kwargs):
        raise AssertionError("pretty_midi read a file the scan should have refused")

    monkeypatch.setattr(midi, "_parse_midi", refuse)


def test_notes_are_counted_before_pretty_midi_reads_them(monkeypatch, no_pretty_midi):
    monkeypatch.setattr(midi, "MAX_MIDI_NOTES", 10)
    data = _midi(_notes(6), _notes(5, channel=1))  # 11 notes over two tracks
    refusal = r"^many\.mid: the MIDI file has more notes than the 10 note limit$"
    with pytest.raises(MusicLimitError, match=refusal):
        read_midi(data, name="many.mid")


def test_a_file_at_the_note_limit_is_read(monkeypatch):
    monkeypatch.setattr(midi, "MAX_MIDI_NOTES", 10)
    parsed = read_midi(_midi(_notes(10)), name="ten.mid")
    assert len(parsed.instruments[0].notes) == 10


@pytest.mark.parametrize(
    ("limit", "messages", "reason"),
    [
        (
            "MAX_MIDI_EVENTS",
            [mido.Message("control_change", control=7, value=i % 128) for i in range(60)],
            r"more messages \(notes, controllers, pitch bends and others\) than the 50 message",
        ),
        (
            "MAX_MIDI_EVENTS",
            [mido.Message("pitchwheel", pitch=i * 10) for i in range(60)],
            r"more messages .* than the 50 message limit",
        ),
        (
            "MAX_MIDI_META_EVENTS",
            [mido.MetaMessage("set_tempo", tempo=400_000 + i, time=1) for i in range(60)],
            r"more meta messages \(tempo changes, signatures, text\) than the 50 message limit",
        ),
        (
            "MAX_MIDI_DATA_BYTES",
            [mido.Message("sysex", data=[1] * 30) for _ in range(2)],
            "more system-exclusive and meta data than the 5e-05 MB limit",
        ),
    ],
)
def test_a_flood_of_other_messages_is_refused_before_reading(
    monkeypatch, no_pretty_midi, limit, messages, reason
):
    monkeypatch.setattr(midi, limit, 50)
    with pytest.raises(MusicLimitError, match=rf"^flood\.mid: the MIDI file has {reason}"):
        read_midi(_midi(messages), name="flood.mid")


def test_the_scan_counts_every_message_mido_reads(music_fixture, monkeypatch):
    """Running status, sysex, meta and two tracks: the scan's counts are mido's, exactly."""
    mixed = [mido.Message("sysex", data=[1, 2, 3]), mido.MetaMessage("text", text="hi")]
    for i in range(20):
        mixed += [
            mido.Message("note_on", note=60, velocity=50, time=5),
            mido.Message("control_change", control=7, value=i, time=1),
            mido.MetaMessage("marker", text="m"),
            mido.Message("note_on", note=60, velocity=0, time=5),
            mido.Message("pitchwheel", pitch=i * 10),
            mido.Message("program_change", program=3),
            mido.Message("note_off", note=60, velocity=10),
        ]
    files = [_midi(mixed, _notes(7)), music_fixture("scale.mid").read_bytes(),
             music_fixture("triplets.mid").read_bytes()]  # fmt: skip
    for data in files:
        parsed = mido.MidiFile(file=io.BytesIO(data))
        messages = [m for track in parsed.tracks for m in track]
        counts = {
            "MAX_MIDI_EVENTS": len(messages),
            "MAX_MIDI_META_EVENTS": sum(m.is_meta for m in messages),
            "MAX_MIDI_NOTES": sum(m.type == "note_on" and m.velocity > 0 for m in messages),
        }
        for limit, count in counts.items():
            monkeypatch.setattr(midi, limit, count)
            midi._check_midi_limits(data, "x")  # exactly at the limit: read
            monkeypatch.setattr(midi, limit, count - 1)
            with pytest.raises(MusicLimitError):
                midi._check_midi_limits(data, "x")
            monkeypatch.undo()


def test_a_corrupt_file_still_gets_the_readers_refusal(music_fixture):
    with pytest.raises(InvalidMusicError, match="truncated or corrupt") as raised:
        read_midi(music_fixture("truncated.mid").read_bytes(), name="cut.mid")
    assert not isinstance(raised.value, MusicLimitError)


def test_ticks_come_back_exactly_across_tempo_changes():
    """Notes' ticks, read back from pretty_midi's seconds at once, are the ticks written."""
    messages: list[mido.Message | mido.MetaMessage] = []
    expected = []
    tick = 0
    for i in range(40):
        if i % 7 == 0:
            messages.append(mido.MetaMessage("set_tempo", tempo=300_000 + 37_919 * i, time=0))
        gap, length = 5 + (i * 13) % 50, 1 + (i * 29) % 90
        messages.append(mido.Message("note_on", note=50 + i, velocity=70, time=gap))
        messages.append(mido.Message("note_off", note=50 + i, velocity=0, time=length))
        tick += gap
        expected.append((tick, tick + length))
        tick += length
    parsed = read_midi(_midi(messages, ticks_per_beat=480))
    loop = [(parsed.time_to_tick(n.start), parsed.time_to_tick(n.end))
            for n in parsed.instruments[0].notes]  # fmt: skip
    assert loop == expected
    times = [t for n in parsed.instruments[0].notes for t in (n.start, n.end)]
    ticks = midi._times_to_ticks(parsed, np.array(times)).tolist()
    assert ticks == [t for pair in expected for t in pair]
    notes = pretty_midi_to_notes(parsed, steps_per_quarter=480)  # a step a tick: exact
    assert [(n.onset_step, n.end_step) for n in notes] == sorted(expected)


# ---------------------------------------------------------------- the meter


def test_a_piece_s_meter_round_trips_through_midi():
    from core.music.files import read_music
    from core.music.midi import first_meter, midi_to_bytes, piece_to_midi
    from core.music.piece import Piece

    jig = Piece("jig", tuple(Note(i * 2, 62 + i % 5, 2) for i in range(12)), 4, 110.0, meter="6/8")
    midi = piece_to_midi(jig)
    assert [(ts.numerator, ts.denominator, ts.time) for ts in midi.time_signature_changes] == [
        (6, 8, 0.0)
    ]
    (again,) = read_music(midi_to_bytes(midi), name="jig.mid")
    assert again.meter == "6/8" and again.notes == jig.notes
    assert first_meter(read_midi(midi_to_bytes(midi))) == "6/8"


def test_a_piece_without_a_meter_writes_no_time_signature_of_its_own():
    """pretty_midi then writes its default 4/4 into the file, which reads back as stated."""
    from core.music.files import read_music
    from core.music.midi import midi_to_bytes, piece_to_midi
    from core.music.piece import Piece

    plain = Piece("plain", (Note(0, 60, 4), Note(4, 64, 4)), 4, 120.0)
    assert piece_to_midi(plain).time_signature_changes == []
    assert read_music(midi_to_bytes(piece_to_midi(plain)), name="plain.mid")[0].meter == "4/4"


def test_a_time_signature_out_of_bounds_states_no_meter():
    from core.music.midi import first_meter

    data = _midi([mido.MetaMessage("time_signature", numerator=4, denominator=64),
                  *_notes(2)])
    assert first_meter(read_midi(data)) == ""
