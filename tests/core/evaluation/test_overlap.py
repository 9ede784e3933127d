"""core/evaluation/overlap: the overlapping area of two samples' densities, and the
distances it is taken over.

Grid: 4 steps per quarter note, a bar is 16 steps (4/4). A note is Note(onset, pitch, duration).
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from scipy.stats import gaussian_kde

from core.evaluation import overlap


def test_overlapping_area_of_a_sample_with_itself_and_with_a_far_one() -> None:
    x = np.random.default_rng(0).normal(size=40)
    assert overlap.overlapping_area(x, x) == pytest.approx(1.0, abs=1e-9)
    assert overlap.overlapping_area(x, x + 50.0) < 1e-6
    # moving one sample away shrinks the shared area step by step
    areas = [overlap.overlapping_area(x, x + shift) for shift in (0.0, 0.5, 1.0, 2.0, 4.0)]
    assert all(a > b for a, b in itertools.pairwise(areas)), areas


def test_density_is_scipys_gaussian_kde() -> None:
    x = np.random.default_rng(1).gamma(2.0, size=30)
    grid = np.linspace(-2.0, 12.0, 500)
    np.testing.assert_allclose(overlap._density(x, grid, 10.0), gaussian_kde(x)(grid), atol=1e-12)


def test_degenerate_samples_do_not_crash() -> None:
    same = np.full(6, 2.0)
    assert overlap.overlapping_area(same, same) == pytest.approx(1.0, abs=1e-9)
    assert overlap.overlapping_area(same, np.full(6, 5.0)) < 1e-6
    x = np.random.default_rng(2).normal(size=20)
    for first, second in ((same, x), (x, same), (np.array([0.3]), x)):
        area = overlap.overlapping_area(first, second)
        assert 0.0 <= area <= 1.0
    with pytest.raises(ValueError):
        overlap.overlapping_area(np.array([]), x)


def test_distances_within_a_set_are_the_pairs_between_it_and_itself() -> None:
    # 1-D values 0, 3, 7: ordered pairs (0,3) (0,7) (3,0) (3,7) (7,0) (7,3)
    vectors = [np.array([0.0]), np.array([3.0]), np.array([7.0])]
    within = overlap.distances_within(vectors)
    np.testing.assert_allclose(within, [3, 7, 3, 4, 7, 4])
    between = overlap.distances_between(vectors, vectors, same=[(0, 0), (1, 1), (2, 2)])
    np.testing.assert_array_equal(between, within)  # so a set against itself has OA 1
