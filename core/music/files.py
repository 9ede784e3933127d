"""Symbolic music files (MIDI, MusicXML, ABC) → pieces on a grid, with clear refusals.

MIDI is read with pretty_midi (fast and exact: onsets come from ticks, so a quantized file
round-trips exactly); MusicXML and ABC with music21. A file may hold several pieces (an ABC
tune book, a MusicXML opus), so readers return a list. Each piece keeps the first time signature
its file states (`Piece.meter`), "" when it states none.
"""

from __future__ import annotations

import io
import logging
import struct
import tempfile
import zipfile
import zlib
from dataclasses import replace
from enum import Enum
from pathlib import Path

from core.errors import FileTooLargeError, InvalidMusicError, MusicLimitError
from core.music.keys import estimate_key, key_name
from core.music.meter import meter_text
from core.music.midi import (
    MAX_MIDI_NOTES,
    first_meter,
    first_tempo_bpm,
    pretty_midi_to_notes,
    quantize,
    read_midi,
)
from core.music.piece import DEFAULT_STEPS_PER_QUARTER, DEFAULT_TEMPO_BPM, Note, Piece
from core.settings import setting_value

log = logging.getLogger(__name__)

# Uploads above this are refused before parsing. A 20 MB MIDI file holds millions of notes;
# real scores are far below it. Override with TUNESMITH_MAX_MUSIC_FILE_MB.
MAX_MUSIC_FILE_MB_ENV = "TUNESMITH_MAX_MUSIC_FILE_MB"  # its range: core.settings
DEFAULT_MAX_MUSIC_FILE_MB = 20.0


# A piece longer than this many beats (quarter notes), or with more notes, is refused after
# reading and before encoding: two notes a year apart would otherwise become millions of
# time-shift tokens. 20,000 beats is almost three hours at 120 BPM. A MIDI file's notes are
# also counted while it is read (core.music.midi), against the same number.
MAX_PIECE_BEATS = 20_000
MAX_PIECE_NOTES = MAX_MIDI_NOTES
# A piece's tempo only sets its playback speed, but 0.01 BPM makes one bar last hours and
# 100,000 BPM plays it in a blink; real music lies far inside this range.
MIN_TEMPO_BPM = 10.0
MAX_TEMPO_BPM = 1_000.0

# A compressed MusicXML file holds the score, META-INF/container.xml and perhaps a few images
# or parts. zipfile reads the whole list of packed files before anything can be counted (an
# 18 MB list names 400,000 files: 2.3 s and 150 MB), so the list's size is checked first, from
# the archive's end record; each entry of it takes about 50-300 bytes.
MAX_MXL_FILES = 100
MAX_MXL_DIRECTORY_BYTES = 1_000 * MAX_MXL_FILES
# The score is inflated this much at a time and counted, so a member that lies about its size
# costs at most one chunk beyond the limit.
UNPACK_CHUNK_BYTES = 1_000_000
# The zip format's records that say where the list is and how long (what zipfile reads).
ZIP_END_RECORD, ZIP_END_RECORD_BYTES = b"PK\x05\x06", 22
ZIP_MAX_COMMENT_BYTES = 65_535
ZIP64_LOCATOR, ZIP64_LOCATOR_BYTES = b"PK\x06\x07", 20
ZIP64_END_RECORD, ZIP64_END_RECORD_BYTES = b"PK\x06\x06", 56


def max_music_file_bytes() -> int:
    """The largest music file read, in bytes (`TUNESMITH_MAX_MUSIC_FILE_MB`)."""
    return int(setting_value(MAX_MUSIC_FILE_MB_ENV) * 1e6)


class MusicFormat(Enum):
    MIDI = "midi"
    MUSICXML = "musicxml"
    ABC = "abc"


EXTENSIONS: dict[str, MusicFormat] = {
    ".mid": MusicFormat.MIDI,
    ".midi": MusicFormat.MIDI,
    ".kar": MusicFormat.MIDI,
    ".xml": MusicFormat.MUSICXML,
    ".musicxml": MusicFormat.MUSICXML,
    ".mxl": MusicFormat.MUSICXML,
    ".abc": MusicFormat.ABC,
}
MUSIC_UPLOAD_TYPES = [ext.lstrip(".") for ext in EXTENSIONS]


