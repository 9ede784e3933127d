"""An interpolated Kneser-Ney n-gram model over token ids: the baseline the LSTM must beat.

It is trained on the same training pieces and scored on the same held-out pieces as the LSTM,
predicting every token after BOS from the tokens before it (sequences are left-padded with BOS).
Lower orders use continuation counts; the unigram level is interpolated with a uniform
distribution over the vocabulary, so every token has a probability and they sum to one.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np

DEFAULT_ORDER = 4
# Discounts are estimated from count-of-counts (Ney's D = n1 / (n1 + 2 n2)), kept in this range
# so a tiny corpus with no doubletons still gives a usable value.
MIN_DISCOUNT = 0.1
MAX_DISCOUNT = 0.95

Context = tuple[int, ...]


@dataclass(frozen=True)
class NgramScore:
    """Cross-entropy of held-out tokens under the model, in nats per token."""

    loss: float
    perplexity: float
    accuracy: float  # share of tokens where the most probable token was the right one
    tokens: int


class KneserNeyModel:
    """Interpolated Kneser-Ney over integer token ids `0..vocab_size-1`."""

    def __init__(
        self,
        sequences: Sequence[Sequence[int]],
        *,
        vocab_size: int,
        order: int = DEFAULT_ORDER,
        bos_id: int = 2,
    ) -> None:
        if order < 1:
            raise ValueError("order must be at least 1")
        self.order = order
        self.vocab_size = vocab_size
        self.bos_id = bos_id
        # tables[k][context of length k-1][token] = count used at order k
        self._tables: list[dict[Context, Counter[int]]] = [{} for _ in range(order + 1)]
        self._stats: list[dict[Context, tuple[int, int]]] = [{} for _ in range(order + 1)]
        self._discounts = [0.0] * (order + 1)
        self._fit(sequences)

    def _padded(self, sequence: Sequence[int]) -> list[int]:
        return (
            [self.bos_id] * (self.order - 2) + list(sequence) if self.order > 2 else list(sequence)
        )

    def _fit(self, sequences: Sequence[Sequence[int]]) -> None:
        n = self.order
        top: dict[Context, Counter[int]] = defaultdict(Counter)
        for sequence in sequences:
            seq = self._padded(sequence)
            first = max(n - 2, 0) + 1  # first predicted position: the token after BOS
            for i in range(first, len(seq)):
                top[tuple(seq[max(i - n + 1, 0) : i])][seq[i]] += 1
        self._tables[n] = dict(top)
        # Continuation counts: N1+(• context token) from the order above.
        for k in range(n - 1, 0, -1):
            lower: dict[Context, Counter[int]] = defaultdict(Counter)
            for context, counter in self._tables[k + 1].items():
                shorter = context[1:]
                for token in counter:
                    lower[shorter][token] += 1
            self._tables[k] = dict(lower)
        for k in range(1, n + 1):
            histogram: Counter[int] = Counter()
            for context, counter in self._tables[k].items():
                self._stats[k][context] = (sum(counter.values()), len(counter))
                histogram.update(c for c in counter.values() if c <= 2)
            n1, n2 = histogram[1], histogram[2]
            discount = n1 / (n1 + 2 * n2) if n1 + n2 else 0.5
            self._discounts[k] = min(max(discount, MIN_DISCOUNT), MAX_DISCOUNT)

    def _context(self, history: Sequence[int]) -> Context:
        padded = self._padded(history) if len(history) < self.order - 1 else list(history)
        return tuple(padded[len(padded) - (self.order - 1) :]) if self.order > 1 else ()

    def _levels(self, history: Sequence[int]) -> Iterator[tuple[Counter[int], int, int, float]]:
        """(counts, total, distinct types, discount) of each order that has seen the context,
        lowest first: Kneser-Ney interpolates from the bottom up."""
        context = self._context(history)
        for k in range(1, self.order + 1):
            ctx = context[len(context) - (k - 1) :] if k > 1 else ()
            counter = self._tables[k].get(ctx)
            if counter:
                total, types = self._stats[k][ctx]
                yield counter, total, types, self._discounts[k]

    def probability(self, history: Sequence[int], token: int) -> float:
        """P(token | history); `history` starts with BOS (shorter ones are padded with it)."""
        p = 1.0 / self.vocab_size
        for counter, total, types, d in self._levels(history):
            p = max(counter.get(token, 0) - d, 0.0) / total + d * types / total * p
        return p

    def distribution(self, history: Sequence[int]) -> np.ndarray:
        """P(· | history) over the whole vocabulary (sums to one)."""
        p = np.full(self.vocab_size, 1.0 / self.vocab_size)
        for counter, total, types, d in self._levels(history):
            counts = np.zeros(self.vocab_size)
            ids = np.fromiter(counter.keys(), dtype=np.int64)
            counts[ids] = np.fromiter(counter.values(), dtype=np.float64)
            p = np.maximum(counts - d, 0.0) / total + d * types / total * p
        return p

    def score(
        self, sequences: Sequence[Sequence[int]], *, with_accuracy: bool = True
    ) -> NgramScore:
        """Loss, perplexity and accuracy on held-out sequences (each starting with BOS)."""
        total_nll = 0.0
        correct = tokens = 0
        for sequence in sequences:
            for i in range(1, len(sequence)):
                history = sequence[max(0, i - self.order + 1) : i]
                p = self.probability(history, sequence[i])
                total_nll -= math.log(p)
                tokens += 1
                if with_accuracy:
                    correct += int(np.argmax(self.distribution(history)) == sequence[i])
        loss = total_nll / max(tokens, 1)
        return NgramScore(
            loss=loss,
            perplexity=math.exp(loss),
            accuracy=correct / max(tokens, 1),
            tokens=tokens,
        )


def ngram_baseline(
    train: Sequence[Sequence[int]],
    valid: Sequence[Sequence[int]],
    *,
    vocab_size: int,
    order: int = DEFAULT_ORDER,
    bos_id: int = 2,
) -> NgramScore:
    """Fit on `train`, score on `valid`: the figure the training page draws as a line."""
    model = KneserNeyModel(train, vocab_size=vocab_size, order=order, bos_id=bos_id)
    return model.score(valid)
