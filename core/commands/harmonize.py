"""`python -m core harmonize MELODY_FILE --out OUT.mid [--style S] [--seed S] [--json]`.

Harmonizes a single line of notes (MIDI, MusicXML or ABC; the first tune of a file with
several): `chorale` writes three voices below it as in Bach's chorales, `chords` chord symbols
and an accompaniment that plays them. The melody is kept note for note as the top voice. A file
with chords in it is refused with the bar where they are; the output is written whole or not at
all. `--out` ending in .musicxml (or .xml) writes the sheet music instead of MIDI.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from core.commands._common import print_error, print_json, seed_in
from core.harmonize.result import HarmonyStyle

MIDI_SUFFIXES = (".mid", ".midi")
MUSICXML_SUFFIXES = (".musicxml", ".xml")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    seed = seed_in()
    parser.add_argument("melody", type=Path, metavar="MELODY_FILE")
    parser.add_argument(
        "--out",
        type=Path,
        required=True,
        metavar="OUT.mid",
        help="the harmonization: .mid (a track per voice) or .musicxml (its sheet music)",
    )
    parser.add_argument(
        "--style",
        choices=[s.value for s in HarmonyStyle],
        default=HarmonyStyle.CHORALE.value,
        help="chorale: four voices like Bach's chorales (default); chords: chord symbols and "
        "an accompaniment, folk style",
    )
    parser.add_argument(
        "--seed",
        type=seed,
        default=0,
        metavar="S",
        help=f"which harmonization, {seed} (default 0; the same seed gives the same one)",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object on stdout")


def run(args: argparse.Namespace) -> int:
    from core.harmonize.melody import read_melody
    from core.harmonize.notation import harmonization_musicxml
    from core.harmonize.service import harmonize
    from core.storage.files import atomic_write_bytes

    suffix = args.out.suffix.lower()
    if suffix not in MIDI_SUFFIXES + MUSICXML_SUFFIXES:
        print_error(
            f"{args.out.name}: unsupported output type; use "
            f"{', '.join(MIDI_SUFFIXES + MUSICXML_SUFFIXES)}"
        )
        return 2
    started = time.perf_counter()
    melody = read_melody(args.melody)  # refused here, before any model loads
    harmonization = harmonize(melody, style=args.style, seed=args.seed)
    if suffix in MIDI_SUFFIXES:
        data = harmonization.midi_bytes
    else:
        data = harmonization_musicxml(harmonization)
    atomic_write_bytes(args.out, data)
    elapsed = time.perf_counter() - started
    if args.json:
        print_json(
            {
                "melody": str(args.melody),
                "out": str(args.out),
                "style": harmonization.style.value,
                "seed": harmonization.seed,
                "key": melody.piece.key,
                "meter": melody.piece.meter,
                "melody_notes": len(melody.notes),
                "voices": list(harmonization.voice_names),  # top to bottom
                "voice_notes": [len(voice.notes) for voice in harmonization.voices],
                "chords": harmonization.chord_line(),
                "duration_s": round(melody.piece.duration_s, 3),
                "elapsed_s": round(elapsed, 3),
            }
        )
    else:
        chords = f", chords {harmonization.chord_line()}" if harmonization.chords else ""
        print(f"wrote {args.out} ({', '.join(harmonization.voice_names)}{chords}; {elapsed:.2f} s)")
    return 0