def detect_format(name: str, data: bytes) -> MusicFormat:
    """The file's format from its extension, checked against its first bytes."""
    suffix = Path(name).suffix.lower()
    if suffix not in EXTENSIONS:
        raise InvalidMusicError(
            f"{name}: unsupported file type {suffix or '(none)'}; "
            f"use one of {', '.join(sorted(EXTENSIONS))}"
        )
    fmt = EXTENSIONS[suffix]
    head = data[:4096]
    if fmt is MusicFormat.MIDI and not head.startswith(b"MThd"):
        raise InvalidMusicError(f"{name}: not a MIDI file (it does not start with a MIDI header)")
    if fmt is MusicFormat.MUSICXML:
        if suffix == ".mxl":
            if not zipfile.is_zipfile(io.BytesIO(data)):
                raise InvalidMusicError(f"{name}: not a compressed MusicXML (.mxl) file")
        elif b"<score-partwise" not in head and b"<score-timewise" not in head:
            raise InvalidMusicError(f"{name}: not a MusicXML file (no <score-partwise> element)")
    if fmt is MusicFormat.ABC:
        try:
            text = data.decode("utf-8", errors="strict")
        except UnicodeDecodeError:
            text = data.decode("latin-1")
        if "\x00" in text or not any(line.startswith("K:") for line in text.splitlines()):
            raise InvalidMusicError(f"{name}: not an ABC file (no K: key line)")
    return fmt


def read_music(
    source: bytes | Path | str,
    *,
    name: str | None = None,
    steps_per_quarter: int = DEFAULT_STEPS_PER_QUARTER,
    pickups: bool = False,
) -> list[Piece]:
    """Read one file (bytes or a path) into its pieces, on a grid of `steps_per_quarter`.

    With `pickups`, a MusicXML/ABC score's upbeat (a short first bar) becomes the piece's
    `pickup_steps`, so its bar lines fall where the score's do (a melody to harmonize). Off by
    default: the collections' pieces, their parse cache and every figure measured on them
    start on a bar line, and their models' openings carry the pickups instead
    (`core.data.pickups`); MIDI states no upbeat either way.

    Raises:
        InvalidMusicError: the file is empty, not of its named type, corrupt, or has no notes.
            The message starts with the file's name and says why.
        FileTooLargeError: (an InvalidMusicError) the file passes a limit of this server: its
            size, packed or unpacked, or (`MusicLimitError`) its notes, events or length.
    """
    if isinstance(source, bytes):
        data = source
        name = name or "upload"
    else:
        path = Path(source)
        name = name or path.name
        size = path.stat().st_size if path.exists() else -1
        if size < 0:
            raise InvalidMusicError(f"{name}: no such file")
        _check_size(name, size)
        data = path.read_bytes()
    _check_size(name, len(data))
    fmt = detect_format(name, data)
    if fmt is MusicFormat.MIDI:
        pieces = [_midi_to_piece(data, name, steps_per_quarter)]
    else:
        if Path(name).suffix.lower() == ".mxl":
            data = mxl_to_musicxml(data, name=name)
        pieces = _music21_to_pieces(data, name, fmt, steps_per_quarter, pickups=pickups)
    pieces = [p for p in pieces if p.notes]
    if not pieces:
        raise InvalidMusicError(f"{name}: the file contains no notes")
    for piece in pieces:
        _check_piece_bounds(name, piece)
    return pieces


def _check_piece_bounds(name: str, piece: Piece) -> None:
    beats = piece.length_steps / piece.steps_per_quarter
    if beats > MAX_PIECE_BEATS:
        raise MusicLimitError(
            f"{name}: {piece.name} lasts {beats:,.0f} beats, above the {MAX_PIECE_BEATS:,} beat "
            "limit (a huge silence or an endless note?)"
        )
    if len(piece.notes) > MAX_PIECE_NOTES:
        raise MusicLimitError(
            f"{name}: {piece.name} has {len(piece.notes):,} notes, above the "
            f"{MAX_PIECE_NOTES:,} note limit"
        )
    if not MIN_TEMPO_BPM <= piece.tempo_bpm <= MAX_TEMPO_BPM:
        raise InvalidMusicError(
            f"{name}: {piece.name} has a tempo of {piece.tempo_bpm:g} BPM, outside "
            f"{MIN_TEMPO_BPM:g}..{MAX_TEMPO_BPM:g} BPM: it could not be played"
        )


