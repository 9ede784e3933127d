"""Musical form: how often a piece's bars come back, the bar-recurrence profile.

After Museformer (Yu et al. 2022), whose "bar-pair similarity" showed that real songs restate
bars at a few distances (1, 2, 4, 8 bars, where phrases repeat): for each distance d in
`DISTANCES_BARS`, the profile is the share of bars b (with b - d >= 0) whose content recurs at
bar b - d. MusPy (0.5.0, installed) has no such metric, so it is computed here.

"Recurs" is an exact match of the bars' top-line patterns. The top line is the melody a listener
follows: at each onset, the highest note starting there, unless a higher note struck earlier is
still sounding (an inner voice moving under a held melody note is not the melody; taking the
highest onset alone put the chorales' alto moves into their tunes and hid restatements: 0.5% of
their bars recurred 4 bars later against 4.5% with the held notes heard). A bar's pattern is
its top-line onsets' positions within the bar and each note's pitch relative to the bar's
first top-line note. Two bars recur when the patterns are equal: the
same rhythm and the same intervals, so a transposed restatement (a sequence, the second strain
a fourth up) counts, and a change of one note does not. Why this and not a similarity score:
the question a listener asks is "does this bar come back?", and an equality answers it with no
threshold to tune and no partial credit that random bars on a scale would also earn; durations
are left out because the same tune played shorter or longer is still heard as the same tune.
One consequence: a bar of one note recurs wherever another bar holds one note at the same
place (a held note is heard as the same long note, at any pitch).

Empty bars are left out: a pair (b - d, b) counts only when the top line strikes a note in both
bars (a silent bar, or one where the melody only holds a note from the bar before, is empty).
A distance with no pair that counts has no figure (None). A collection's profile pools the bars
of all its pieces, so a long piece counts more than a short one.

Bars are `quarters_per_bar` quarter notes long (4.0 by default, the bar of a piece that states
no meter; 3.0 for 6/8; None: each piece's own meter, `Piece.meter`), counted from the piece's
first grid step; a tune's pickup shifts every bar by the same amount, which leaves the
restatements aligned with each other.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace

import numpy as np

from core.evaluation.degeneracy import FLAG_BAR_REPEATS, longest_bar_run
from core.music.meter import parse_meter
from core.music.piece import BEATS_PER_BAR, Note, Piece, top_line

DISTANCES_BARS = (1, 2, 4, 8)
DEFAULT_QUARTERS_PER_BAR = float(BEATS_PER_BAR)

# A generated set's figure within these times real music's is "as often as real music".
GOAL_RATIO_LOW = 0.7
GOAL_RATIO_HIGH = 1.3
# A distance is judged only where real music brings back at least this share of its bars: the
# real chorales' 0.3% at 1 bar is a bar or two in 35 pieces, and a ratio to it is noise.
MIN_JUDGED_SHARE = 0.01
# Under this share of real music's, its pieces "rarely" repeat a bar.
RARELY_RATIO = 0.25

EMPTY_BAR = -1  # a bar id for a bar with no onset

BarPattern = tuple[tuple[int, ...], tuple[int, ...]]  # (onsets in the bar, pitches above first)


def bar_steps_for(
    piece: Piece, *, quarters_per_bar: float | None = DEFAULT_QUARTERS_PER_BAR
) -> int:
    """Grid steps in one bar of `quarters_per_bar` quarter notes on the piece's grid (None: a
    bar of the piece's own meter, `Piece.meter`, 4/4 when it states none).

    Raises:
        ValueError: the bar is not a positive whole number of grid steps.
    """
    if quarters_per_bar is None:
        quarters_per_bar = parse_meter(piece.meter).quarters_per_bar
    steps = quarters_per_bar * piece.steps_per_quarter
    if not steps > 0 or not math.isclose(steps, round(steps)):
        raise ValueError(
            f"a bar of {quarters_per_bar:g} quarter notes is not a whole number of grid steps "
            f"at {piece.steps_per_quarter} steps per quarter note"
        )
    return round(steps)


def cut_to_beats(piece: Piece, beats: float) -> Piece:
    """The piece's first `beats` quarter notes (a note sounding at the cut ends there), to
    compare real pieces with generated ones of that length."""
    end = int(beats * piece.steps_per_quarter)
    notes = tuple(
        Note(n.onset_step, n.pitch, min(n.duration_steps, end - n.onset_step))
        for n in piece.notes
        if n.onset_step < end
    )
    return replace(piece, notes=notes)


def bar_patterns(
    piece: Piece, *, quarters_per_bar: float | None = DEFAULT_QUARTERS_PER_BAR
) -> list[BarPattern | None]:
    """Each bar's top-line pattern, from bar 0 to the last bar where the top line strikes a note;
    None for a bar where it strikes none."""
    bar = bar_steps_for(piece, quarters_per_bar=quarters_per_bar)
    top = top_line(piece)
    bars: dict[int, list[tuple[int, int]]] = {}
    for onset in sorted(top):
        index, position = divmod(onset, bar)
        bars.setdefault(index, []).append((position, top[onset]))
    if not bars:
        return []
    patterns: list[BarPattern | None] = []
    for index in range(max(bars) + 1):
        line = bars.get(index)
        if not line:
            patterns.append(None)
            continue
        first = line[0][1]
        patterns.append((tuple(p for p, _ in line), tuple(pitch - first for _, pitch in line)))
    return patterns


def _bar_ids(piece: Piece, quarters_per_bar: float | None) -> np.ndarray:
    """One integer per bar, equal for bars with equal patterns; EMPTY_BAR for an empty bar."""
    ids: dict[BarPattern, int] = {}
    return np.array(
        [
            EMPTY_BAR if p is None else ids.setdefault(p, len(ids))
            for p in bar_patterns(piece, quarters_per_bar=quarters_per_bar)
        ],
        dtype=np.int64,
    )


def _recurrence_counts(
    piece: Piece, quarters_per_bar: float | None, distances: Sequence[int]
) -> dict[int, tuple[int, int]]:
    """For each distance: (bars that recur at that distance, bars that count)."""
    ids = _bar_ids(piece, quarters_per_bar)
    counts = {}
    for d in distances:
        if d < 1:
            raise ValueError(f"a distance is at least 1 bar (got {d})")
        later, earlier = ids[d:], ids[: max(len(ids) - d, 0)]
        counted = (later != EMPTY_BAR) & (earlier != EMPTY_BAR)
        counts[d] = (int(np.sum(counted & (later == earlier))), int(np.sum(counted)))
    return counts


def form_profile(
    piece: Piece,
    *,
    quarters_per_bar: float | None = DEFAULT_QUARTERS_PER_BAR,
    distances: Sequence[int] = DISTANCES_BARS,
) -> dict[int, float | None]:
    """For each distance d (bars), the share of the piece's bars that recur d bars earlier;
    None when no pair of non-empty bars lies d bars apart.

    Raises:
        ValueError: a bar is not a whole number of grid steps, or a distance is below 1.
    """
    counts = _recurrence_counts(piece, quarters_per_bar, distances)
    return {d: (recur / counted if counted else None) for d, (recur, counted) in counts.items()}


def collection_form_profile(
    pieces: Iterable[Piece],
    *,
    quarters_per_bar: float | None = DEFAULT_QUARTERS_PER_BAR,
    distances: Sequence[int] = DISTANCES_BARS,
) -> dict[int, float]:
    """The profile of a set of pieces, bars pooled over the pieces (a long piece counts more
    than a short one); NaN at a distance no piece reaches.

    Raises:
        ValueError: a bar is not a whole number of grid steps, or a distance is below 1.
    """
    recur = dict.fromkeys(distances, 0)
    counted = dict.fromkeys(distances, 0)
    for piece in pieces:
        for d, (r, c) in _recurrence_counts(piece, quarters_per_bar, distances).items():
            recur[d] += r
            counted[d] += c
    return {d: (recur[d] / counted[d] if counted[d] else math.nan) for d in distances}


def stuck_share(pieces: Sequence[Piece]) -> float:
    """The share of pieces with FLAG_BAR_REPEATS (4) or more identical bars in a row, the
    degeneracy check's figure (`core.evaluation.degeneracy.longest_bar_run`, 4-beat bars);
    NaN for no pieces."""
    if not pieces:
        return math.nan
    return sum(longest_bar_run(p) >= FLAG_BAR_REPEATS for p in pieces) / len(pieces)


FEW_REAL_PIECES = 4  # as the style comparison's MIN_REAL_PIECES_FOR_OVERLAP


def _figure(profile: Mapping[int, float | None], d: int) -> float | None:
    value = profile.get(d)
    return None if value is None or not math.isfinite(value) else float(value)


def _one_in(share: float, *, short: bool = False) -> str:
    """ "one bar in 6" (short: "one in 6") for 0.17; "every bar" from 0.67 up."""
    n = round(1 / share)
    if n <= 1:
        return "every bar"
    return f"one in {n}" if short else f"one bar in {n}"


def form_sentence(
    generated_profile: Mapping[int, float | None],
    real_profile: Mapping[int, float | None],
    *,
    noun: str = "pieces",
    real_pieces: int | None = None,
) -> str:
    """The generated set's form against real music's, in words a non-musician understands.

    Judged at the distance where the real pieces bring bars back most often (their phrase
    length): within GOAL_RATIO_LOW..GOAL_RATIO_HIGH times the real share is "about as often".
    `noun` names the music ("pieces", "tunes"); `real_pieces`, how many real ones the profile
    rests on, when known: under FEW_REAL_PIECES, real music that brings no bar back is too
    little to say the music has no form.
    """
    real = {d: v for d in real_profile if (v := _figure(real_profile, d))}
    if not real and real_pieces is not None and real_pieces < FEW_REAL_PIECES:
        some = "the one real piece" if real_pieces == 1 else f"the {real_pieces} real {noun}"
        return (
            f"No bar comes back in {some} set aside to compare with, too little music to tell "
            "what form to match."
        )
    if not real:
        return f"Real {noun} of this kind never bring a bar back, so there is no form to match."
    distance = max(real, key=lambda d: real[d])
    real_share = real[distance]
    when = f"{distance} bar{'s' if distance > 1 else ''} later"
    in_real = f"in real {noun}, {_one_in(real_share)} comes back {when}"
    generated = _figure(generated_profile, distance)
    if generated is None:
        return f"Its {noun} are too short to tell whether bars come back {when}; {in_real}."
    ratio = generated / real_share
    if generated == 0:
        return f"Its {noun} never repeat an earlier bar; {in_real}."
    if ratio < RARELY_RATIO:
        return f"Its {noun} rarely repeat an earlier bar; {in_real}."
    ours = (
        f"{_one_in(generated)} comes back {when}, against {_one_in(real_share, short=True)} "
        f"in real {noun}"
    )
    if ratio < GOAL_RATIO_LOW:
        return f"Its {noun} repeat earlier bars less often than real {noun}: {ours}."
    if ratio > GOAL_RATIO_HIGH:
        return f"Its {noun} repeat earlier bars more often than real {noun}: {ours}."
    return f"Its {noun} come back to earlier bars about as often as real {noun} do: {ours}."
