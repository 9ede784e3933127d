"""`python -m core transcribe AUDIO... --out-dir DIR`: audio files → DIR/<stem>.mid and .csv.

A bad file is reported on stderr with its name and the reason; the others are still written,
and the exit status is 1 when any file failed. With `--json`, stdout holds one JSON object.
"""

from __future__ import annotations

import argparse
import logging
import time
from pathlib import Path
from typing import Any

from core.commands._common import (
    float_in,
    in_range,
    print_error,
    print_json,
    stderr_progress,
)
from core.errors import InvalidAudioError
from core.storage.files import atomic_write_bytes, atomic_write_text

log = logging.getLogger(__name__)

# The values of core.transcription.params.TranscriptionPreset (a test checks they agree).
PRESET_NAMES = ("piano", "voice", "guitar", "other")
# A "shortest note" of 2 s (a whole note at 120 BPM) already drops almost every note.
MAX_MIN_NOTE_MS = 2_000.0
# The range of hearing: a frequency limit outside it is a typo (the model hears 27.5-4186 Hz).
MIN_FREQUENCY_HZ = 20.0
MAX_FREQUENCY_HZ = 20_000.0


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from core.audio.decoding import DEFAULT_MAX_AUDIO_MINUTES, MAX_AUDIO_MINUTES_ENV
    from core.settings import SETTINGS
    from core.transcription.params import (
        DEFAULT_FRAME_THRESHOLD,
        DEFAULT_MIN_NOTE_LENGTH_MS,
        DEFAULT_ONSET_THRESHOLD,
    )
    from core.transcription.tempo import MAX_TEMPO_BPM, MIN_TEMPO_BPM

    threshold = float_in(0.0, 1.0, low_open=True, high_open=True)  # an activation's share
    min_note = float_in(0.0, MAX_MIN_NOTE_MS)
    frequency = float_in(MIN_FREQUENCY_HZ, MAX_FREQUENCY_HZ)
    tempo = float_in(MIN_TEMPO_BPM, MAX_TEMPO_BPM)
    minutes = in_range(SETTINGS[MAX_AUDIO_MINUTES_ENV].valid)
    parser.add_argument(
        "audio",
        nargs="+",
        metavar="AUDIO",
        help="audio files (mp3, wav, ogg, flac; m4a where ffmpeg is installed)",
    )
    parser.add_argument("--out-dir", type=Path, required=True, help="folder for .mid and .csv")
    parser.add_argument(
        "--preset",
        choices=PRESET_NAMES,
        default=None,
        help="settings for what is playing (default: basic-pitch's defaults)",
    )
    parser.add_argument(
        "--onset-threshold",
        type=threshold,
        default=None,
        metavar="X",
        help=f"how sure an onset must be ({threshold}; default {DEFAULT_ONSET_THRESHOLD:g})",
    )
    parser.add_argument(
        "--frame-threshold",
        type=threshold,
        default=None,
        metavar="X",
        help=f"how loud a note must stay to go on ({threshold}; "
        f"default {DEFAULT_FRAME_THRESHOLD:g})",
    )
    parser.add_argument(
        "--min-note-ms",
        type=min_note,
        default=None,
        metavar="X",
        help=f"shortest note kept, in ms ({min_note}; default {DEFAULT_MIN_NOTE_LENGTH_MS:g})",
    )
    parser.add_argument(
        "--min-freq-hz",
        type=frequency,
        default=None,
        metavar="X",
        help=f"drop notes below this frequency ({frequency} Hz)",
    )
    parser.add_argument(
        "--max-freq-hz",
        type=frequency,
        default=None,
        metavar="X",
        help=f"drop notes above this frequency ({frequency} Hz)",
    )
    parser.add_argument(
        "--no-melodia", action="store_true", help="turn off the melodia step (fewer, surer notes)"
    )
    parser.add_argument(
        "--tempo",
        type=tempo,
        default=None,
        metavar="BPM",
        help=f"tempo of the MIDI file; with --quantize, the grid's tempo ({tempo}; "
        "default: estimated)",
    )
    parser.add_argument(
        "--quantize",
        action="store_true",
        help="write training-ready MIDI: tempo, grid, one instrument",
    )
    parser.add_argument(
        "--max-minutes",
        type=minutes,
        default=None,
        metavar="M",
        help=f"refuse longer audio ({minutes}; default {DEFAULT_MAX_AUDIO_MINUTES:g}, "
        f"or {MAX_AUDIO_MINUTES_ENV})",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object")


def _params(args: argparse.Namespace) -> Any:
    from core.transcription.params import TranscriptionParams, preset_params, with_overrides

    base = preset_params(args.preset) if args.preset else TranscriptionParams()
    return with_overrides(
        base,
        onset_threshold=args.onset_threshold,
        frame_threshold=args.frame_threshold,
        min_note_length_ms=args.min_note_ms,
        min_frequency_hz=args.min_freq_hz,
        max_frequency_hz=args.max_freq_hz,
        melodia_trick=False if args.no_melodia else None,
        midi_tempo_bpm=args.tempo if not args.quantize else None,
    )


def _unique_stem(stem: str, used: set[str]) -> str:
    candidate, count = stem, 1
    while candidate in used:
        count += 1
        candidate = f"{stem}-{count}"
    used.add(candidate)
    return candidate


def run(args: argparse.Namespace) -> int:
    from core.transcription.basic_pitch import (
        transcribe,
        transcription_to_piece,
        transcription_to_training_midi,
    )
    from core.transcription.model import load_model

    try:
        params = _params(args)
    except ValueError as error:
        print_error(f"bad parameters: {error}")
        return 2
    started = time.perf_counter()
    model = load_model()
    args.out_dir.mkdir(parents=True, exist_ok=True)
    progress = stderr_progress if args.verbose else None
    max_duration_s = args.max_minutes * 60.0 if args.max_minutes is not None else None
    results: list[dict[str, Any]] = []
    errors: list[dict[str, str]] = []
    used: set[str] = set()
    for audio in args.audio:
        path = Path(audio)
        try:
            result = transcribe(
                path,
                model=model,
                params=params,
                on_progress=progress,
                max_duration_s=max_duration_s,
            )
            if not result.notes:
                raise InvalidAudioError(f"{path.name}: no notes found (silence?)")
            stem = _unique_stem(path.stem, used)
            midi_path = args.out_dir / f"{stem}.mid"
            csv_path = args.out_dir / f"{stem}.csv"
            if args.quantize:
                piece = transcription_to_piece(result, tempo_bpm=args.tempo)
                midi_bytes = transcription_to_training_midi(result, tempo_bpm=args.tempo)
                tempo = piece.tempo_bpm
            else:
                midi_bytes = result.to_midi_bytes()
                tempo = params.midi_tempo_bpm
            atomic_write_bytes(midi_path, midi_bytes)
            atomic_write_text(csv_path, result.to_csv())
        except InvalidAudioError as error:
            errors.append({"file": path.name, "error": str(error)})
            print_error(str(error))
            continue
        row = {
            "file": path.name,
            "notes": len(result.notes),
            "duration_s": round(result.duration_s, 3),
            "seconds": round(result.elapsed_s, 3),
            "pitch_range": list(result.pitch_range),
            "tempo_bpm": tempo,
            "midi": str(midi_path),
            "csv": str(csv_path),
        }
        results.append(row)
        if not args.json:
            print(
                f"{path.name}: {row['notes']} notes in {row['duration_s']:.1f} s of audio, "
                f"{row['seconds']:.2f} s → {midi_path}"
            )
    if args.json:
        print_json(
            {
                "files": results,
                "errors": errors,
                "params": params.to_dict(),
                "quantized": bool(args.quantize),
                "seconds": round(time.perf_counter() - started, 3),
            }
        )
    return 1 if errors else 0
