"""Choose the transcription presets (core.transcription.params) by measurement.

Melodies from music21's bundled corpus (O'Neill's Irish tunes; Bach chorales, all four voices,
for the piano) are rendered with FluidSynth (FluidR3 GM) on General MIDI programs of each
family, transcribed once (the model's activations are kept), then decoded with a grid of
note-decoding settings. Each setting is scored with mir_eval: the onset F-measure (50 ms) and
the onset+pitch F-measure (offsets ignored). The chosen setting maximizes their mean on the
tuning tunes; the held-out tunes give the reported figures.

    .venv/bin/python scripts/tune_transcription_presets.py [--seconds 12] [--json out.json]

Nothing is downloaded. Takes a few minutes on 2 cores.
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import mir_eval
import numpy as np
import pretty_midi

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from core.music.midi import piece_to_midi  # noqa: E402
from core.music.piece import Piece, transpose_piece  # noqa: E402
from core.transcription.inference import (  # noqa: E402
    Activations,
    activations_to_notes,
    audio_to_activations,
)
from core.transcription.model import load_model  # noqa: E402
from core.transcription.params import TranscriptionParams, TranscriptionPreset  # noqa: E402
from tests.core.transcription_audio import audio_to_bytes, corpus_tune  # noqa: E402

TUNE_INDICES = (0, 1, 2, 3)  # choose on these
TEST_INDICES = (4, 5)  # report on these
CHORALES = ("bach/bwv66.6", "bach/bwv269")
# (GM program, semitones of transposition)
FAMILIES: dict[TranscriptionPreset, tuple[tuple[int, int], ...]] = {
    TranscriptionPreset.PIANO: ((0, 0), (1, -12)),
    TranscriptionPreset.VOICE: ((52, 0), (53, -12)),
    TranscriptionPreset.GUITAR: ((24, 0), (25, -12)),
    TranscriptionPreset.OTHER: ((73, 0), (40, 0), (71, -12), (56, -12)),
}
FREQUENCY_RANGES: dict[TranscriptionPreset, tuple[float | None, float | None]] = {
    TranscriptionPreset.PIANO: (None, None),
    TranscriptionPreset.VOICE: (70.0, 1200.0),  # low bass to a soprano's C6
    TranscriptionPreset.GUITAR: (75.0, 1400.0),  # low E (82 Hz) to the high E string's 24th fret
    TranscriptionPreset.OTHER: (None, None),
}
GRID = {
    "onset_threshold": (0.4, 0.5, 0.6, 0.7, 0.8),
    "frame_threshold": (0.2, 0.3, 0.4, 0.5),
    "min_note_length_ms": (58.0, 90.0, 127.7),
    "melodia_trick": (True, False),
    "use_range": (False, True),
}


@dataclass
class Example:
    family: TranscriptionPreset
    split: str
    label: str
    activations: Activations
    ref_intervals: np.ndarray
    ref_pitches_hz: np.ndarray


def _chorale(name: str, seconds: float) -> Piece:
    import music21.corpus

    from core.music.files import read_music

    path = music21.corpus.getWork(name)
    piece = read_music(Path(path))[0]
    steps_per_s = piece.tempo_bpm / 60.0 * piece.steps_per_quarter
    notes = tuple(n for n in piece.notes if n.end_step / steps_per_s <= seconds)
    return Piece(piece.name, notes, piece.steps_per_quarter, piece.tempo_bpm, piece.key)


def _render(piece: Piece, program: int) -> tuple[bytes, pretty_midi.PrettyMIDI]:
    from core.audio.rendering import midi_to_audio

    midi = piece_to_midi(piece, program=program)
    audio = midi_to_audio(midi, sample_rate_hz=44100, program=program)
    return audio_to_bytes(audio, fmt="WAV"), midi


def build_examples(seconds: float) -> list[Example]:
    model = load_model()
    tunes = {i: corpus_tune(i, max_seconds=seconds) for i in TUNE_INDICES + TEST_INDICES}
    examples = []
    for family, variants in FAMILIES.items():
        pieces = [("tune", i, p) for i, p in tunes.items()]
        if family is TranscriptionPreset.PIANO:
            pieces += [("chorale", j, _chorale(c, seconds)) for j, c in enumerate(CHORALES)]
        for (kind, index, piece), (program, shift) in itertools.product(pieces, variants):
            split = "tune" if (kind == "tune" and index in TUNE_INDICES) or (
                kind == "chorale" and index == 0) else "test"
            data, midi = _render(transpose_piece(piece, shift), program)
            activations = audio_to_activations(data, model=model, name="x.wav")
            notes = sorted((n for i in midi.instruments for n in i.notes), key=lambda n: n.start)
            examples.append(Example(
                family, split, f"{kind}{index} p{program}{shift:+d}", activations,
                np.array([[n.start, n.end] for n in notes]),
                np.array([pretty_midi.note_number_to_hz(n.pitch) for n in notes]),
            ))
            print(f"rendered {family.value} {examples[-1].label}", file=sys.stderr, flush=True)
    return examples


def score(example: Example, params: TranscriptionParams) -> tuple[float, float]:
    notes = activations_to_notes(example.activations, params)
    if not notes:
        return 0.0, 0.0
    est = np.array([[n.start_s, n.end_s] for n in notes])
    est_hz = np.array([440.0 * 2 ** ((n.pitch - 69) / 12) for n in notes])
    _, _, onset_f = mir_eval.transcription.onset_precision_recall_f1(example.ref_intervals, est)
    _, _, note_f, _ = mir_eval.transcription.precision_recall_f1_overlap(
        example.ref_intervals, example.ref_pitches_hz, est, est_hz, offset_ratio=None
    )
    return float(onset_f), float(note_f)


def mean_scores(examples: list[Example], params: TranscriptionParams) -> tuple[float, float]:
    scores = np.array([score(e, params) for e in examples])
    return float(scores[:, 0].mean()), float(scores[:, 1].mean())


def params_from(family: TranscriptionPreset, combo: dict[str, object]) -> TranscriptionParams:
    low, high = FREQUENCY_RANGES[family] if combo["use_range"] else (None, None)
    return TranscriptionParams(
        onset_threshold=float(combo["onset_threshold"]),  # type: ignore[arg-type]
        frame_threshold=float(combo["frame_threshold"]),  # type: ignore[arg-type]
        min_note_length_ms=float(combo["min_note_length_ms"]),  # type: ignore[arg-type]
        melodia_trick=bool(combo["melodia_trick"]),
        min_frequency_hz=low,
        max_frequency_hz=high,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=12.0)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    began = time.perf_counter()
    examples = build_examples(args.seconds)
    report = {}
    for family in TranscriptionPreset:
        tune = [e for e in examples if e.family is family and e.split == "tune"]
        test = [e for e in examples if e.family is family and e.split == "test"]
        best: tuple[float, TranscriptionParams] | None = None
        keys = list(GRID)
        for values in itertools.product(*GRID.values()):
            combo = dict(zip(keys, values, strict=True))
            if not combo["use_range"] and FREQUENCY_RANGES[family] == (None, None):
                pass
            elif combo["use_range"] and FREQUENCY_RANGES[family] == (None, None):
                continue
            params = params_from(family, combo)
            onset_f, note_f = mean_scores(tune, params)
            objective = (onset_f + note_f) / 2
            if best is None or objective > best[0] + 1e-9:
                best = (objective, params)
        assert best is not None
        chosen = best[1]
        default = TranscriptionParams()
        report[family.value] = {
            "examples_tune": len(tune),
            "examples_test": len(test),
            "chosen": chosen.to_dict(),
            "tune_default_onset_f_note_f": mean_scores(tune, default),
            "tune_chosen_onset_f_note_f": mean_scores(tune, chosen),
            "test_default_onset_f_note_f": mean_scores(test, default),
            "test_chosen_onset_f_note_f": mean_scores(test, chosen),
        }
        print(json.dumps({family.value: report[family.value]}), flush=True)
    report["seconds"] = round(time.perf_counter() - began, 1)  # type: ignore[assignment]
    if args.json:
        args.json.write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
