"""Design set for the chord nudge toward the training music's chord size (`core.generation.pace`):
Monteverdi's five-voice madrigals (music21's corpus; in neither the base's data nor any
benchmark), the first 30 s of each at 90 BPM as MIDI, the last 5 of 20 held out. The base is
fine-tuned once on the other 15 with the page's quick preset; then 20 pieces are written with
each variant of the nudges (`VARIANTS`) and their notes at once, range and notes per beat
compared with the held-out excerpts', as `bench your_style_piano` does on the quartets (which
this does not read).

.venv/bin/python scripts/tune_chord_nudge.py   # about 4 minutes on 2 cores
"""

from __future__ import annotations

import math
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks import piano_melody, small_data, your_style, your_style_piano  # noqa: E402

MADRIGALS = 20
HELDOUT = 5
# (the chord nudge's gain and cap, whether the nudges aim at the training music's figures or
# at the piece's opening, and from which beat they start)
VARIANTS = (
    (3.0, 3.0, False, 8.0),
    (3.0, 3.0, True, 8.0),
    (3.0, 5.0, True, 8.0),
    (6.0, 5.0, True, 8.0),
    (3.0, 3.0, True, 2.0),
    (3.0, 3.0, True, 4.0),
)


def _madrigals() -> list[str]:
    import music21.corpus

    paths = sorted(
        str(p).split("corpus/")[-1]
        for p in music21.corpus.getComposer("monteverdi")
        if str(p).endswith(".mxl")
    )
    return paths[:MADRIGALS]


def _nudges(pace: Any, *, gain: float, cap: float, aimed: bool, start_beats: float) -> None:
    """The pace keeper's two nudges as one variant has them: the chord nudge's gain and cap,
    whether it aims at the training music's chord size (else at the opening's, as before
    2026-12-04), and from which beat a nudge that aims at the training music starts (the
    length nudge always aims at its pace, as it did)."""

    def started(keeper: Any, *, at_music: bool) -> bool:
        start = start_beats if at_music else max(pace.OPENING_BEATS, pace.WINDOW_BEATS)
        return bool(keeper.time_steps >= start * keeper.opening_steps / pace.OPENING_BEATS)

    def length_tilt(keeper: Any) -> float:
        target = keeper.target_onsets_per_step
        kept = target or keeper.opening_onsets / keeper.opening_steps
        span = min(keeper.window_steps, max(keeper.time_steps, 1))
        if not started(keeper, at_music=target is not None):
            return 0.0
        tilt = pace.LENGTH_GAIN * math.log(len(keeper.recent) / span / kept)
        return float(min(max(tilt, -pace.MAX_TILT), pace.MAX_TILT))

    def chord_tilt(keeper: Any) -> float:
        target = keeper.target_notes_per_onset if aimed else None
        kept = target or keeper.opening_notes / keeper.opening_onsets
        if not started(keeper, at_music=target is not None) or kept <= 0:
            return 0.0
        recent = sum(o.notes for o in keeper.recent) / len(keeper.recent)
        return float(min(max(gain * math.log(recent / kept), -cap), cap))

    pace.PaceKeeper.length_tilt = length_tilt
    pace.PaceKeeper.chord_tilt = chord_tilt


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
        for gain, cap, aimed, start in VARIANTS:
            _nudges(pace, gain=gain, cap=cap, aimed=aimed, start_beats=start)
            pieces = generate_pieces(generator, count=count)
            run = {"style": small_data._style_figures(compare_style(pieces, real))}
            moves = your_style._style_moves(run, base_style)
            print(
                f"gain {gain} cap {cap} {'at the music' if aimed else 'at the opening'} "
                f"from beat {start:g}: "
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
