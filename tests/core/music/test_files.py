import pytest

from core.errors import FileTooLargeError, InvalidMusicError, MusicLimitError
from core.music.files import read_music


@pytest.mark.parametrize(
    "name, reason",
    [
        ("not_music.mid", "not a MIDI file"),
        ("truncated.mid", "truncated or corrupt"),
        ("empty.mid", "empty"),
        ("no_notes.mid", "no notes"),
        ("absurd_ticks.mid", "absurd timing"),
        ("mislabelled.abc", "not an ABC file"),
    ],
)
def test_bad_files_are_refused_with_their_name_and_reason(music_fixture, name, reason):
    with pytest.raises(InvalidMusicError) as raised:
        read_music(music_fixture(name))
    message = str(raised.value)
    assert message.startswith(f"{name}: ")
    assert reason in message


def test_oversized_file_is_refused_before_parsing(music_fixture, monkeypatch):
    monkeypatch.setenv("TUNESMITH_MAX_MUSIC_FILE_MB", "0.0001")  # 100 bytes
    with pytest.raises(FileTooLargeError, match=r"scale.mid: the file is .* above the"):
        read_music(music_fixture("scale.mid"))


def test_unknown_extension_and_bytes_with_a_name():
    with pytest.raises(InvalidMusicError, match=r"song\.txt: unsupported file type \.txt"):
        read_music(b"MThd....", name="song.txt")
    with pytest.raises(InvalidMusicError, match=r"^score\.musicxml: not a MusicXML file"):
        read_music(b"<html></html>", name="score.musicxml")


def test_abc_tune_book_gives_one_piece_per_tune(music_fixture):
    pieces = read_music(music_fixture("tunes.abc"))
    assert [p.name for p in pieces] == [
        "tunes #1 First Little Tune",
        "tunes #2 Second Little Tune",
    ]
    first = pieces[0]
    assert first.tempo_bpm == pytest.approx(100.0)
    assert first.key == "G major"
    # the rest (z2, a quarter) at the start of bar 3 (step 32) leaves a gap until step 36
    onsets = {n.onset_step for n in first.notes}
    assert 32 not in onsets and 36 in onsets
    assert not any(n.onset_step < 32 < n.end_step for n in first.notes)
    assert pieces[1].key == "A minor"


def test_musicxml_and_midi_of_the_same_tune_agree(music_fixture):
    from_xml = read_music(music_fixture("tune.musicxml"))[0]
    from_abc = read_music(music_fixture("tunes.abc"))[0]
    assert from_xml.notes == from_abc.notes


def test_missing_path():
    with pytest.raises(InvalidMusicError, match=r"nothing\.mid: no such file"):
        read_music("/nonexistent/nothing.mid")


def _midi_with_tempo(tempo: int) -> bytes:
    import io

    import mido

    midi = mido.MidiFile(ticks_per_beat=480)
    track = mido.MidiTrack()
    midi.tracks.append(track)
    track.append(mido.MetaMessage("set_tempo", tempo=tempo))
    track.append(mido.Message("note_on", note=60, velocity=64, time=0))
    track.append(mido.Message("note_off", note=60, velocity=0, time=480))
    buffer = io.BytesIO()
    midi.save(file=buffer)
    return buffer.getvalue()


def test_zero_tempo_or_division_is_refused_and_the_batch_goes_on(tmp_path):
    from core.data.datasets import load_files

    zero_tempo = _midi_with_tempo(0)
    zero_division = bytearray(_midi_with_tempo(500_000))
    header = zero_division.index(b"MThd")
    zero_division[header + 12 : header + 14] = b"\x00\x00"  # 0 ticks per quarter note
    for name, data in (("tempo0.mid", zero_tempo), ("division0.mid", bytes(zero_division))):
        with pytest.raises(InvalidMusicError, match=rf"^{name}: .*tempo or a division of zero"):
            read_music(data, name=name)
    good = _midi_with_tempo(500_000)
    result = load_files([("tempo0.mid", zero_tempo), ("good.mid", good)], steps_per_quarter=4,
                        use_cache=False)
    assert [p.name for p in result.pieces] == ["good"]
    assert result.errors[0].startswith("tempo0.mid: ")


@pytest.mark.parametrize("microseconds_per_beat", [1, 16_000_000])  # 60M BPM and 3.75 BPM
def test_a_tempo_outside_the_playable_range_is_refused_by_name(microseconds_per_beat):
    with pytest.raises(InvalidMusicError, match=r"^odd\.mid: .*BPM, outside 10\.\.1000 BPM"):
        read_music(_midi_with_tempo(microseconds_per_beat), name="odd.mid")


def test_a_compressed_musicxml_bomb_is_refused_before_it_is_unpacked(tmp_path):
    import io
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("score.xml", "<score-partwise>" + " " * 30_000_000)  # 30 MB of spaces
    data = buffer.getvalue()
    assert len(data) < 100_000  # small on the wire
    with pytest.raises(FileTooLargeError, match=r"^bomb\.mxl: the file unpacks to 30\.0 MB"):
        read_music(data, name="bomb.mxl")


