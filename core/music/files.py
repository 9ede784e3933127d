"""Symbolic music files (MIDI, MusicXML, ABC) → pieces on a grid, with clear refusals.

MIDI is read with pretty_midi (fast and exact: onsets come from ticks, so a quantized file
round-trips exactly); MusicXML and ABC with music21. A file may hold several pieces (an ABC
tune book, a MusicXML opus), so readers return a list.
"""

from __future__ import annotations

import io
import logging
import tempfile
import zipfile
from enum import Enum
from pathlib import Path

from core.errors import FileTooLargeError, InvalidMusicError
from core.music.keys import estimate_key, key_name
from core.music.midi import first_tempo_bpm, pretty_midi_to_notes, quantize, read_midi
from core.music.piece import DEFAULT_STEPS_PER_QUARTER, DEFAULT_TEMPO_BPM, Note, Piece
from core.settings import setting_value

log = logging.getLogger(__name__)

# Uploads above this are refused before parsing. A 20 MB MIDI file holds millions of notes;
# real scores are far below it. Override with TUNESMITH_MAX_MUSIC_FILE_MB.
MAX_MUSIC_FILE_MB_ENV = "TUNESMITH_MAX_MUSIC_FILE_MB"  # its range: core.settings
DEFAULT_MAX_MUSIC_FILE_MB = 20.0


# A piece longer than this many beats (quarter notes), or with more notes, is refused after
# reading and before encoding: two notes a year apart would otherwise become millions of
# time-shift tokens. 20,000 beats is almost three hours at 120 BPM.
MAX_PIECE_BEATS = 20_000
MAX_PIECE_NOTES = 200_000
# A piece's tempo only sets its playback speed, but 0.01 BPM makes one bar last hours and
# 100,000 BPM plays it in a blink; real music lies far inside this range.
MIN_TEMPO_BPM = 10.0
MAX_TEMPO_BPM = 1_000.0


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
            _check_unpacked_size(name, data)
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
) -> list[Piece]:
    """Read one file (bytes or a path) into its pieces, on a grid of `steps_per_quarter`.

    Raises:
        InvalidMusicError: the file is empty, too large, not of its named type, corrupt, or has
            no notes. The message starts with the file's name and says why.
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
        pieces = _music21_to_pieces(data, name, fmt, steps_per_quarter)
    pieces = [p for p in pieces if p.notes]
    if not pieces:
        raise InvalidMusicError(f"{name}: the file contains no notes")
    for piece in pieces:
        _check_piece_bounds(name, piece)
    return pieces


def _check_piece_bounds(name: str, piece: Piece) -> None:
    beats = piece.length_steps / piece.steps_per_quarter
    if beats > MAX_PIECE_BEATS:
        raise InvalidMusicError(
            f"{name}: {piece.name} lasts {beats:,.0f} beats, above the {MAX_PIECE_BEATS:,} beat "
            "limit (a huge silence or an endless note?)"
        )
    if len(piece.notes) > MAX_PIECE_NOTES:
        raise InvalidMusicError(
            f"{name}: {piece.name} has {len(piece.notes):,} notes, above the "
            f"{MAX_PIECE_NOTES:,} note limit"
        )
    if not MIN_TEMPO_BPM <= piece.tempo_bpm <= MAX_TEMPO_BPM:
        raise InvalidMusicError(
            f"{name}: {piece.name} has a tempo of {piece.tempo_bpm:g} BPM, outside "
            f"{MIN_TEMPO_BPM:g}..{MAX_TEMPO_BPM:g} BPM: it could not be played"
        )


def _check_unpacked_size(name: str, data: bytes) -> None:
    """A compressed file is held to the same limit unpacked, before anything is unpacked: a
    small .mxl can expand to gigabytes (a decompression bomb). Python's zipfile never returns
    more than a member's declared size, so the declared sizes are what unpacking can cost."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            unpacked = sum(member.file_size for member in archive.infolist())
    except (zipfile.BadZipFile, OSError, ValueError) as error:
        raise InvalidMusicError(f"{name}: a corrupt compressed MusicXML file ({error})") from error
    limit = max_music_file_bytes()
    if unpacked > limit:
        raise FileTooLargeError(
            f"{name}: the file unpacks to {unpacked / 1e6:.1f} MB, above the "
            f"{limit / 1e6:.0f} MB limit"
        )


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
    return Piece(
        piece.name, piece.notes, piece.steps_per_quarter, piece.tempo_bpm, key_name(tonic, mode)
    )


def _midi_to_piece(data: bytes, name: str, steps_per_quarter: int) -> Piece:
    midi = read_midi(data, name=name)
    notes = pretty_midi_to_notes(midi, steps_per_quarter=steps_per_quarter)
    tempo = first_tempo_bpm(midi)
    return _with_key(Piece(Path(name).stem, notes, steps_per_quarter, round(tempo, 3)))


def _music21_to_pieces(
    data: bytes, name: str, fmt: MusicFormat, steps_per_quarter: int
) -> list[Piece]:
    import music21  # slow to import; only files that need it pay for it

    suffix = Path(name).suffix.lower()
    try:
        if fmt is MusicFormat.ABC:
            parsed = music21.converter.parseData(
                data.decode("utf-8", errors="replace"), format="abc"
            )
        else:
            with tempfile.TemporaryDirectory() as tmp:
                path = Path(tmp) / f"score{suffix}"
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
    return _with_key(Piece(name, notes, steps_per_quarter, round(tempo, 3)))
