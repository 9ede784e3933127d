"""The beat of a transcription: its tempo, where the beats lie, and how they divide.

From the model's onset activations (an autocorrelation finds the beat roughly) and the note
onsets (a comb search and a least-squares fit lock a grid of sixteenths to them: tempo and
phase, over the whole file, so a long file does not drift). Written here rather than with
librosa because librosa's tempo estimator compiles numba code on first use, which costs every
app start many seconds, and because its tempo comes in whole autocorrelation lags (about 2 %
apart at 120 BPM; its beat tracker follows the beats one by one and gives no tempo finer than
that), while training music needs the tempo to well under 0.1 % (docs/transcription.md).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from core.transcription.events import NoteEvent
from core.transcription.note_creation import (
    ANNOT_N_FRAMES,
    AUDIO_SAMPLE_RATE_HZ,
    FFT_HOP_SAMPLES,
    WINDOW_OFFSET_S,
)
from core.transcription.params import DEFAULT_MIDI_TEMPO_BPM

MIN_TEMPO_BPM = 40.0
MAX_TEMPO_BPM = 240.0
TEMPO_PRIOR_BPM = 120.0  # librosa's prior: log-normal around 120 BPM, one octave wide
# The notes' clock: basic-pitch's frames are 256 samples apart, less its drift correction of
# WINDOW_OFFSET_S per 172 frames (core/transcription/note_creation.py, model_frames_to_time),
# so 86.58 frames per second, not 22050 / 256 = 86.13. The onset envelope is read on the same
# clock as the note times, or every tempo comes out 0.5 % slow.
FRAME_RATE_HZ = 1.0 / (FFT_HOP_SAMPLES / AUDIO_SAMPLE_RATE_HZ - WINDOW_OFFSET_S / ANNOT_N_FRAMES)
MIN_ONSET_WEIGHT = 0.1  # a quiet note still marks a beat in the envelope made from notes
SECONDS_PER_MINUTE = 60.0

SIMPLE, COMPOUND = 2, 3  # a beat's division: two eighths (2/4, 3/4, 4/4) or three (6/8, 9/8, 12/8)
STEPS_PER_QUARTER = 4  # the grid the fit locks to: sixteenths (in 6/8, a sixth of the beat)
SAME_ONSET_S = 0.03  # onsets closer than this are one (octave doubles, chords)
COMB_POINTS_PER_PEAK = 8  # tempo candidates per width of the comb's peak
COMB_CHUNK = 256  # candidates scored at once (a chunk x the onsets complex numbers in memory)
REFINEMENT_PASSES = 2  # least-squares passes after the comb: the second rarely moves it
MIN_ONSETS_PER_PITCH = 2  # a pitch heard once says nothing of its own delay
MIN_PITCH_FIT_ONSETS = 8  # fewer onsets than this fit tempo and phase only
TINY_RSS = 1e-18  # keeps the log finite for a perfect fit (synthetic onsets)
MAX_FIT_RESIDUAL_STEPS = 0.3  # onsets farther off their step are left out of the fit
MAX_REFINEMENT = 0.08  # the grid's tempo is searched this far from the rough one, not farther
DIVISION_TOLERANCE_BEATS = 0.05  # an interval "is" k/4 or k/3 of a beat within this
COMPOUND_MARGIN = 0.15  # triple division must explain this share of intervals more than duple
MAX_ACCENT_EIGHTHS = 4.0  # a note longer than a half note marks its beat no more than one of it
MIN_ACCENT_NOTES = 8  # fewer notes on eighths do not tell the beat's division
ACCENT_MARGIN = 0.05  # one division must gather the long notes by this much more than the other
FAST_BEAT_BPM = 160.0  # a faster "beat" is the eighth: the beat is two or three of them
# The rough beat of the grid may be such an eighth: searched up to twice the fastest beat, so an
# eighth near 240 BPM is not cut to the end of the range (and left too far off to refine).
ROUGH_MAX_BPM = 2 * FAST_BEAT_BPM
BAR_CANDIDATES = (2, 3, 4)
ON_GRID_STEPS = 0.2  # an onset this close to a step lies on the grid
MIN_ON_GRID_SHARE = 0.85  # below this share the grid cannot hold the music: a warning
TRIPLET_STEPS_PER_QUARTER = 12  # the grid that holds both sixteenths and triplets


@dataclass(frozen=True)
class BeatGrid:
    """Where the beats of a transcription lie: the grid its notes are snapped to.

    `tempo_bpm` counts quarter notes (in 6/8 the beat is a dotted quarter: `beat_bpm` is two
    thirds of it); `origin_s` is the start of a beat, at or before the first note, so grid step
    0 of the training music lies there.
    """

    tempo_bpm: float
    origin_s: float
    beat_division: int = SIMPLE
    beats_per_bar: int = 4
    on_grid_share: float = 1.0  # onsets within ON_GRID_STEPS of a sixteenth
    warning: str = ""

    @property
    def beat_bpm(self) -> float:
        return self.tempo_bpm * SIMPLE / self.beat_division

    @property
    def meter(self) -> str:
        """As written: "6/8" for two beats of three eighths, "3/4" for three of two."""
        if self.beat_division == COMPOUND:
            return f"{self.beats_per_bar * 3}/8"
        return f"{self.beats_per_bar}/4"


def estimate_tempo_bpm(
    onset_envelope: np.ndarray,
    *,
    notes: Sequence[NoteEvent] = (),
    max_bpm: float = MAX_TEMPO_BPM,
) -> float:
    """The beat in BPM from an onset envelope (frames on the notes' clock), or from note onsets.

    Autocorrelation of the envelope, weighted by librosa's prior (log-normal around 120 BPM,
    one octave wide), with a parabolic refinement, between MIN_TEMPO_BPM and `max_bpm`.
    `DEFAULT_MIDI_TEMPO_BPM` when there is too little to go on. Rough (a few tenths of a
    percent); `estimate_beat_grid` refines it.
    """
    envelope = np.asarray(onset_envelope, np.float64)
    if envelope.size < 4 or not np.any(envelope > 0):
        if not notes:
            return DEFAULT_MIDI_TEMPO_BPM
        envelope = _notes_to_onset_envelope(notes)
    autocorrelation = _autocorrelation(envelope)
    n = len(envelope)
    min_lag = max(1, int(np.floor(SECONDS_PER_MINUTE * FRAME_RATE_HZ / max_bpm)))
    max_lag = min(n - 2, int(np.ceil(SECONDS_PER_MINUTE * FRAME_RATE_HZ / MIN_TEMPO_BPM)))
    if max_lag <= min_lag or autocorrelation[0] <= 0:
        return DEFAULT_MIDI_TEMPO_BPM
    lag = _best_lag(autocorrelation, np.arange(min_lag, max_lag + 1))
    bpm = SECONDS_PER_MINUTE * FRAME_RATE_HZ / lag
    return round(float(np.clip(bpm, MIN_TEMPO_BPM, max_bpm)), 2)


def estimate_beat_grid(
    onset_envelope: np.ndarray, *, notes: Sequence[NoteEvent], tempo_bpm: float | None = None
) -> BeatGrid:
    """The beat grid of the notes: tempo (quarter notes), phase, meter, and how well it fits.

    The rough beat (`estimate_tempo_bpm`) is split in two or three by the intervals between
    onsets; a beat faster than FAST_BEAT_BPM is taken as the eighth and grouped in two or three
    by the autocorrelation of the notes. The tempo and phase are then fitted to the onsets
    against a sixteenth grid over the whole file (`_fit_grid`), and with the quarter known the
    division is told again by where the long notes start (`_division_by_accents`).
    With `tempo_bpm` (the user's, in quarter notes) only the phase is fitted.
    """
    heard = _onsets(notes)
    onsets = heard.times
    if onsets.size == 0:
        return BeatGrid(tempo_bpm or DEFAULT_MIDI_TEMPO_BPM, 0.0)
    if tempo_bpm is not None:
        quarter_s = SECONDS_PER_MINUTE / tempo_bpm
        division, beat_s = SIMPLE, quarter_s
    else:
        rough_bpm = estimate_tempo_bpm(onset_envelope, notes=notes, max_bpm=ROUGH_MAX_BPM)
        beat_s = SECONDS_PER_MINUTE / rough_bpm
        beat_s, division = _beat_and_division(onsets, beat_s, notes)
        quarter_s = beat_s * SIMPLE / division
    step_s = quarter_s / STEPS_PER_QUARTER
    phase_s, fitted_step_s = _fit_grid(heard, step_s, fit_tempo=tempo_bpm is None)
    if abs(fitted_step_s / step_s - 1.0) <= MAX_REFINEMENT:
        step_s = fitted_step_s
    quarter_s = step_s * STEPS_PER_QUARTER
    if tempo_bpm is None:
        division = _division_by_accents(heard, phase_s, step_s) or division
    beat_s = quarter_s * division / SIMPLE
    steps_per_beat = round(beat_s / step_s)
    origin_s = _beat_origin(onsets, notes, phase_s, step_s, steps_per_beat)
    beats_per_bar = _best_grouping(notes, beat_s, BAR_CANDIDATES)
    share = _on_grid_share(onsets, origin_s, step_s)
    return BeatGrid(
        tempo_bpm=SECONDS_PER_MINUTE / quarter_s,
        origin_s=origin_s,
        beat_division=division,
        beats_per_bar=beats_per_bar,
        on_grid_share=share,
        warning=_grid_warning(onsets, origin_s, quarter_s, share),
    )


def on_grid_share(
    notes: Sequence[NoteEvent], *, origin_s: float, tempo_bpm: float, steps_per_quarter: int
) -> float:
    """The share of onsets within ON_GRID_STEPS of a step of the given grid."""
    step_s = SECONDS_PER_MINUTE / tempo_bpm / steps_per_quarter
    return _on_grid_share(_onsets(notes).times, origin_s, step_s)


# ---------------------------------------------------------------- the beat and its division


@dataclass(frozen=True)
class _Onsets:
    """Distinct onset times (doubles within SAME_ONSET_S merged), and of each the loudest
    note's weight and pitch, and the longest note's length."""

    times: np.ndarray
    weights: np.ndarray
    pitches: np.ndarray
    lengths: np.ndarray


def _onsets(notes: Sequence[NoteEvent]) -> _Onsets:
    times: list[float] = []
    weights: list[float] = []
    pitches: list[int] = []
    lengths: list[float] = []
    for note in sorted(notes, key=lambda n: n.start_s):
        weight = max(note.amplitude, MIN_ONSET_WEIGHT)
        if times and note.start_s - times[-1] < SAME_ONSET_S:
            if weight > weights[-1]:
                weights[-1], pitches[-1] = weight, note.pitch
            lengths[-1] = max(lengths[-1], note.duration_s)
            continue
        times.append(note.start_s)
        weights.append(weight)
        pitches.append(note.pitch)
        lengths.append(note.duration_s)
    return _Onsets(
        np.array(times), np.array(weights), np.array(pitches, dtype=np.int64), np.array(lengths)
    )


def _beat_and_division(
    onsets: np.ndarray, beat_s: float, notes: Sequence[NoteEvent]
) -> tuple[float, int]:
    """(beat period, 2 or 3): the rough beat split by the intervals between onsets."""
    if SECONDS_PER_MINUTE / beat_s > FAST_BEAT_BPM:
        # The rough beat is the eighth: the beat is two or three of them, as the notes repeat.
        group = _best_grouping(notes, beat_s, (SIMPLE, COMPOUND))
        return beat_s * group, group
    intervals = np.diff(onsets) / beat_s
    intervals = intervals[(intervals > 0.1) & (intervals < 4.0)]
    if intervals.size == 0:
        return beat_s, SIMPLE

    def explained(division: int) -> float:
        cells = intervals * division
        return float(np.mean(np.abs(cells - np.round(cells)) < DIVISION_TOLERANCE_BEATS * division))

    # Simple time: intervals of quarters of a beat (sixteenths, eighths, dotted eighths);
    # compound: sixths (sixteenths, eighths, quarters). Whole and half beats are both.
    if explained(2 * COMPOUND) > explained(2 * SIMPLE) + COMPOUND_MARGIN:
        return beat_s, COMPOUND
    return beat_s, SIMPLE


def _division_by_accents(heard: _Onsets, phase_s: float, step_s: float) -> int | None:
    """2 or 3, with the quarter known: do the notes' starts, weighted by how long they sound,
    gather on every second eighth (the beats of 2/4, 3/4, 4/4) or on every third (6/8, 9/8,
    12/8), each share measured against what chance would put there. None: too few notes on
    eighths, or neither division clearly ahead.

    Long notes fall on beats, so the beat shows in where they start; the intervals between
    onsets (`_beat_and_division`) cannot tell a 6/8 read at the quarter from 3/4, as both are
    made of eighths and quarters. It overrides them only when one division is clearly ahead.
    Rendered folk tunes, the division right (docs/benchmarks.md): 42 of 44 from ten tune books
    it was designed on (the intervals and the rough beat alone: 33); 140 of 150 of `bench
    your_style`'s songs (129) and 27 of 30 of `bench audio_to_training`'s (27), neither seen
    while it was made.
    """
    sixteenths = np.round((heard.times - phase_s) / step_s).astype(np.int64)
    weights = np.minimum(heard.lengths / (2 * step_s), MAX_ACCENT_EIGHTHS)  # in eighths
    # the eighths lie on the even or the odd sixteenths of the fitted grid: where more sound
    odd = int(weights[sixteenths % 2 == 1].sum() > weights[sixteenths % 2 == 0].sum())
    on_eighths = (sixteenths - odd) % 2 == 0
    eighths, weights = (sixteenths[on_eighths] - odd) // 2, weights[on_eighths]
    if eighths.size < MIN_ACCENT_NOTES or weights.sum() <= 0:
        return None

    def above_chance(division: int) -> float:
        share = max(weights[(eighths - phase) % division == 0].sum() for phase in range(division))
        return float((share / weights.sum() - 1 / division) / (1 - 1 / division))

    triple, duple = above_chance(COMPOUND), above_chance(SIMPLE)
    if abs(triple - duple) <= ACCENT_MARGIN:
        return None  # even notes (a note every eighth) lean neither way
    return COMPOUND if triple > duple else SIMPLE


def _best_grouping(notes: Sequence[NoteEvent], unit_s: float, groups: Sequence[int]) -> int:
    """Which multiple of `unit_s` the notes repeat at most: autocorrelation of an envelope of
    onsets weighted by their notes' length (long notes fall on strong beats)."""
    envelope = _notes_to_onset_envelope(notes, weight_by_length=True)
    autocorrelation = _autocorrelation(envelope)
    unit = unit_s * FRAME_RATE_HZ
    scores = []
    for group in groups:
        lag = round(group * unit)
        if lag >= len(autocorrelation):
            scores.append(0.0)
            continue
        scores.append(float(np.max(autocorrelation[max(0, lag - 2) : lag + 3])))
    return int(groups[int(np.argmax(scores))])


# ---------------------------------------------------------------- the grid, fitted


def _fit_grid(heard: _Onsets, step_s: float, *, fit_tempo: bool) -> tuple[float, float]:
    """(phase, step) of the sixteenth grid that holds the onsets best.

    The step is found by a comb search first: of the steps within MAX_REFINEMENT of the rough
    one, the one where the onsets agree most modulo the step (the weighted resultant of their
    phase angles, a periodogram at the sixteenth). The search is global, so a tempo only
    roughly right never loses count of the steps, and an early run of late onsets (a flute's
    soft attacks) cannot pull the grid off the way a fit grown from the first seconds could.
    Least squares over the onsets near that grid then refine tempo and phase, and, where it
    pays, with a delay of its own for each pitch (`_fit_pitch_delays`).
    """
    onsets, weights = heard.times, heard.weights
    if fit_tempo and onsets.size >= 3 and np.ptp(onsets) > 0:
        step_s = _comb_step(onsets, weights, step_s)
    phase = onsets[0] + _circular_phase(onsets - onsets[0], step_s, weights)
    for _ in range(REFINEMENT_PASSES):
        steps = np.round((onsets - phase) / step_s)
        residual = onsets - (phase + steps * step_s)
        inside = np.abs(residual) < MAX_FIT_RESIDUAL_STEPS * step_s
        if np.count_nonzero(inside) >= 2 and fit_tempo and np.ptp(steps[inside]) > 0:
            slope, intercept = np.polyfit(
                steps[inside], onsets[inside], 1, w=np.sqrt(weights[inside])
            )
            step_s, phase = float(slope), float(intercept)
        elif np.count_nonzero(inside):
            phase += float(np.average(residual[inside], weights=weights[inside]))
    if fit_tempo:
        for _ in range(REFINEMENT_PASSES):
            fitted = _fit_pitch_delays(heard, phase, step_s)
            if fitted is None:
                break
            phase, step_s = fitted
    return phase, step_s


def _fit_pitch_delays(heard: _Onsets, phase: float, step_s: float) -> tuple[float, float] | None:
    """(phase, step) fitted with a delay of its own for each pitch, or None where that does not
    pay for its extra terms (Akaike's criterion).

    A transcribed onset comes late by an amount that depends on the instrument and the pitch:
    a flute's low notes speak 40 ms late and its high ones 15 ms (measured on FluidSynth
    renders: pitch explained 65 % of the spread), and 30 onsets over ten seconds with that
    spread leave the tempo 0.1 % uncertain. A piano's onsets are not late by pitch, and there
    the criterion keeps the plain fit.
    """
    onsets, weights = heard.times, heard.weights
    steps = np.round((onsets - phase) / step_s)
    inside = np.abs(onsets - (phase + steps * step_s)) < MAX_FIT_RESIDUAL_STEPS * step_s
    pitches, counts = np.unique(heard.pitches[inside], return_counts=True)
    repeated = np.isin(heard.pitches, pitches[counts >= MIN_ONSETS_PER_PITCH]) & inside
    if np.count_nonzero(repeated) < MIN_PITCH_FIT_ONSETS or np.ptp(steps[repeated]) == 0:
        return None
    times, root_w = onsets[repeated], np.sqrt(weights[repeated])
    own = heard.pitches[repeated]
    per_pitch = np.column_stack([steps[repeated], *(own == p for p in np.unique(own))])
    plain = np.column_stack([steps[repeated], np.ones(times.size)])

    def fit(design: np.ndarray) -> tuple[np.ndarray, float]:
        solution, *_ = np.linalg.lstsq(design * root_w[:, None], times * root_w, rcond=None)
        residual = (design @ solution - times) * root_w
        return solution, float(residual @ residual)

    (with_pitch, rss_pitch), (_, rss_plain) = fit(per_pitch), fit(plain)
    n = times.size
    aic_pitch = n * np.log(rss_pitch / n + TINY_RSS) + 2 * per_pitch.shape[1]
    aic_plain = n * np.log(rss_plain / n + TINY_RSS) + 2 * plain.shape[1]
    if aic_pitch >= aic_plain:
        return None
    step_s = float(with_pitch[0])
    steps = np.round((onsets[inside] - phase) / step_s)
    phase = float(np.average(onsets[inside] - steps * step_s, weights=weights[inside]))
    return phase, step_s


def _comb_step(onsets: np.ndarray, weights: np.ndarray, step_s: float) -> float:
    """The step within MAX_REFINEMENT of `step_s` at which the onsets line up best."""
    times = onsets - onsets[0]
    # The resultant's peak is about step / span wide (relative): candidates a few times closer.
    spacing = step_s / float(times[-1]) / COMB_POINTS_PER_PEAK
    count = int(np.ceil(2 * MAX_REFINEMENT / spacing)) + 1
    candidates = step_s * (1.0 + np.linspace(-MAX_REFINEMENT, MAX_REFINEMENT, count))
    strength = np.empty(count)
    for start in range(0, count, COMB_CHUNK):  # bounded memory for a long file's many onsets
        chunk = candidates[start : start + COMB_CHUNK]
        angles = 2j * np.pi * times[None, :] / chunk[:, None]
        strength[start : start + COMB_CHUNK] = np.abs(np.exp(angles) @ weights)
    return float(candidates[int(np.argmax(strength))])


def _circular_phase(
    onsets: np.ndarray, period_s: float, weights: np.ndarray | None = None
) -> float:
    """The offset in [0, period) that onsets keep modulo the period (their circular mean)."""
    angles = 2 * np.pi * onsets / period_s
    mean = np.angle(np.average(np.exp(1j * angles), weights=weights))
    return float((mean / (2 * np.pi)) % 1.0 * period_s)


def _beat_origin(
    onsets: np.ndarray,
    notes: Sequence[NoteEvent],
    phase_s: float,
    step_s: float,
    steps_per_beat: int,
) -> float:
    """The beat at or before the first onset: of the steps in a beat, the one where the
    longest notes start (the beat falls where the notes are long)."""
    scores = np.zeros(steps_per_beat)
    for note in notes:
        step = round((note.start_s - phase_s) / step_s)
        scores[step % steps_per_beat] += note.duration_s * max(note.amplitude, MIN_ONSET_WEIGHT)
    offset = int(np.argmax(scores))
    beat_phase = phase_s + offset * step_s
    beat_s = steps_per_beat * step_s
    first = onsets[0]
    # Half a step of slack: a first note a little early still counts as on its beat.
    return float(beat_phase + np.floor((first - beat_phase + 0.5 * step_s) / beat_s) * beat_s)


def _on_grid_share(onsets: np.ndarray, origin_s: float, step_s: float) -> float:
    if onsets.size == 0:
        return 1.0
    cells = (onsets - origin_s) / step_s
    return float(np.mean(np.abs(cells - np.round(cells)) < ON_GRID_STEPS))


def _grid_warning(onsets: np.ndarray, origin_s: float, quarter_s: float, share: float) -> str:
    """Empty when the sixteenth grid holds the onsets; else what the grid will do to them."""
    if share >= MIN_ON_GRID_SHARE:
        return ""
    triplets = _on_grid_share(onsets, origin_s, quarter_s / TRIPLET_STEPS_PER_QUARTER / 1.0)
    fine = _on_grid_share(onsets, origin_s, quarter_s / STEPS_PER_QUARTER / 3)
    if triplets >= MIN_ON_GRID_SHARE and fine > share:
        return (
            f"only {share:.0%} of the notes lie on sixteenths: they look like triplets; "
            "choose the grid with triplets to keep them"
        )
    return (
        f"only {share:.0%} of the notes lie on the beat's sixteenths: the music does not keep "
        "a steady beat, and snapping will move many notes; set the tempo if you know it"
    )


# ---------------------------------------------------------------- envelopes


def _notes_to_onset_envelope(
    notes: Sequence[NoteEvent], *, weight_by_length: bool = False
) -> np.ndarray:
    """A spike at every onset, as loud as the note (at least MIN_ONSET_WEIGHT), or as long."""
    length = int(max(n.end_s for n in notes) * FRAME_RATE_HZ) + 2
    envelope = np.zeros(length)
    for note in notes:
        weight = max(note.amplitude, MIN_ONSET_WEIGHT)
        if weight_by_length:
            weight *= max(note.duration_s, 0.0)
        envelope[round(note.start_s * FRAME_RATE_HZ)] += weight
    return envelope


def _autocorrelation(envelope: np.ndarray) -> np.ndarray:
    """The mean-free envelope's autocorrelation at lags 0..n-1 (by FFT, zero-padded)."""
    centred = envelope - envelope.mean()
    n = len(centred)
    spectrum = np.fft.rfft(centred, 2 * n)
    autocorrelation: np.ndarray = np.fft.irfft(np.abs(spectrum) ** 2)[:n]
    return autocorrelation


def _best_lag(autocorrelation: np.ndarray, lags: np.ndarray) -> float:
    """The lag (frames) that scores best under the tempo prior, refined by a parabola."""
    bpms = SECONDS_PER_MINUTE * FRAME_RATE_HZ / lags
    prior = np.exp(-0.5 * np.log2(bpms / TEMPO_PRIOR_BPM) ** 2)
    score = autocorrelation[lags] * prior
    best = int(np.argmax(score))
    lag = float(lags[best])
    if 0 < best < len(lags) - 1:
        left, mid, right = score[best - 1], score[best], score[best + 1]
        denominator = left - 2 * mid + right
        if denominator < 0:
            lag += 0.5 * (left - right) / denominator
    return lag