def test_a_huge_silence_between_two_notes_is_refused_before_encoding():
    import io

    import mido

    midi = mido.MidiFile(ticks_per_beat=96)  # few ticks: pretty_midi's own tick limit holds
    track = mido.MidiTrack()
    midi.tracks.append(track)
    for start_gap in (0, 96 * 50_000):  # the second note 50,000 beats later
        track.append(mido.Message("note_on", note=60, velocity=64, time=start_gap))
        track.append(mido.Message("note_off", note=60, velocity=0, time=96))
    buffer = io.BytesIO()
    midi.save(file=buffer)
    with pytest.raises(InvalidMusicError, match=r"^gap\.mid: .* lasts 50,002 beats, above the"):
        read_music(buffer.getvalue(), name="gap.mid")


def test_an_abc_note_that_never_ends_is_refused_before_encoding():
    data = b"X:1\nT:big\nL:1/4\nK:C\nC9999999|\n"  # 35 bytes, one note of ten million beats
    with pytest.raises(InvalidMusicError, match=r"^big\.abc: big lasts 9,999,999 beats"):
        read_music(data, name="big.abc")


# ---------------------------------------------------------------- compressed MusicXML (.mxl)


def _mxl(members: dict[str, bytes], *, compression: int = 8) -> bytes:
    import io
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=compression) as archive:
        for member, data in members.items():
            archive.writestr(member, data)
    return buffer.getvalue()


CONTAINER = (b'<?xml version="1.0"?><container><rootfiles><rootfile full-path="tune.xml"/>'
             b"</rootfiles></container>")  # fmt: skip


def _with_declared_size(mxl: bytes, size: int) -> bytes:
    """The archive's first member, claiming to unpack to `size` bytes (both headers lie)."""
    import struct

    forged = bytearray(mxl)
    struct.pack_into("<I", forged, 22, size)  # the local header's uncompressed size
    directory = forged.rindex(b"PK\x01\x02")
    struct.pack_into("<I", forged, directory + 24, size)  # the central directory's
    return bytes(forged)


def test_an_mxl_is_read_as_the_score_it_holds(music_fixture):
    score = music_fixture("tune.musicxml").read_bytes()
    data = _mxl({"META-INF/container.xml": CONTAINER, "tune.xml": score})
    assert read_music(data, name="tune.mxl") == read_music(score, name="tune.musicxml")


def test_an_mxl_whose_sizes_lie_is_refused_without_inflating_it(monkeypatch):
    import zipfile

    import music21

    def no_archive(*args, **kwargs):
        raise AssertionError("music21 was handed the archive")

    monkeypatch.setattr(music21.converter, "ArchiveManager", no_archive)
    monkeypatch.setenv("TUNESMITH_MAX_MUSIC_FILE_MB", "1")
    inflated = b"<score-partwise>" + b" " * 5_000_000  # 5 MB, above the 1 MB limit
    data = _with_declared_size(_mxl({"score.xml": inflated}), 1_000)
    assert len(data) < 20_000
    reads = []
    real_read = zipfile.ZipExtFile.read
    monkeypatch.setattr(zipfile.ZipExtFile, "read",
                        lambda self, n=-1: reads.append(n) or real_read(self, n))  # fmt: skip
    with pytest.raises(InvalidMusicError, match=r"^liar\.mxl: a corrupt compressed MusicXML"):
        read_music(data, name="liar.mxl")
    assert reads and all(0 < n <= 1_000_000 for n in reads)  # in chunks, never all at once


def test_an_mxl_packing_too_many_files_is_refused_before_its_list_is_read():
    data = _mxl({f"page{i}.png": b"" for i in range(150)})
    with pytest.raises(MusicLimitError, match=r"^pages\.mxl: .*packs 150 files, above the 100"):
        read_music(data, name="pages.mxl")


def test_an_mxl_without_a_score_or_with_an_odd_compression_is_refused(music_fixture):
    import zipfile

    with pytest.raises(InvalidMusicError, match=r"^empty\.mxl: .*holds no score"):
        read_music(_mxl({"META-INF/container.xml": CONTAINER}), name="empty.mxl")
    score = music_fixture("tune.musicxml").read_bytes()
    packed = _mxl({"tune.xml": score}, compression=zipfile.ZIP_BZIP2)
    with pytest.raises(InvalidMusicError, match=r"^odd\.mxl: .*packed with a method MusicXML"):
        read_music(packed, name="odd.mxl")