def mxl_to_musicxml(data: bytes, *, name: str) -> bytes:
    """The score a compressed MusicXML (.mxl) file holds, unpacked and held to the size limit.

    A small .mxl can declare false sizes and inflate to gigabytes (a decompression bomb), and a
    reader given the archive inflates a member in one call. So the score is unpacked here, a
    chunk at a time against a real byte count, and only its bytes go on: nothing downstream
    opens the archive again.

    Raises:
        InvalidMusicError: a corrupt archive, or one with no score in it.
        FileTooLargeError: it unpacks to more than the size limit; (`MusicLimitError`) it packs
            more files than `MAX_MXL_FILES`.
    """
    _check_zip_directory(data, name=name)
    limit = max_music_file_bytes()
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = archive.infolist()
            if len(members) > MAX_MXL_FILES:
                raise MusicLimitError(_too_many_files(name, len(members)))
            declared = sum(member.file_size for member in members)
            if declared > limit:  # an honest archive says what it unpacks to
                raise FileTooLargeError(
                    f"{name}: the file unpacks to {declared / 1e6:.1f} MB, above the "
                    f"{limit / 1e6:.0f} MB limit"
                )
            member = _score_member(members)
            if member is None:
                raise InvalidMusicError(
                    f"{name}: the compressed MusicXML file holds no score (no .musicxml or .xml "
                    "file in it)"
                )
            if member.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
                # other methods inflate a whole block in one call, whatever is asked for
                raise InvalidMusicError(
                    f"{name}: the score in it is packed with a method MusicXML files do not use"
                )
            return _unpack(archive, member, name=name, limit=limit)
    except InvalidMusicError:
        raise
    except (zipfile.BadZipFile, zlib.error, OSError, EOFError, ValueError, RuntimeError,
            NotImplementedError) as error:  # fmt: skip
        raise InvalidMusicError(f"{name}: a corrupt compressed MusicXML file ({error})") from error


def _check_zip_directory(data: bytes, *, name: str) -> None:
    """Refuse an archive whose list of packed files is too long, before zipfile reads it all:
    the end record (found where zipfile finds it) says how many bytes the list takes, and
    zipfile reads exactly those."""
    end = len(data) - ZIP_END_RECORD_BYTES
    if not (end >= 0 and data.startswith(ZIP_END_RECORD, end) and data.endswith(b"\0\0")):
        end = data.rfind(ZIP_END_RECORD, max(0, end - ZIP_MAX_COMMENT_BYTES - 1))
        if end < 0 or end + ZIP_END_RECORD_BYTES > len(data):
            return  # no end record: zipfile refuses it as corrupt
    _, _, _, _, files, directory_bytes, _, _ = struct.unpack_from("<4s4H2IH", data, end)
    zip64 = end - ZIP64_LOCATOR_BYTES - ZIP64_END_RECORD_BYTES
    if (
        zip64 >= 0
        and data.startswith(ZIP64_LOCATOR, end - ZIP64_LOCATOR_BYTES)
        and data.startswith(ZIP64_END_RECORD, zip64)
    ):  # then zipfile takes the counts from the ZIP64 record
        files, directory_bytes = struct.unpack_from("<2Q", data, zip64 + 32)
    if files > MAX_MXL_FILES or directory_bytes > MAX_MXL_DIRECTORY_BYTES:
        raise MusicLimitError(_too_many_files(name, files if files > MAX_MXL_FILES else None))


def _too_many_files(name: str, files: int | None) -> str:
    count = f"{files:,} files" if files is not None else "too many files"
    return (
        f"{name}: the compressed MusicXML file packs {count}, above the {MAX_MXL_FILES} file "
        "limit (a score needs two or three)"
    )


def _score_member(members: list[zipfile.ZipInfo]) -> zipfile.ZipInfo | None:
    """The member music21 reads as the score: the first .musicxml, .xml or .mxl file outside
    META-INF (a file named just ".xml" too: Noteflight names untitled scores so)."""
    for member in members:
        if "META-INF" in member.filename:
            continue
        if Path(member.filename).suffix in (".musicxml", ".xml", ".mxl") or (
            member.filename == ".xml"
        ):
            return member
    return None


def _unpack(archive: zipfile.ZipFile, member: zipfile.ZipInfo, *, name: str, limit: int) -> bytes:
    parts = []
    unpacked = 0
    with archive.open(member) as packed:
        while chunk := packed.read(UNPACK_CHUNK_BYTES):
            unpacked += len(chunk)
            if unpacked > limit:
                raise FileTooLargeError(
                    f"{name}: the file unpacks to more than the {limit / 1e6:.0f} MB limit"
                )
            parts.append(chunk)
    return b"".join(parts)


def _check_size(name: str, size: int) -> None:
    if size == 0:
        raise InvalidMusicError(f"{name}: the file is empty")
    limit = max_music_file_bytes()
    if size > limit:
        raise FileTooLargeError(
            f"{name}: the file is {size / 1e6:.1f} MB, above the {limit / 1e6:.0f} MB limit"
        )


def _with_key(piece: Piece) -> Piece:
    tonic, mode = estimate_key(piece.notes)
    return replace(piece, key=key_name(tonic, mode))


def _midi_to_piece(data: bytes, name: str, steps_per_quarter: int) -> Piece:
    midi = read_midi(data, name=name)
    notes = pretty_midi_to_notes(midi, steps_per_quarter=steps_per_quarter)
    tempo = first_tempo_bpm(midi)
    return _with_key(
        Piece(Path(name).stem, notes, steps_per_quarter, round(tempo, 3), meter=first_meter(midi))
    )


