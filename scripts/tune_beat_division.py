"""The tunes `core.transcription.tempo._division_by_accents` was designed on, and its figure.

Folk tunes of ten Essen tune books that neither `bench audio_to_training` (zuccal0) nor
`bench your_style` (erk20) uses, 44 in all (6/8, 9/8, 3/8 against 2/4, 3/4, 4/4), each on
sixteenths and one line, rendered with FluidSynth (piano, flute or guitar drawn with a fixed
seed) at 80-140 quarter notes per minute, written as MP3 and transcribed with the bundled Basic
Pitch model as the audio tab does. Prints, for each, the meter written and the one found, and
how often the beat's division (two or three eighths) is right with and without the accents.

    .venv/bin/python scripts/tune_beat_division.py

Nothing is downloaded. About two minutes on 2 cores.
"""

from __future__ import annotations

import random
import sys
from pathlib import Path
from unittest.mock import patch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

BOOKS = ("ballad10", "ballad20", "ballad40", "altdeu10", "han1", "kinder0", "boehme10", "dva0",
         "erk10", "fink0")
WANTED = {"6/8": 14, "9/8": 4, "3/8": 4, "2/4": 8, "3/4": 8, "4/4": 8}
COMPOUND_METERS = frozenset({"6/8", "9/8", "3/8", "12/8"})
SEED = 7


def main() -> None:
    import core.transcription.tempo as tempo
    from benchmarks.audio_to_training import render_and_transcribe, tunes
    from core.transcription import load_model

    rng = random.Random(SEED)
    model = load_model()
    wanted = dict(WANTED)
    heard = []
    for book in BOOKS:
        for meter, piece in tunes(f"essenFolksong/{book}.abc", wanted):
            bpm, program = rng.uniform(80, 140), rng.choice([0, 73, 24])
            result = render_and_transcribe(piece, tempo_bpm=bpm, program=program, model=model)
            wanted[meter] -= 1
            heard.append((f"{book} {piece.name}", meter, result))
    for label, accents in (("without the accents", False), ("with the accents", True)):
        right = 0
        with patch.object(tempo, "_division_by_accents",
                          tempo._division_by_accents if accents else lambda *_: None):
            for name, meter, result in heard:
                grid = result.beat_grid()
                ok = (grid.beat_division == tempo.COMPOUND) == (meter in COMPOUND_METERS)
                right += ok
                if accents:
                    print(f"{name:24s} written {meter:5s} found {grid.meter:5s}"
                          f"{'' if ok else '  (division wrong)'}")
        print(f"{label}: the division right in {right} of {len(heard)}")


if __name__ == "__main__":
    main()
