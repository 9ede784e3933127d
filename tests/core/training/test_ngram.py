"""The Kneser-Ney baseline: a proper distribution that learns patterns."""

from __future__ import annotations

import numpy as np
import pytest

from core.training.ngram import KneserNeyModel, ngram_baseline

BOS, EOS = 2, 3
VOCAB_SIZE = 12


def patterned(n: int, *, offset: int = 0) -> list[list[int]]:
    cycle = [4, 5, 6, 7, 8, 7, 6, 5]
    return [[BOS] + [cycle[(i + offset + k) % len(cycle)] for i in range(40)] + [EOS]
            for k in range(n)]


@pytest.mark.parametrize("order", [1, 2, 3, 4])
def test_probabilities_sum_to_one(order: int) -> None:
    model = KneserNeyModel(patterned(5), vocab_size=VOCAB_SIZE, order=order, bos_id=BOS)
    for history in ([BOS], [BOS, 4], [BOS, 4, 5, 6], [9, 10, 11], [7, 6, 5, 4, 11]):
        dist = model.distribution(history)
        assert dist.sum() == pytest.approx(1.0, abs=1e-9)
        assert (dist > 0).all()  # unseen tokens keep some mass
        assert model.probability(history, 5) == pytest.approx(dist[5])


def test_higher_order_beats_unigram_on_patterned_data() -> None:
    train, valid = patterned(6), patterned(2, offset=3)
    unigram = ngram_baseline(train, valid, vocab_size=VOCAB_SIZE, order=1, bos_id=BOS)
    trigram = ngram_baseline(train, valid, vocab_size=VOCAB_SIZE, order=3, bos_id=BOS)
    assert trigram.perplexity < 0.5 * unigram.perplexity
    assert trigram.accuracy > 0.9
    assert unigram.tokens == trigram.tokens == 2 * 41
    assert np.isclose(unigram.loss, np.log(unigram.perplexity))


def test_unseen_context_backs_off_to_lower_orders() -> None:
    model = KneserNeyModel(patterned(3), vocab_size=VOCAB_SIZE, order=3, bos_id=BOS)
    # (9, 10) never occurs: the trigram level is skipped, not zeroed
    assert model.probability([9, 10], 4) == pytest.approx(model.probability([11, 10], 4))
    assert model.probability([9, 10], 4) > 1.0 / VOCAB_SIZE
