"""Polyphonic piano: recover the top line Basic Pitch drops, and drop its octave ghosts.

On piano chords, Basic Pitch's onsets for the upper notes are usually there (the onset
activation of a missed melody note is 0.77 in the median, `bench piano_melody`), but their note
activation is weak (0.32 in the median, the preset's frame threshold is 0.5), so the decoder's
walk ends the note at once and the note is lost (the top voice's recall was 0.53,
the bass's 0.97). `recover_top_line` walks those onsets again at a lower frame threshold;
`drop_octave_ghosts` removes a note an octave above a louder one that starts with it and has no
onset of its own; only the piano preset turns these two on (`TranscriptionParams.top_line`),
so the default decoding stays basic-pitch's, note for note (its golden test). `melody_notes`
keeps the top line only (the audio tab's "Keep only the melody"); `single_line_notes` stores a
line played (`is_single_line`) as one line, without ghosts or notes ringing into the next.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from itertools import pairwise

import numpy as np

from core.transcription.events import NoteEvent
from core.transcription.note_creation import (
    ENERGY_TOLERANCE_FRAMES,
    MIDI_OFFSET,
    N_PITCHES,
    FrameNote,
    _local_maxima,
    constrain_frequency,
    inferred_onsets,
)

# Chosen by measurement (bench piano_melody; figures in docs/transcription.md).
RECOVERY_ONSET_THRESHOLD = 0.6  # an onset peak this strong, with no note, is walked again
RECOVERY_FRAME_THRESHOLD = 0.15  # ... with this frame threshold
SAME_ONSET_FRAMES = 3  # about 35 ms: two notes that start together
GHOST_AMPLITUDE_RATIO = 0.5  # a ghost is at most this loud against the note below it
ONSET_SEARCH_FRAMES = 2  # a note "has its own onset" if one lies this near its start
SAME_ONSET_S = 0.035  # the melody: notes this close start together (SAME_ONSET_FRAMES)


def _onset_peaks(onsets: np.ndarray, threshold: float) -> list[tuple[int, int]]:
    times, bins = _local_maxima(onsets)
    keep = onsets[times, bins] >= threshold
    return list(zip(times[keep].tolist(), bins[keep].tolist(), strict=True))


def _sounding(notes: list[FrameNote], frame: int, pitch: int) -> bool:
    return any(n[2] == pitch and n[0] - SAME_ONSET_FRAMES <= frame < n[1] for n in notes)


def _below_sounding(notes: list[FrameNote], frame: int, pitch: int) -> bool:
    return any(n[2] < pitch and n[0] - SAME_ONSET_FRAMES <= frame < n[1] for n in notes)


def recover_top_line(
    frames: np.ndarray,
    onsets: np.ndarray,
    notes: list[FrameNote],
    *,
    min_note_length_frames: int,
    min_frequency_hz: float | None = None,
    max_frequency_hz: float | None = None,
    onset_threshold: float = RECOVERY_ONSET_THRESHOLD,
    frame_threshold: float = RECOVERY_FRAME_THRESHOLD,
) -> list[FrameNote]:
    """`notes` plus the notes found at onset peaks (`onset_threshold`) that gave none, each
    above a note sounding there, walked at `frame_threshold`.

    Only the octave, twelfth and double octave above a note (where 66 % of the missed top
    notes sat) recovered fewer melody notes at a lower F1 than any note above a sounding one
    (docs/transcription.md).
    """
    frames = np.array(frames, dtype=np.float64, copy=True)
    onsets = np.array(onsets, copy=True)
    constrain_frequency(
        onsets, frames, max_frequency_hz=max_frequency_hz, min_frequency_hz=min_frequency_hz
    )
    onsets = inferred_onsets(onsets, frames)
    n_frames = frames.shape[0]
    found = list(notes)
    for start, freq in _onset_peaks(onsets, onset_threshold):
        pitch = freq + MIDI_OFFSET
        if start >= n_frames - 1 or _sounding(found, start, pitch):
            continue
        if not _below_sounding(notes, start, pitch):
            continue
        i, k = start + 1, 0
        while i < n_frames - 1 and k < ENERGY_TOLERANCE_FRAMES:
            k = k + 1 if frames[i, freq] < frame_threshold else 0
            i += 1
        end = i - k
        # Never run into the next note at this pitch.
        later = [n[0] for n in found if n[2] == pitch and n[0] > start]
        end = min([end, *later])
        if end - start <= min_note_length_frames:
            continue
        found.append((start, end, pitch, float(np.mean(frames[start:end, freq]))))
    return found


def drop_octave_ghosts(
    notes: list[FrameNote], onsets: np.ndarray, *, onset_threshold: float
) -> list[FrameNote]:
    """`notes` without the octave ghosts: a note 12 semitones above a note that starts with
    it, at most `GHOST_AMPLITUDE_RATIO` as loud, with no onset peak of its own
    (`onset_threshold`) near its start (the melodia step finds such notes from the frames)."""
    kept = []
    for note in notes:
        start, _, pitch, amplitude = note
        freq = pitch - MIDI_OFFSET
        below = [
            n
            for n in notes
            if n[2] == pitch - 12
            and abs(n[0] - start) <= SAME_ONSET_FRAMES
            and amplitude <= GHOST_AMPLITUDE_RATIO * n[3]
        ]
        lo, hi = max(start - ONSET_SEARCH_FRAMES, 0), start + ONSET_SEARCH_FRAMES + 1
        own_onset = 0 <= freq < N_PITCHES and float(onsets[lo:hi, freq].max(initial=0.0)) >= (
            onset_threshold
        )
        if below and not own_onset:
            continue
        kept.append(note)
    return kept


def melody_notes(notes: Sequence[NoteEvent]) -> tuple[NoteEvent, ...]:
    """The top line of `notes`, one note at a time: at each onset (notes within
    `SAME_ONSET_S` start together) the highest note, unless a higher note still sounds; a kept
    note ends where the next one starts."""
    melody: list[NoteEvent] = []
    ordered = sorted(notes, key=lambda n: (n.start_s, -n.pitch))
    i = 0
    while i < len(ordered):
        group_start = ordered[i].start_s
        group = [n for n in ordered[i:] if n.start_s - group_start <= SAME_ONSET_S]
        i += len(group)
        top = max(group, key=lambda n: n.pitch)
        if melody:
            previous = melody[-1]
            if previous.pitch > top.pitch and previous.end_s > top.start_s + SAME_ONSET_S:
                continue  # under a held melody note: accompaniment
            if previous.end_s > top.start_s:
                melody[-1] = replace(previous, end_s=max(top.start_s, previous.start_s))
        melody.append(top)
    return tuple(melody)


# A transcription whose onsets hold one note each this often is one line played (a song, a
# fiddle tune), though Basic Pitch lets each note ring into the next (bench your_style: 16-90 %
# of a folk song's notes ran over the next onset) and adds a ghost at a few onsets.
SINGLE_LINE_SHARE = 0.8


def is_single_line(notes: Sequence[NoteEvent], *, share: float = SINGLE_LINE_SHARE) -> bool:
    """Whether at least `share` of the onsets (notes within `SAME_ONSET_S` start together)
    hold a single note."""
    groups = _onset_groups(notes)
    return bool(groups) and sum(len(g) == 1 for g in groups) >= share * len(groups)


def single_line_notes(notes: Sequence[NoteEvent], *, legato_gap_s: float) -> tuple[NoteEvent, ...]:
    """`notes` as one line: at each onset the loudest note (the others are ghosts); each note
    ends at the next onset if it would run over it, or if it stops less than `legato_gap_s`
    before it (legato, as written)."""
    line = [max(group, key=lambda n: n.amplitude) for group in _onset_groups(notes)]
    for i, (note, after) in enumerate(pairwise(line)):
        if note.end_s > after.start_s or after.start_s - note.end_s < legato_gap_s:
            line[i] = replace(note, end_s=after.start_s)
    return tuple(line)


def _onset_groups(notes: Sequence[NoteEvent]) -> list[list[NoteEvent]]:
    groups: list[list[NoteEvent]] = []
    for note in sorted(notes, key=lambda n: (n.start_s, -n.amplitude)):
        if groups and note.start_s - groups[-1][0].start_s <= SAME_ONSET_S:
            groups[-1].append(note)
        else:
            groups.append([note])
    return groups
