"""A short recording of someone humming, singing or whistling → one clean line of notes.

    model = load_model()                                # core.transcription; load it once
    heard = recording_to_heard_tune(wav_bytes, model=model)  # the tune and its figures
    heard.piece                                      # Piece: one line, 16th grid, key

Basic Pitch (the voice preset) hears the notes; the clean-up keeps one note at each moment (a
new onset ends the note before it; of two notes that start together the louder stays; a quieter
note inside a held one is a harmonic and goes) and drops fragments. Then the beat is estimated
(or given), the notes go on the grid with the first at 0, and the key is estimated.

A recording that holds no tune is refused with `InvalidAudioError` saying what to try: too
short, too long, silent, only noise, or too few notes. Noise is told from a tune by how much of
the time between the first and the last note the model hears a clear pitch (`MIN_PITCHED_SHARE`).
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from core.audio.decoding import AudioStream
from core.errors import InvalidAudioError
from core.music.keys import estimate_key, key_name
from core.music.piece import DEFAULT_STEPS_PER_QUARTER, Note, Piece
from core.transcription.events import NoteEvent
from core.transcription.inference import Activations, activations_to_notes, audio_to_activations
from core.transcription.model import BasicPitchModel
from core.transcription.note_creation import AUDIO_SAMPLE_RATE_HZ, FFT_HOP_SAMPLES
from core.transcription.params import (
    TRANSCRIPTION_PRESETS,
    TranscriptionParams,
    TranscriptionPreset,
)
from core.transcription.tempo import MAX_TEMPO_BPM, MIN_TEMPO_BPM, estimate_tempo_bpm

log = logging.getLogger(__name__)

DEFAULT_RECORDING_NAME = "my recording"
# Added to the decoder's reason (empty, not audio, corrupt...): what to try instead.
DECODING_ADVICE = "record again, or choose a WAV, FLAC, OGG or MP3 file"
# The Data page's "Voice (singing, humming)" preset.
HUM_PARAMS = TRANSCRIPTION_PRESETS[TranscriptionPreset.VOICE]

MIN_RECORDING_S = 1.0
MAX_RECORDING_S = 120.0  # a tune to continue, not a song: two minutes is plenty
MIN_TUNE_NOTES = 3  # fewer is not a tune to continue
# Shorter notes (after overlaps are trimmed) are fragments: a sixteenth at 150 BPM is 0.1 s.
MIN_NOTE_S = 0.1
# Notes that start this close together started together (an octave error, a harmonic heard as
# a note): only the louder one stays. mir_eval's onset tolerance.
SAME_ONSET_S = 0.05

# Noise. A frame is "pitched" when the model's strongest note activation in it passes
# PITCHED_ACTIVATION; a tune needs MIN_PITCHED_SHARE of the frames between its first onset and
# its last note's end to be pitched: noise stays far below it and sung tunes, even noisy ones,
# above it (the measurement: docs/transcription.md).
PITCHED_ACTIVATION = 0.5
MIN_PITCHED_SHARE = 0.2

# The estimated beat is then fitted to the notes: the tempo within +-TEMPO_FIT_SHARE of it whose
# 16th grid lies closest to the onsets (TEMPO_FIT_CANDIDATES tempi tried). The fit halves the
# tempo's error, which matters because a 1% error moves a note 10 s in by 2/3 of a 16th at
# 100 BPM (the measurement: docs/transcription.md).
TEMPO_FIT_SHARE = 0.04
TEMPO_FIT_CANDIDATES = 161

FRAMES_PER_S = AUDIO_SAMPLE_RATE_HZ / FFT_HOP_SAMPLES


@dataclass(frozen=True)
class HeardTune:
    """A recording as a tune: the clean line on the grid, and what was heard on the way."""

    piece: Piece
    recording_s: float
    melody: tuple[NoteEvent, ...]  # the clean line in seconds, as heard (before the grid)
    heard_notes: int  # notes Basic Pitch found before the clean-up
    pitched_share: float  # see MIN_PITCHED_SHARE
    tempo_estimated: bool  # False when the caller gave the tempo
    elapsed_s: float = 0.0

    @property
    def notes(self) -> int:
        return len(self.piece.notes)

    @property
    def tempo_bpm(self) -> float:
        return self.piece.tempo_bpm

    @property
    def key(self) -> str:
        return self.piece.key

    def summary(self) -> dict[str, Any]:
        return {
            "notes": self.notes,
            "heard_notes": self.heard_notes,
            "recording_s": round(self.recording_s, 3),
            "tune_s": round(self.piece.duration_s, 3),
            "tempo_bpm": self.tempo_bpm,
            "tempo_estimated": self.tempo_estimated,
            "key": self.key,
            "pitched_share": round(self.pitched_share, 3),
        }


# ---------------------------------------------------------------- clean-up


def notes_to_melody(
    notes: tuple[NoteEvent, ...] | list[NoteEvent], *, min_note_s: float = MIN_NOTE_S
) -> tuple[NoteEvent, ...]:
    """One line from transcribed notes: at each moment one note, in order of onset.

    Where two notes overlap: a note that starts within `SAME_ONSET_S` of the other keeps only
    the louder of the two; a quieter note that ends inside a held note is dropped (a harmonic
    or an octave heard as a note); otherwise the new onset ends the note before it. The same
    pitch overlapping itself becomes one note. Notes shorter than `min_note_s` after that go.
    """
    melody: list[NoteEvent] = []
    for note in sorted(notes, key=lambda n: (n.start_s, -n.amplitude)):
        if melody and note.start_s < melody[-1].end_s:
            previous = melody[-1]
            if note.pitch == previous.pitch:
                melody[-1] = replace(
                    previous,
                    end_s=max(previous.end_s, note.end_s),
                    amplitude=max(previous.amplitude, note.amplitude),
                )
                continue
            if note.start_s - previous.start_s < SAME_ONSET_S:
                if note.amplitude > previous.amplitude:
                    melody[-1] = note
                continue
            if note.end_s <= previous.end_s and note.amplitude < previous.amplitude:
                continue
            melody[-1] = replace(previous, end_s=note.start_s)
            if melody[-1].duration_s < min_note_s:
                melody.pop()
        melody.append(note)
    return tuple(n for n in melody if n.duration_s >= min_note_s)


def fit_tempo_bpm(
    melody: tuple[NoteEvent, ...] | list[NoteEvent],
    tempo_bpm: float,
    *,
    steps_per_quarter: int = DEFAULT_STEPS_PER_QUARTER,
) -> float:
    """The tempo near `tempo_bpm` (+-TEMPO_FIT_SHARE) whose grid best fits the onsets.

    Least squares of each onset's distance (in steps, from the first onset) to its nearest
    step; ties go to the tempo nearest the estimate.
    """
    if len(melody) < 2:
        return tempo_bpm
    starts_s = np.array(sorted(n.start_s for n in melody))
    starts_s -= starts_s[0]
    shares = np.linspace(-TEMPO_FIT_SHARE, TEMPO_FIT_SHARE, TEMPO_FIT_CANDIDATES)
    shares = shares[np.argsort(np.abs(shares), kind="stable")]  # argmin keeps the nearest
    candidates = tempo_bpm * (1.0 + shares)
    positions = starts_s[None, :] * candidates[:, None] / 60.0 * steps_per_quarter
    error = np.mean((positions - np.round(positions)) ** 2, axis=1)
    fitted = float(candidates[int(np.argmin(error))])
    return round(min(max(fitted, MIN_TEMPO_BPM), MAX_TEMPO_BPM), 2)


def melody_to_piece(
    melody: tuple[NoteEvent, ...] | list[NoteEvent],
    *,
    tempo_bpm: float,
    name: str,
    steps_per_quarter: int = DEFAULT_STEPS_PER_QUARTER,
) -> Piece:
    """A clean line on the grid: the first onset at step 0, no two notes overlapping.

    Two notes that round to one step keep the louder; each note ends by the next onset.
    """
    if not melody:
        return Piece(name, (), steps_per_quarter, round(float(tempo_bpm), 3), "")
    ordered = sorted(melody)
    origin_s = ordered[0].start_s
    steps_per_s = tempo_bpm / 60.0 * steps_per_quarter
    placed: list[tuple[int, int, NoteEvent]] = []  # (onset step, end step, note)
    for note in ordered:
        onset = round((note.start_s - origin_s) * steps_per_s)
        end = max(round((note.end_s - origin_s) * steps_per_s), onset + 1)
        if placed and onset <= placed[-1][0]:
            if note.amplitude <= placed[-1][2].amplitude:
                continue
            placed.pop()
        placed.append((onset, end, note))
    notes = tuple(
        Note(onset, note.pitch, min(end, placed[i + 1][0] if i + 1 < len(placed) else end) - onset)
        for i, (onset, end, note) in enumerate(placed)
    )
    tonic, mode = estimate_key(notes)
    return Piece(name, notes, steps_per_quarter, round(float(tempo_bpm), 3), key_name(tonic, mode))


def pitched_share(activations: Activations, melody: tuple[NoteEvent, ...]) -> float:
    """The share of frames from the first onset to the last note's end with a clear pitch."""
    if not melody:
        return 0.0
    start = int(min(n.start_s for n in melody) * FRAMES_PER_S)
    end = int(np.ceil(max(n.end_s for n in melody) * FRAMES_PER_S)) + 1
    strongest = activations.note[start:end].max(axis=1, initial=0.0)
    return float(np.mean(strongest > PITCHED_ACTIVATION)) if len(strongest) else 0.0


