"""Design set for the chord nudge toward the training music's chord size (`core.generation.pace`):
Monteverdi's five-voice madrigals (music21's corpus; in neither the base's data nor any
benchmark), the first 30 s of each at 90 BPM as MIDI, the last 5 of 20 held out. The base is
fine-tuned once on the other 15 with the page's quick preset; then 20 pieces are written with
each (gain, cap) of the nudge and their notes at once, range and notes per beat compared with the
held-out excerpts', as `bench your_style_piano` does on the quartets (which this does not read).

.venv/bin/python scripts/tune_chord_nudge.py   # about 3 minutes on 2 cores
"""

from __future__ import annotations

import math
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks import piano_melody, small_data, your_style, your_style_piano  # noqa: E402

MADRIGALS = 20
HELDOUT = 5
# (gain, cap, whether the nudge aims at the training music's chord size or the piece's opening)
VARIANTS = ((3.0, 3.0, False), (3.0, 3.0, True), (3.0, 5.0, True), (6.0, 5.0, True))


def _madrigals() -> list[str]:
    import music21.corpus

    paths = sorted(
        str(p).split("corpus/")[-1]
        for p in music21.corpus.getComposer("monteverdi")
        if str(p).endswith(".mxl")
    )
    return paths[:MADRIGALS]


def main() -> int:
    from core.data.datasets import load_dataset
    from core.evaluation.report import generate_pieces
    from core.evaluation.style import compare_style
    from core.generation import pace
    from core.generation.generator import Generator
    from core.model.bundled import BASE_MODEL_NAME
    from core.tokens.scheme import tokens_to_piece
    from core.training.fine_tuning import fine_tuning_setup

    with tempfile.TemporaryDirectory(prefix="tunesmith-chord-nudge-") as tmp:
        work = Path(tmp)
        files = []
        for index, path in enumerate(_madrigals()):
            file = work / f"madrigal-{index:02d}.mid"
            file.write_bytes(your_style_piano._written_midi(piano_melody.written_notes(path)))
            files.append(file)
        train, heldout_files = files[:-HELDOUT], files[-HELDOUT:]
        trained = small_data._one_run(  # the quick fine-tuning, into work / "model"
            train, heldout_files, work, base_perplexity=small_data._base_perplexity(heldout_files)
        )
        print(
            "held-out perplexity", trained["heldout_perplexity"], "base", trained["base_perplexity"]
        )
        base = fine_tuning_setup(BASE_MODEL_NAME)
        heldout = load_dataset(
            heldout_files, config=base.encoding, vocab=base.vocab, valid_fraction=0.0
        )
        real = [tokens_to_piece(e.tokens, base.encoding, name=e.name) for e in heldout.train]
        count = small_data.GENERATED
        base_style = small_data._style_figures(
            compare_style(generate_pieces(Generator.from_folder(base.path), count=count), real)
        )
        generator = Generator.from_folder(work / "model")
        print("recorded notes per onset:", generator.music and generator.music.notes_per_onset)
        for gain, cap, aimed in VARIANTS:

            def chord_tilt(
                self: pace.PaceKeeper, gain: float = gain, cap: float = cap, aimed: bool = aimed
            ) -> float:
                if self.time_steps < max(self.opening_steps, self.window_steps):
                    return 0.0
                opening = self.opening_notes / self.opening_onsets
                kept = (self.target_notes_per_onset if aimed else None) or opening
                recent = sum(o.notes for o in self.recent) / len(self.recent)
                return min(max(gain * math.log(recent / kept), -cap), cap)

            pace.PaceKeeper.chord_tilt = chord_tilt  # type: ignore[method-assign]
            pieces = generate_pieces(generator, count=count)
            run = {"style": small_data._style_figures(compare_style(pieces, real))}
            moves = your_style._style_moves(run, base_style)
            print(
                f"gain {gain} cap {cap} {'at the music' if aimed else 'at the opening'}: "
                + "; ".join(
                    f"{k} {v['generated']} (held-out {v['heldout']}, base {v['base']}, "
                    f"distance {v['distance']} vs {v['base_distance']}, met {v['goal_met']})"
                    for k, v in moves.items()
                )
                + f"; smallest overlap {run['style']['overlap_ratio_min']}"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
