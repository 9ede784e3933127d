"""A harmonization's sheet music: one staff per voice (or two for piano), chord names above.

The MIDI of a harmonization has one track per voice, so music21 reads it as one part per voice
and engraves each on its own staff; the chord symbols are music21 `ChordSymbol`s put into the
melody's part at their onsets, which MusicXML writes as <harmony> and verovio shows as names.
"""

from __future__ import annotations

from dataclasses import replace

from core.errors import InvalidMusicError
from core.harmonize.melody import Melody
from core.harmonize.result import Harmonization
from core.music.notation import MAX_NOTATION_NOTES
from core.music.piece import Note, Piece, bar_grid


def _from_bar_start(harmonization: Harmonization) -> Harmonization:
    """The harmonization moved to start where its first bar does, a rest before a tune's upbeat
    (as `core.music.notation.piece_to_musicxml` writes a piece: MIDI knows no pickup, and
    music21 reads one as a first bar from its start), so the bar lines fall where its bars do."""
    phase = bar_grid(harmonization.melody.piece).phase_steps
    if not phase:
        return harmonization

    def moved(piece: Piece) -> Piece:
        notes = tuple(Note(n.onset_step + phase, n.pitch, n.duration_steps) for n in piece.notes)
        return replace(piece, notes=notes, pickup_steps=0)

    return replace(
        harmonization,
        melody=Melody(moved(harmonization.melody.piece)),
        voices=tuple(moved(v) for v in harmonization.voices),
        chords=tuple(replace(c, onset_step=c.onset_step + phase) for c in harmonization.chords),
    )


def _chord_symbol(name: str) -> object | None:
    """music21's chord symbol of a name ("Bb", "F#m", "D7"), None where music21 cannot read it."""
    from music21 import harmony

    # music21 spells flats with "-" and reads "Bbm" as a B with a "bm" kind.
    text = name[0] + name[1:].replace("b", "-", 1) if len(name) > 1 and name[1] == "b" else name
    try:
        return harmony.ChordSymbol(text)
    except Exception:  # music21 raises assorted types for a name it does not know
        return None


def _set_clef(first: object, part: object, voice_name: str) -> None:
    """The clef a reader expects: the bass's bass clef and the tenor's treble clef an octave
    down, as a choir's score has them; the other parts the clef their notes fit best
    (music21's `bestClef`; reading MIDI it writes a treble clef for any part)."""
    from music21 import clef, stream

    assert isinstance(part, stream.Stream)
    chosen: clef.Clef
    if voice_name == "Bass":
        chosen = clef.BassClef()
    elif voice_name == "Tenor":
        chosen = clef.Treble8vbClef()
    else:
        chosen = clef.bestClef(part, recurse=True)
    for old in list(first.getElementsByClass(clef.Clef)):  # type: ignore[attr-defined]
        first.remove(old)  # type: ignore[attr-defined]
    first.insert(0, chosen)  # type: ignore[attr-defined]


def _key_signature(key: str) -> tuple[str, str] | None:
    """("Bb", "major") as music21 names it ("B-", "major"); None for no key or an odd one."""
    tonic, _, mode = key.partition(" ")
    if not tonic or mode not in ("major", "minor"):
        return None
    return tonic[0] + tonic[1:].replace("b", "-"), mode


def harmonization_musicxml(harmonization: Harmonization, *, title: str | None = None) -> bytes:
    """MusicXML of the harmonization: a part per voice, the chords above the melody.

    Raises:
        InvalidMusicError: it has more than `MAX_NOTATION_NOTES` notes (engraving them would
            take music21 tens of seconds) or music21 cannot write it.
    """
    import music21
    from music21.musicxml.m21ToXml import GeneralObjectExporter

    notes = sum(len(v.notes) for v in harmonization.voices)
    if notes > MAX_NOTATION_NOTES:
        raise InvalidMusicError(
            f"{harmonization.melody.name}: {notes:,} notes are more than the sheet music shows "
            f"({MAX_NOTATION_NOTES:,}); listen to it or download its MIDI"
        )
    name = title or harmonization.melody.name
    harmonization = _from_bar_start(harmonization)
    try:
        score = music21.converter.parseData(harmonization.midi_bytes, format="midi")
    except Exception as error:  # music21 raises many unrelated types
        raise InvalidMusicError(
            f"{name}: music21 could not write its sheet music ({error})"
        ) from None
    score.metadata = music21.metadata.Metadata(title=name, composer="Tunesmith")
    for mark in score.recurse().getElementsByClass(music21.tempo.MetronomeMark):
        if mark.number is not None:  # a transcription's 99.97 BPM reads as 100
            mark.number = round(mark.number)
    parts = list(score.getElementsByClass(music21.stream.Part))
    key = _key_signature(harmonization.melody.piece.key)
    for part, voice_name in zip(parts, harmonization.voice_names, strict=False):
        part.partName = voice_name
        part.partAbbreviation = voice_name[0]  # later systems: S A T B, not the MIDI's Fl, Pno
        first = part.getElementsByClass(music21.stream.Measure).first()
        if first is not None:
            _set_clef(first, part, voice_name)
        if key is not None and first is not None:
            first.insert(0, music21.key.Key(*key))
    if harmonization.chords and parts:
        quarters = 1 / harmonization.melody.piece.steps_per_quarter
        melody_part = parts[0]
        previous = ""
        for chord in harmonization.chords:
            symbol = _chord_symbol(chord.name) if chord.name != previous else None
            previous = chord.name
            if symbol is None:
                continue
            symbol.writeAsChord = False  # type: ignore[attr-defined]
            offset = chord.onset_step * quarters
            measure = melody_part.getElementAtOrBefore(offset, [music21.stream.Measure])
            if measure is None:
                continue
            measure.insert(offset - measure.offset, symbol)  # type: ignore[attr-defined]
    exported = GeneralObjectExporter(score).parse()
    return exported if isinstance(exported, bytes) else str(exported).encode("utf-8")