# ---------------------------------------------------------------- the recording


@contextmanager
def _decoding_advice() -> Iterator[None]:
    """The decoder's refusals (empty, not audio, corrupt...) with what to try instead."""
    try:
        yield
    except InvalidAudioError as error:
        raise InvalidAudioError(f"{error}; {DECODING_ADVICE}") from error


def _header_duration_s(audio: bytes | Path, name: str) -> float:
    """The recording's length from its header, before any decoding or the model."""
    # No general length limit here (math.inf): a long file gets this module's message.
    with AudioStream(
        audio, sample_rate_hz=AUDIO_SAMPLE_RATE_HZ, name=name, max_duration_s=math.inf
    ) as stream:
        return stream.info.duration_s


def _check_duration(duration_s: float, name: str) -> None:
    if duration_s < MIN_RECORDING_S:
        raise InvalidAudioError(
            f"{name}: the recording is under one second; hum or play for at least a few seconds"
        )
    if duration_s > MAX_RECORDING_S:
        raise InvalidAudioError(
            f"{name}: the recording is {duration_s:.0f} s long; hum a tune of at most "
            f"{MAX_RECORDING_S:.0f} s"
        )


def _check_tune(melody: tuple[NoteEvent, ...], share: float, name: str) -> None:
    if not melody:
        raise InvalidAudioError(
            f"{name}: no notes heard; move closer to the microphone, hum louder, one note at a time"
        )
    if share < MIN_PITCHED_SHARE:
        raise InvalidAudioError(
            f"{name}: no tune heard, only noise: hum or sing close to the microphone in a "
            "quieter place, one clear note at a time"
        )
    if len(melody) < MIN_TUNE_NOTES:
        heard = "one note" if len(melody) == 1 else f"{len(melody)} notes"
        raise InvalidAudioError(
            f"{name}: only {heard} heard; hum a tune of at least {MIN_TUNE_NOTES} notes, "
            "one after the other"
        )


