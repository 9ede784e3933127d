"""Yang & Lerch's overlapping area (OA) of two distance distributions.

For one feature, the distances between pieces of the real set (real vs real) form one
distribution and the distances from real to generated pieces another. Each is smoothed with a
Gaussian kernel density (scipy's `gaussian_kde`, Scott's rule, as in their mgeval toolbox), and
OA is the area both densities share: 1 when the generated pieces sit among the real ones as the
real ones sit among themselves, near 0 when they are far apart.

A piece is never compared with itself: identical pieces on both sides are skipped, so a set
compared with itself gets OA 1.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

GRID_POINTS = 2000
# When every distance is the same (a kernel density is then undefined), the distribution is a
# narrow Gaussian this wide, relative to the scale of the distances compared.
DEGENERATE_WIDTH_FRACTION = 0.01
MIN_WIDTH = 1e-6


def distances_within(vectors: Sequence[np.ndarray]) -> np.ndarray:
    """Euclidean distances of every ordered pair i != j (each pair twice, as mgeval's
    leave-one-out intra-set distances), so a set against itself gives the very same sample."""
    out = [
        float(np.linalg.norm(vectors[i] - vectors[j]))
        for i in range(len(vectors))
        for j in range(len(vectors))
        if i != j
    ]
    return np.asarray(out, dtype=np.float64)


def distances_between(
    left: Sequence[np.ndarray],
    right: Sequence[np.ndarray],
    *,
    same: Sequence[tuple[int, int]] = (),
) -> np.ndarray:
    """Euclidean distances of every pair (left i, right j), except the pairs in `same`."""
    skip = set(same)
    out = [
        float(np.linalg.norm(a - b))
        for i, a in enumerate(left)
        for j, b in enumerate(right)
        if (i, j) not in skip
    ]
    return np.asarray(out, dtype=np.float64)


def _density(samples: np.ndarray, grid: np.ndarray, scale: float) -> np.ndarray:
    from scipy.stats import gaussian_kde

    if len(samples) >= 2 and np.ptp(samples) > 0:
        return np.asarray(gaussian_kde(samples)(grid), dtype=np.float64)
    width = max(DEGENERATE_WIDTH_FRACTION * scale, MIN_WIDTH)
    center = float(samples.mean())
    return np.exp(-0.5 * ((grid - center) / width) ** 2)


def overlapping_area(first: np.ndarray, second: np.ndarray) -> float:
    """The area shared by the kernel densities of two samples (0..1).

    Each density is normalized over a grid that covers both samples with room for the
    kernels' tails, so identical samples give exactly 1.

    Raises:
        ValueError: a sample is empty.
    """
    first, second = np.asarray(first, np.float64), np.asarray(second, np.float64)
    if not len(first) or not len(second):
        raise ValueError("overlapping area needs two non-empty samples")
    both = np.concatenate([first, second])
    low, high = float(both.min()), float(both.max())
    scale = max(high - low, float(np.abs(both).max()), MIN_WIDTH)
    margin = 0.5 * scale
    grid = np.linspace(low - margin, high + margin, GRID_POINTS)
    p, q = _density(first, grid, scale), _density(second, grid, scale)
    p /= np.trapezoid(p, grid)
    q /= np.trapezoid(q, grid)
    return float(min(np.trapezoid(np.minimum(p, q), grid), 1.0))
