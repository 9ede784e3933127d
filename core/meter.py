"""Where in the bar each token falls: the network's second input ("meter phase").

A token stream moves time only by shift tokens, so an LSTM must count them to know where the
beat is, and a training window cut from the middle of a piece starts without knowing. The phase
of a token is the time position after it (the onset of whatever comes next), in grid steps from
the start of the piece, modulo `meter_period`: twelve quarter notes, the least common multiple of
a 3/4 bar and a 4/4 bar, so the beat and both bars are all determined by it. Pickup bars are not
known (the piece starts at 0), so a bar's phase is relative to the first note; the beat's is
exact. Measured (2026-11-26, 2 x LSTM(192) from scratch on the chorales, 24 epochs, same seed):
held-out perplexity 3.447 with this input against 3.543 without.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from core.encoding import TokenKind, Vocabulary, token_kind, token_value

METER_QUARTERS = 12  # lcm of a 3/4 and a 4/4 bar, in quarter notes


def meter_period(steps_per_quarter: int) -> int:
    """The phase period in grid steps for a grid of `steps_per_quarter`."""
    return METER_QUARTERS * steps_per_quarter


def shift_steps(vocab: Vocabulary) -> np.ndarray:
    """(vocab,) grid steps each token id moves time forward by (0 for all but shifts)."""
    return np.array(
        [token_value(t) if token_kind(t) is TokenKind.SHIFT else 0 for t in vocab.tokens],
        dtype=np.int64,
    )


def meter_phases(ids: Sequence[int], *, steps: np.ndarray, period: int) -> np.ndarray:
    """(len(ids),) the phase after each token of a piece (from its start) within `period`."""
    if not len(ids):
        return np.zeros(0, dtype=np.int32)
    return (np.cumsum(steps[np.asarray(ids, dtype=np.int64)]) % period).astype(np.int32)


def phase_sequences(
    sequences: Sequence[Sequence[int]], *, vocab: Vocabulary, period: int
) -> list[np.ndarray]:
    """`meter_phases` of every piece (token ids of `vocab`)."""
    steps = shift_steps(vocab)
    return [meter_phases(ids, steps=steps, period=period) for ids in sequences]


def network_inputs(ids: np.ndarray, *, vocab: Vocabulary, period: int) -> Any:
    """A (batch, time) array of ids as a network of `meter_period` `period` takes it: the ids
    alone (0: no meter input), or by input name with their phases from each row's start."""
    from core.model import INPUT_NAME, METER_INPUT_NAME

    if not period:
        return ids
    steps = shift_steps(vocab)
    phases = np.stack([meter_phases(row, steps=steps, period=period) for row in ids])
    return {INPUT_NAME: ids, METER_INPUT_NAME: phases}