def _music21_to_pieces(
    data: bytes, name: str, fmt: MusicFormat, steps_per_quarter: int, *, pickups: bool = False
) -> list[Piece]:
    import music21  # slow to import; only files that need it pay for it

    try:
        if fmt is MusicFormat.ABC:
            parsed = music21.converter.parseData(
                data.decode("utf-8", errors="replace"), format="abc"
            )
        else:  # the score's own bytes: an .mxl was unpacked by `mxl_to_musicxml`
            with tempfile.TemporaryDirectory() as tmp:
                path = Path(tmp) / "score.musicxml"
                path.write_bytes(data)
                parsed = music21.converter.parse(path, format="musicxml", forceSource=True)
    except Exception as error:  # music21 raises many unrelated types for bad input
        raise InvalidMusicError(
            f"{name}: music21 could not parse it ({type(error).__name__}: {error})"
        ) from error
    scores = list(parsed.scores) if isinstance(parsed, music21.stream.Opus) else [parsed]
    stem = Path(name).stem
    pieces = []
    for index, score in enumerate(scores, start=1):
        title = (score.metadata.title if score.metadata else None) or ""
        if len(scores) == 1:
            piece_name = stem
        else:
            piece_name = f"{stem} #{index}" + (f" {title}" if title else "")
        try:
            piece = _music21_score_to_piece(score, piece_name, steps_per_quarter)
            if pickups:
                piece = _with_pickup(piece, score)
        except Exception as error:
            log.warning("%s: skipped %s (%s)", name, piece_name, error)
            continue
        pieces.append(piece)
    return pieces


def _music21_score_to_piece(score: object, name: str, steps_per_quarter: int) -> Piece:
    import music21

    assert isinstance(score, music21.stream.Stream)
    stripped = score.stripTies(inPlace=False)
    flat = stripped.flatten()
    events: list[tuple[float, float, int]] = []
    for element in flat.notes:
        length = float(element.duration.quarterLength)
        if length <= 0 or element.duration.isGrace:
            continue
        onset = float(element.offset)
        pitches = element.pitches if hasattr(element, "pitches") else ()
        events.extend((onset, length, p.midi) for p in pitches)
    notes: tuple[Note, ...] = quantize(events, steps_per_quarter=steps_per_quarter)
    tempo = DEFAULT_TEMPO_BPM
    marks = flat.getElementsByClass(music21.tempo.MetronomeMark)
    if marks:
        bpm = marks[0].getQuarterBPM()
        if bpm:
            tempo = float(bpm)
    return _with_key(
        Piece(name, notes, steps_per_quarter, round(tempo, 3), meter=_music21_meter(stripped))
    )


def score_pickup_quarters(score: object) -> float:
    """The length in quarter notes of a score's pickup: its first measure when that is shorter
    than a bar of its meter (0.0 when it is a whole bar, or the score has no measures)."""
    import music21

    assert isinstance(score, music21.stream.Stream)
    parts = list(score.parts) if isinstance(score, music21.stream.Score) else [score]
    measures = list(parts[0].getElementsByClass(music21.stream.Measure)) if parts else []
    if len(measures) < 2:
        return 0.0
    first = measures[0]
    length = float(first.duration.quarterLength)
    bar = float(first.barDuration.quarterLength)
    return length if 0.0 < length < bar else 0.0


def _with_pickup(piece: Piece, score: object) -> Piece:
    """`piece` with its score's upbeat, when it has one that is a whole number of steps shorter
    than a bar of the piece's meter (else unchanged: bars from its start)."""
    steps = score_pickup_quarters(score) * piece.steps_per_quarter
    if steps <= 0 or steps != round(steps):
        return piece
    try:
        return replace(piece, pickup_steps=round(steps))
    except ValueError:  # not shorter than a bar of the meter the piece states
        return piece


def _music21_meter(score: object) -> str:
    """The score's first time signature ("6/8", from an ABC tune's M: line too), or "" when it
    states none. A score whose meter changes gives its first one; an additive one ("3+2/8")
    reads as its total (5/8).

    Searched in the score's own order (its first part's first measure first), not in a flattened
    copy: music21 gives an ABC tune's short bars signatures of their own (1/32 for a bar of one
    thirty-second) and shares one signature object between bars, which flattening moves to its
    last place.
    """
    import music21

    assert isinstance(score, music21.stream.Stream)
    first = score.recurse().getElementsByClass(music21.meter.TimeSignature).first()
    if first is None:
        return ""
    return meter_text(first.numerator, first.denominator)
