"""The rules one sampling step obeys, as boolean masks over the vocabulary (True: may be drawn)
and a tilt of the logits.

Tokens the grammar forbids at this point (`GrammarState`), PAD, UNK and BOS are never chosen,
and the piece ends only once the requested length is reached, so the output is always valid
music. On top of that: the scale lock, the opening on the key's tonic chord, the loop guard (the
token that would continue a short cycle repeated many times over: the same pitch thirty times,
the same bar again and again), the copy guard, the pace nudge, notes that end by the bar line in
a piece of a stated meter, and two rules that follow the model's training music when its folder
records it: one note at a time for a single line, and new notes within its range and within the
span one of its pieces covers.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import numpy as np

from core.generation.copy_guard import MIDI_PITCHES, CopyGuard
from core.generation.pace import PaceKeeper
from core.music.scales import PITCH_CLASSES, KeyPlan
from core.tokens.config import EncodingConfig
from core.tokens.grammar import GrammarState
from core.tokens.scheme import BOS, PAD, UNK, TokenKind, is_valid_token, token_kind, token_value
from core.tokens.vocabulary import Vocabulary

log = logging.getLogger(__name__)

# Loop guard: a cycle of up to MAX_LOOP_PERIOD_TOKENS tokens seen MIN_LOOP_REPEATS times in a
# row (and covering at least MIN_LOOP_TOKENS tokens) may not go on: its next token is masked.
MAX_LOOP_PERIOD_TOKENS = 24
MIN_LOOP_REPEATS = 4
MIN_LOOP_TOKENS = 24
# (period, tokens it must cover) for each period, worked out once: the guard runs every token
_LOOP_SPANS = tuple(
    (period, max(period * MIN_LOOP_REPEATS, MIN_LOOP_TOKENS))
    for period in range(1, MAX_LOOP_PERIOD_TOKENS + 1)
)
MAX_SAME_PITCH_RUN = 8  # after this many notes of one pitch in a row, that pitch is masked
# New notes stay within the training music's range (its 2nd..98th percentile) widened by this.
RANGE_MARGIN_SEMITONES = 3
NO_NOTE_YET = (128, -1)  # (lowest, highest) pitch of a piece before its first note

_KIND_CODES: dict[TokenKind, int] = {
    TokenKind.SPECIAL: 0,
    TokenKind.SHIFT: 1,
    TokenKind.PITCH: 2,
    TokenKind.DURATION: 3,
}


class TokenTable:
    """Per-token facts as arrays, so a grammar state becomes a boolean mask in microseconds."""

    def __init__(self, vocab: Vocabulary, encoding: EncodingConfig) -> None:
        n = len(vocab)
        self.kinds = np.full(n, -1, dtype=np.int8)  # -1: never sampled
        self.values = np.zeros(n, dtype=np.int32)
        for index, token in enumerate(vocab.tokens):
            if token in (PAD, UNK, BOS) or not is_valid_token(token, encoding):
                continue
            kind = token_kind(token)
            self.kinds[index] = _KIND_CODES[kind]
            if kind is not TokenKind.SPECIAL:
                self.values[index] = token_value(token)
        self.eos_id = vocab.eos_id
        self.kind_masks = {kind: self.kinds == code for kind, code in _KIND_CODES.items()}
        # Made once, as the sampler asks for them every token: the union of each set of kinds,
        # and for each pitch p everything but the pitches up to p (a chord goes upward).
        self._kinds_masks: dict[frozenset[TokenKind], np.ndarray] = {}
        pitches = self.kind_masks[TokenKind.PITCH]
        self._above = ~(pitches & (self.values <= np.arange(MIDI_PITCHES)[:, None]))

    def scale_mask(self, plan: KeyPlan) -> np.ndarray | None:
        """False for the pitch tokens outside the locked scale, as heard; None without a lock."""
        pitch_classes = plan.allowed_pitch_classes()
        if pitch_classes is None:
            return None
        heard = (self.values + plan.transpose_semitones) % PITCH_CLASSES
        return ~self.kind_masks[TokenKind.PITCH] | np.isin(heard, sorted(pitch_classes))

    def opening_masks(self, plan: KeyPlan) -> tuple[np.ndarray, np.ndarray] | None:
        """Masks for the first chord, as heard: its lowest note on the planned key's tonic, the
        others on the tonic chord (False for the pitch tokens outside them)."""
        if plan.tonic is None or plan.scale is None:
            return None
        chord = sorted({(plan.tonic + i) % PITCH_CLASSES for i in plan.scale.tonic_triad})
        heard = (self.values + plan.transpose_semitones) % PITCH_CLASSES
        others = ~self.kind_masks[TokenKind.PITCH]
        return others | (heard == plan.tonic), others | np.isin(heard, chord)

    def mask(self, state: GrammarState, *, allow_eos: bool) -> np.ndarray:
        kinds = state.allowed_kinds()
        union = self._kinds_masks.get(kinds)
        if union is None:
            union = np.zeros(len(self.kinds), dtype=bool)
            for kind in kinds:
                union |= self.kind_masks[kind]
            self._kinds_masks[kinds] = union
        allowed = union.copy()
        if state.last_pitch_in_chord >= 0:
            allowed &= self._above[state.last_pitch_in_chord]
        if not allow_eos:
            allowed[self.eos_id] = False
        return allowed

    def range_mask(self, low: int, high: int) -> np.ndarray:
        """False for the pitch tokens outside low..high (in the model's key)."""
        pitches = self.kind_masks[TokenKind.PITCH]
        return ~pitches | ((self.values >= low) & (self.values <= high))

    def mask_copies(
        self, allowed: np.ndarray, guard: CopyGuard, *, after: TokenKind | None
    ) -> None:
        """Mask the pitches (or, after a pitch, the lengths) that would copy 2 training bars,
        if anything else is allowed: the model then takes its next choice."""
        if after is TokenKind.PITCH:
            longest = guard.max_length()
            if longest is None:
                return
            banned = self.kind_masks[TokenKind.DURATION] & (self.values > longest)
        else:
            pitches = guard.blocked_pitches()
            if not pitches:
                return
            banned = self.kind_masks[TokenKind.PITCH] & np.isin(self.values, sorted(pitches))
        if (allowed & ~banned).any():
            allowed &= ~banned


def end_on_a_whole_chord(allowed: np.ndarray, table: TokenTable, grammar: GrammarState) -> None:
    """Past the length: the last chord may go on and a time shift ends it, but the final onset
    gets its chord first."""
    allowed[table.eos_id] = False  # the chord may go on; a time shift ends it
    if grammar.last_kind is TokenKind.SHIFT:  # but the final onset gets its chord
        allowed &= ~table.kind_masks[TokenKind.SHIFT]


def lock_to_scale(
    allowed: np.ndarray, table: TokenTable, grammar: GrammarState, scale_mask: np.ndarray
) -> np.ndarray:
    """Only the scale's pitches may be drawn."""
    locked = allowed & scale_mask
    # Empty only where the final onset wants a pitch and none is in the scale: then the shift
    # that ends the piece comes back.
    allowed = locked if locked.any() else table.mask(grammar, allow_eos=False)
    allowed &= scale_mask
    return allowed


def keep_one_line(
    allowed: np.ndarray, table: TokenTable, grammar: GrammarState, *, sounding_steps: int
) -> np.ndarray:
    """No new note while one sounds (a single line): no second pitch at an onset, and no onset
    before the last note has ended (time moves on instead)."""
    if sounding_steps <= 0:
        return allowed
    no_pitch = ~table.kind_masks[TokenKind.PITCH]
    lined = allowed & no_pitch
    if lined.any():
        return lined
    # Only past the length, where the final onset wants its note: time moves on instead, which
    # ends the piece on the note that still sounds.
    moved = table.mask(grammar, allow_eos=False) & no_pitch
    return moved if moved.any() else allowed


def span_window(lowest: int, highest: int, span: int) -> tuple[int, int]:
    """The pitches a new note may take so that the piece spans at most `span` semitones (or,
    when a primer already spans more, no more than it does). Anything before the first note."""
    if highest < lowest:
        return 0, 127
    return min(lowest, highest - span), max(highest, lowest + span)


def keep_in_range(allowed: np.ndarray, range_mask: np.ndarray) -> np.ndarray:
    """Only pitches within the training music's range, where any is allowed at all."""
    kept = allowed & range_mask
    return kept if kept.any() else allowed


def keep_within_the_bar(allowed: np.ndarray, table: TokenTable, *, room_steps: int) -> np.ndarray:
    """A note's length ends by the next bar line, `room_steps` away: the notes of a piece in a
    stated meter are not tied over its bar lines (real jigs tie 0.5% of their notes, the folk
    model's without this rule 1.8%). Only where some length fits at all."""
    durations = table.kind_masks[TokenKind.DURATION]
    kept = allowed & (~durations | (table.values <= room_steps))
    return kept if (kept & durations).any() else allowed


def open_on_the_tonic(
    allowed: np.ndarray, opening: tuple[np.ndarray, np.ndarray], *, first_note: bool
) -> np.ndarray:
    """The first chord on the key's tonic chord, its lowest note the tonic, where that is
    allowed at all."""
    opened = allowed & opening[0 if first_note else 1]
    return opened if opened.any() else allowed


def guard_loops(
    allowed: np.ndarray,
    history: Sequence[int],
    pitch_run: tuple[int, int],
    *,
    vocab: Vocabulary,
) -> None:
    """Mask the token that would extend a degenerate loop, if anything else is allowed."""
    banned = []
    repeat = _loop_continuation(history)
    if repeat is not None:
        banned.append(repeat)
    pitch, run = pitch_run
    if run >= MAX_SAME_PITCH_RUN:
        same = vocab.id_of(f"P{pitch}")
        if same != vocab.unk_id:
            banned.append(same)
    for token_id in banned:
        if allowed[token_id] and allowed.sum() > 1:
            allowed[token_id] = False
            log.debug("loop guard masked %s", vocab.tokens[token_id])


def _loop_continuation(history: Sequence[int]) -> int | None:
    """The token that would continue a cycle repeated too often at the end of `history`."""
    n = len(history)
    for period, span in _LOOP_SPANS:
        if span > n:
            break
        if history[-1] != history[-1 - period]:
            continue
        tail = history[n - span :]
        if tail[period:] == tail[:-period]:
            return history[-period]
    return None


def tilt_to_pace(
    logits: np.ndarray,
    pace: PaceKeeper,
    table: TokenTable,
    *,
    after: TokenKind | None,
    reached: bool,
) -> np.ndarray:
    """The logits nudged toward the opening's pace: a note's length after a pitch; after a
    length, whether the chord ends (not past the length, where the final chord's size is the
    model's)."""
    if after is TokenKind.PITCH:
        return pace.tilt_lengths(
            logits, lengths=table.kind_masks[TokenKind.DURATION], steps=table.values
        )
    if after is TokenKind.DURATION and not reached:
        return pace.tilt_chord_end(logits, shifts=table.kind_masks[TokenKind.SHIFT])
    return logits
