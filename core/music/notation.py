"""Sheet music: a piece or MIDI → MusicXML (music21) → SVG pages (verovio).

music21 reads our exact, grid-aligned MIDI and does the engraving decisions (measures, ties,
voices, chords); verovio lays the MusicXML out as SVG in a few hundred milliseconds.

The piece's meter travels as the MIDI's time signature. A piece that starts inside a bar (a
pickup, `Piece.pickup_steps`) is written with a rest before its first note for the part of that
bar before it, so every later bar line falls where the piece's bars are (MIDI knows no pickup,
and music21 reads one as a first bar from its start).
"""

from __future__ import annotations

import importlib.util
import io
import logging
from dataclasses import replace
from pathlib import Path

import pretty_midi

from core.errors import InvalidMusicError
from core.music.midi import midi_to_bytes, piece_to_midi
from core.music.piece import Note, Piece, bar_grid

log = logging.getLogger(__name__)

MAX_NOTATION_NOTES = 3000  # engraving more takes music21 tens of seconds; the rest is cut
GRAND_STAFF_SPLIT_PITCH = 60  # middle C and above on the treble staff, the rest on the bass
DEFAULT_PAGE_WIDTH = 2100  # verovio units (tenths of mm at scale 100)
DEFAULT_SCALE_PERCENT = 40
ALL_PAGES: int | None = None
VEROVIO_DATA_DIR = Path(importlib.util.find_spec("verovio").origin or "").parent / "data"  # type: ignore[union-attr]


def piece_to_musicxml(piece: Piece, *, title: str | None = None) -> bytes:
    """The piece as MusicXML bytes (at most `MAX_NOTATION_NOTES` notes, the first ones)."""
    if len(piece.notes) > MAX_NOTATION_NOTES:
        log.info("notation: %s cut to %d notes", piece.name, MAX_NOTATION_NOTES)
        piece = replace(piece, notes=piece.notes[:MAX_NOTATION_NOTES])
    phase = bar_grid(piece).phase_steps
    if phase:  # the bar's part before the piece's start, as a rest: bar lines fall right
        notes = tuple(Note(n.onset_step + phase, n.pitch, n.duration_steps) for n in piece.notes)
        piece = replace(piece, notes=notes, pickup_steps=0)
    upper = replace(
        piece, notes=tuple(n for n in piece.notes if n.pitch >= GRAND_STAFF_SPLIT_PITCH)
    )
    lower = replace(piece, notes=tuple(n for n in piece.notes if n.pitch < GRAND_STAFF_SPLIT_PITCH))
    midi = piece_to_midi(upper if upper.notes else lower)
    if upper.notes and lower.notes:  # a grand staff: treble and bass parts, like a piano score
        midi.instruments[0].name = "upper"
        bass = piece_to_midi(lower, tempo_bpm=piece.tempo_bpm).instruments[0]
        bass.name = "lower"
        midi.instruments.append(bass)
    return midi_to_musicxml(midi_to_bytes(midi), title=title or piece.name)


def midi_to_musicxml(
    midi: bytes | Path | str | pretty_midi.PrettyMIDI, *, title: str | None = None
) -> bytes:
    """MIDI (bytes, a path or a PrettyMIDI) → MusicXML bytes.

    Raises:
        InvalidMusicError: the MIDI cannot be read or has no notes.
    """
    import music21
    from music21.musicxml.m21ToXml import GeneralObjectExporter

    if isinstance(midi, pretty_midi.PrettyMIDI):
        data, name = midi_to_bytes(midi), title or "MIDI"
    elif isinstance(midi, bytes):
        data, name = midi, title or "MIDI data"
    else:
        path = Path(midi)
        if not path.is_file():
            raise InvalidMusicError(f"{path.name}: no such file")
        data, name = path.read_bytes(), path.name
    try:
        score = music21.converter.parseData(data, format="midi")
    except Exception as error:  # music21 raises many unrelated types for bad input
        raise InvalidMusicError(f"{name}: music21 could not read the MIDI ({error})") from error
    if not score.flatten().notes:
        raise InvalidMusicError(f"{name}: no notes to write as sheet music")
    if title:
        score.metadata = score.metadata or music21.metadata.Metadata()
        score.metadata.title = title
        score.metadata.composer = "Tunesmith"
    exported = GeneralObjectExporter(score).parse()
    return exported if isinstance(exported, bytes) else str(exported).encode("utf-8")


def musicxml_to_svg(
    musicxml: bytes | str,
    *,
    pages: int | None = 1,
    page_width: int = DEFAULT_PAGE_WIDTH,
    scale_percent: int = DEFAULT_SCALE_PERCENT,
) -> list[str]:
    """Engrave MusicXML with verovio: the first `pages` pages as SVG strings (None: all).

    Raises:
        InvalidMusicError: verovio cannot load the MusicXML.
    """
    import verovio

    text = musicxml.decode("utf-8") if isinstance(musicxml, bytes) else musicxml
    # An explicit resource path: verovio's process-wide default is not seen by every thread
    # (Streamlit runs each session's script in its own thread) and fonts then fail to load.
    toolkit = verovio.toolkit(False)
    toolkit.setResourcePath(str(VEROVIO_DATA_DIR))
    toolkit.setOptions(
        {
            "pageWidth": page_width,
            "scale": scale_percent,
            "adjustPageHeight": True,
            "header": "auto",
            "footer": "none",
            "breaks": "auto",
        }
    )
    if not toolkit.loadData(text):
        raise InvalidMusicError("MusicXML: verovio could not read it")
    count = toolkit.getPageCount()
    wanted = count if pages is None else min(pages, count)
    return [toolkit.renderToSVG(page) for page in range(1, wanted + 1)]


def piece_to_svg(piece: Piece, *, pages: int | None = 1) -> list[str]:
    """The piece's sheet music as SVG pages (see `musicxml_to_svg`)."""
    return musicxml_to_svg(piece_to_musicxml(piece), pages=pages)


def read_title(musicxml: bytes) -> str:
    """The work title written in a MusicXML file ('' when none), for tests and the UI."""
    import xml.etree.ElementTree as ElementTree

    root = ElementTree.parse(io.BytesIO(musicxml)).getroot()
    title = root.find("./work/work-title")
    if title is None:
        title = root.find("./movement-title")
    return (title.text or "") if title is not None else ""
