"""Make the tiny music fixtures under tests/fixtures/music/ (checked in; rerun to refresh).

.venv/bin/python scripts/make_fixtures.py
"""

from __future__ import annotations

import sys
from pathlib import Path

import mido
import pretty_midi

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from core.encoding import Note, Piece, midi_to_bytes, piece_to_midi  # noqa: E402

OUT = ROOT / "tests" / "fixtures" / "music"

# A melody with a rest, a held note, a three-note chord and a two-octave leap, on a 16th grid.
SCALE_NOTES = (
    Note(0, 60, 2),
    Note(2, 62, 2),
    Note(4, 64, 4),
    # steps 8..11 are a rest
    Note(12, 65, 1),
    Note(13, 67, 3),
    Note(16, 48, 8),
    Note(16, 55, 8),
    Note(16, 64, 8),
    Note(24, 84, 4),
    Note(28, 60, 36),  # a long final note: more than one 4/4 bar
)
# Eighth-note triplets (3 steps per quarter) against quarter notes.
TRIPLET_NOTES = (
    Note(0, 67, 1),
    Note(1, 69, 1),
    Note(2, 71, 1),
    Note(3, 72, 3),
    Note(0, 48, 3),
    Note(3, 43, 3),
    Note(6, 60, 2),
    Note(8, 62, 1),
)

ABC_BOOK = """X:1
T:First Little Tune
M:4/4
L:1/8
Q:1/4=100
K:G
GABc d2B2 | c2A2 B2G2 | z2 GA B2d2 | g4 G4 |]

X:2
T:Second Little Tune
M:6/8
L:1/8
K:Am
A2B c2d | e3 e2z | dcB A2E | A3 A3 |]
"""


def write(name: str, data: bytes) -> None:
    (OUT / name).write_bytes(data)
    print(f"wrote {name} ({len(data)} bytes)")


def absurd_ticks_midi() -> bytes:
    """A MIDI file whose one note sits at tick 2**27: pretty_midi refuses it as corrupt."""
    midi = mido.MidiFile(ticks_per_beat=480)
    track = mido.MidiTrack()
    track.append(mido.Message("note_on", note=60, velocity=80, time=2**27))
    track.append(mido.Message("note_off", note=60, velocity=0, time=480))
    midi.tracks.append(track)
    import io

    buffer = io.BytesIO()
    midi.save(file=buffer)
    return buffer.getvalue()


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    scale = midi_to_bytes(piece_to_midi(Piece("scale", SCALE_NOTES, 4, 100.0)))
    write("scale.mid", scale)
    write("triplets.mid", midi_to_bytes(piece_to_midi(Piece("triplets", TRIPLET_NOTES, 3, 90.0))))
    write("tunes.abc", ABC_BOOK.encode())

    import music21

    score = music21.converter.parseData(ABC_BOOK.split("\n\n")[0], format="abc")
    with (OUT / "tune.musicxml").open("wb") as handle:
        handle.write(music21.musicxml.m21ToXml.GeneralObjectExporter(score).parse())
    print("wrote tune.musicxml")

    # Bad input.
    write("not_music.mid", b"These are not the notes you are looking for.\n" * 4)
    write("truncated.mid", scale[: len(scale) // 2])
    write("empty.mid", b"")
    silent = pretty_midi.PrettyMIDI()
    silent.instruments.append(pretty_midi.Instrument(program=0))
    write("no_notes.mid", midi_to_bytes(silent))
    write("absurd_ticks.mid", absurd_ticks_midi())
    write("mislabelled.abc", scale)  # MIDI bytes named .abc


if __name__ == "__main__":
    main()