def recording_to_heard_tune(
    audio: bytes | Path,
    *,
    model: BasicPitchModel,
    name: str = DEFAULT_RECORDING_NAME,
    tempo_bpm: float | None = None,
    params: TranscriptionParams = HUM_PARAMS,
) -> HeardTune:
    """A recording (WAV, FLAC, OGG, MP3... bytes or a path) → its tune and the figures.

    Args:
        audio: the recording's bytes (as `st.audio_input` gives them) or its path.
        model: from `core.transcription.model.load_model()`.
        name: what messages call the recording.
        tempo_bpm: the beat to put the notes on; estimated from the recording when None.
        params: Basic Pitch's note decoding; the voice preset unless an instrument's is given.

    Raises:
        InvalidAudioError: not audio, under `MIN_RECORDING_S` or over `MAX_RECORDING_S`,
            silent, only noise, or fewer than `MIN_TUNE_NOTES` notes. The message starts with
            `name` and says what to try.
        ValueError: `tempo_bpm` outside MIN_TEMPO_BPM..MAX_TEMPO_BPM.
    """
    if tempo_bpm is not None and not MIN_TEMPO_BPM <= tempo_bpm <= MAX_TEMPO_BPM:
        raise ValueError(f"tempo_bpm must lie within {MIN_TEMPO_BPM:g}..{MAX_TEMPO_BPM:g}")
    began = time.perf_counter()
    audio = audio if isinstance(audio, bytes) else Path(audio)
    with _decoding_advice():
        header_s = _header_duration_s(audio, name)
    _check_duration(header_s, name)
    with _decoding_advice():
        # The limit is a safety net for a header that lies; the header was checked above.
        activations = audio_to_activations(
            audio, model=model, name=name, max_duration_s=2 * MAX_RECORDING_S
        )
    _check_duration(activations.duration_s, name)  # a header may promise more than there is
    heard = activations_to_notes(activations, params)
    melody = notes_to_melody(heard)
    share = pitched_share(activations, melody)
    _check_tune(melody, share, name)
    if tempo_bpm is None:
        estimate = estimate_tempo_bpm(activations.onset.sum(axis=1), notes=melody)
        tempo = fit_tempo_bpm(melody, estimate)
    else:
        tempo = tempo_bpm
    piece = melody_to_piece(melody, tempo_bpm=tempo, name=Path(name).stem or name)
    elapsed = time.perf_counter() - began
    log.info(
        "%s: %d notes heard, %d kept, %s at %.1f BPM (%.2f s)",
        name,
        len(heard),
        len(piece.notes),
        piece.key,
        piece.tempo_bpm,
        elapsed,
    )
    return HeardTune(
        piece=piece,
        recording_s=activations.duration_s,
        melody=melody,
        heard_notes=len(heard),
        pitched_share=share,
        tempo_estimated=tempo_bpm is None,
        elapsed_s=elapsed,
    )
