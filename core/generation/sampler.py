"""Drawing one token from the model's logits: temperature, then top-k, then the nucleus (top-p),
which decides what comes next but not a note's length nor how far time moves."""

from __future__ import annotations

import numpy as np

from core.generation.settings import SamplingSettings
from core.tokens.scheme import TokenKind

GREEDY_TEMPERATURE = 1e-6  # at or below this, sampling is argmax
# The nucleus (top-p) cut applies to what comes next (time shifts, pitches, the end); a note's
# length is drawn from the model's whole distribution at the temperature, because the cut
# dropped the rare long notes (a chorale's fermatas, a tune's held ends) and the music came out
# busier than what the model learned (docs/generation.md, "Sampling settings, measured").
DURATION_TOP_P = 1.0
# The same for how far time moves: the nucleus decides whether time moves on at all (so a
# chord's size, the polyphony, is as before), and the shift, once chosen, is drawn again from
# the model's whole distribution of shifts at the temperature, because the cut had dropped rare
# long gaps after a held chord (docs/generation.md, "Sampling settings, measured").
SHIFT_TOP_P = 1.0


def sample_from_logits(
    logits: np.ndarray,
    allowed: np.ndarray,
    rng: np.random.Generator,
    *,
    temperature: float,
    top_k: int = 0,
    top_p: float = 1.0,
) -> int:
    """One token id among `allowed`, by temperature, then top-k, then nucleus (top-p)."""
    # Array methods, not np.* functions: their dispatch was half of a call's time on these
    # short arrays (the sampler runs for every token). The arithmetic is the same.
    candidates = allowed.nonzero()[0]
    if candidates.size == 0:
        raise ValueError("no token is allowed here")
    scores = logits[candidates].astype(np.float64)
    if temperature <= GREEDY_TEMPERATURE or candidates.size == 1:
        return int(candidates[scores.argmax()])
    order = (-scores).argsort(kind="stable")
    if top_k > 0:
        order = order[:top_k]
    scores = scores[order]
    scores /= temperature
    scores -= scores[0]
    probs = np.exp(scores, out=scores)
    probs /= probs.sum()
    if top_p < 1.0:
        keep = int(probs.cumsum().searchsorted(top_p)) + 1
        probs = probs[:keep] / probs[:keep].sum()
    choice = int(probs.cumsum().searchsorted(rng.random() * probs.sum(), side="right"))
    return int(candidates[order[min(choice, len(probs) - 1)]])


def draw_token(
    tilted: np.ndarray,
    logits: np.ndarray,
    allowed: np.ndarray,
    rng: np.random.Generator,
    *,
    settings: SamplingSettings,
    after: TokenKind | None,
    shifts: np.ndarray,
) -> int:
    """The next token id: drawn from `tilted` (the logits with the pace nudge), a note's length
    at `DURATION_TOP_P`; a time shift so drawn is drawn again among the shifts from `logits` at
    `SHIFT_TOP_P`."""
    token_id = sample_from_logits(
        tilted,
        allowed,
        rng,
        temperature=settings.temperature,
        top_k=settings.top_k,
        top_p=DURATION_TOP_P if after is TokenKind.PITCH else settings.top_p,
    )
    if shifts[token_id] and settings.top_p < SHIFT_TOP_P:
        token_id = sample_from_logits(
            logits,
            allowed & shifts,
            rng,
            temperature=settings.temperature,
            top_k=settings.top_k,
            top_p=SHIFT_TOP_P,
        )
    return token_id