def test_refusals_by_a_limit_say_so_by_their_type(music_fixture, monkeypatch):
    """Only a limit's refusals are FileTooLargeErrors (the parse cache keeps no such refusal)."""
    import core.music.files as files

    monkeypatch.setattr(files, "MAX_PIECE_NOTES", 3)
    with pytest.raises(MusicLimitError, match=r"^scale\.mid: scale has \d+ notes, above the 3"):
        read_music(music_fixture("scale.mid"))
    monkeypatch.setattr(files, "MAX_PIECE_BEATS", 1)
    with pytest.raises(MusicLimitError, match=r"lasts \d+ beats, above the 1 beat limit"):
        read_music(music_fixture("scale.mid"))
    with pytest.raises(InvalidMusicError) as raised:
        read_music(music_fixture("no_notes.mid"))
    assert not isinstance(raised.value, FileTooLargeError)


# ---------------------------------------------------------------- the meter a file states


def _corpus(path: str):
    from pathlib import Path

    import music21.corpus

    return Path(music21.corpus.__file__).parent / path


def test_the_meter_comes_from_the_abc_m_line(music_fixture):
    first, second = read_music(music_fixture("tunes.abc"))
    assert (first.meter, second.meter) == ("4/4", "6/8")
    jig = read_music(_corpus("ryansMammoth/BanishMisfortune.abc"))[0]
    slip_jig = read_music(_corpus("ryansMammoth/AndrewCareysSlipjig.abc"))[0]
    hornpipe = read_music(_corpus("ryansMammoth/AcrobatsHornpipe.abc"))[0]  # M:C|, cut time
    assert (jig.meter, slip_jig.meter, hornpipe.meter) == ("6/8", "9/8", "2/2")


def test_every_tune_of_a_tune_book_keeps_its_own_meter():
    """O'Neill's first 50 tunes, against their own M: lines (M:C is 4/4): music21 gives short
    bars signatures of their own (1/8, 1/32), which are not the tune's meter."""
    import re

    book = _corpus("oneills1850/0001-0050.abc")
    tunes = [t for t in re.split(r"(?m)^(?=X:)", book.read_text()) if t.startswith("X:")]
    written = [re.search(r"(?m)^M:\s*(\S+)", t).group(1).replace("C", "4/4") for t in tunes]
    pieces = read_music(book)
    assert len(pieces) == len(written) == 50
    assert [p.meter for p in pieces] == written
    assert {"2/4", "3/4", "4/4", "6/8", "9/8"} <= set(written)


def test_a_meter_that_changes_gives_the_first_one():
    abc = b"X:1\nT:Changes\nM:6/8\nL:1/8\nK:D\nDEF GAB|[M:9/8]ABc def gfe|[M:3/4]d2 e2 f2|\n"
    assert read_music(abc, name="changes.abc")[0].meter == "6/8"


def test_the_meter_comes_from_a_musicxml_score(music_fixture):
    assert read_music(music_fixture("tune.musicxml"))[0].meter == "4/4"
    assert read_music(_corpus("bach/bwv269.mxl"))[0].meter == "3/4"  # a chorale in triple time
    assert read_music(_corpus("bach/bwv347.mxl"))[0].meter == "4/4"


def _midi_with_signatures(*signatures: tuple[int, int, int]) -> bytes:
    """A MIDI file of one bar's notes with these (numerator, denominator, tick) signatures and
    no other: mido writes exactly the events it is given."""
    import io

    import mido

    track = mido.MidiTrack()
    last = 0
    for numerator, denominator, tick in signatures:
        track.append(mido.MetaMessage("time_signature", numerator=numerator,
                                      denominator=denominator, time=tick - last))
        last = tick
    for pitch in (62, 66, 69):
        track.append(mido.Message("note_on", note=pitch, velocity=80, time=0))
        track.append(mido.Message("note_off", note=pitch, velocity=0, time=240))
    file = mido.MidiFile(ticks_per_beat=480)
    file.tracks.append(track)
    buffer = io.BytesIO()
    file.save(file=buffer)
    return buffer.getvalue()


def test_the_meter_comes_from_a_midi_time_signature():
    import pretty_midi

    from core.music.midi import midi_to_bytes

    midi = pretty_midi.PrettyMIDI(resolution=480)
    midi.time_signature_changes.append(pretty_midi.TimeSignature(6, 8, 0.0))
    tune = pretty_midi.Instrument(program=0)
    tune.notes += [pretty_midi.Note(80, 62 + i, i * 0.25, (i + 1) * 0.25) for i in range(6)]
    midi.instruments.append(tune)
    assert read_music(midi_to_bytes(midi), name="jig.mid")[0].meter == "6/8"
    changes = _midi_with_signatures((3, 4, 0), (6, 8, 480))
    assert read_music(changes, name="changes.mid")[0].meter == "3/4"


def test_a_midi_file_without_a_time_signature_states_no_meter():
    """MIDI's own default is 4/4, but a file that says nothing has said nothing."""
    assert read_music(_midi_with_signatures(), name="plain.mid")[0].meter == ""
