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
# Above this many samples the density is binned onto the grid and smoothed by one convolution
# (linear binning, as statsmodels' and KernSmooth's fast KDEs): exact evaluation costs samples x
# grid points, 15 s of an evaluation against the folk model's 306 held-out tunes (93,000
# distances); binned, the density is within 1e-4 of its peak, 10 ms.
EXACT_KDE_MAX_SAMPLES = 1000
# Binning is exact enough while the kernel spans several grid cells (its error grows with
# (cell / bandwidth)^2); a narrower kernel is evaluated exactly, whatever the sample's size.
MIN_BINNED_BANDWIDTH_CELLS = 4.0
KERNEL_REACH_BANDWIDTHS = 8.0  # the Gaussian beyond 8 bandwidths is below 1e-14 of its peak
# When every distance is the same (a kernel density is then undefined), the distribution is a
# narrow Gaussian this wide, relative to the scale of the distances compared.
DEGENERATE_WIDTH_FRACTION = 0.01
MIN_WIDTH = 1e-6


def distances_within(vectors: Sequence[np.ndarray]) -> np.ndarray:
    """Euclidean distances of every ordered pair i != j (each pair twice, as mgeval's
    leave-one-out intra-set distances), so a set against itself gives the very same sample."""
    if len(vectors) < 2:
        return np.zeros(0, dtype=np.float64)
    from scipy.spatial.distance import cdist

    matrix = _as_matrix(vectors)
    square = cdist(matrix, matrix)
    return square[~np.eye(len(matrix), dtype=bool)]  # row by row: (0, 1), (0, 2), ... (1, 0)


def distances_between(
    left: Sequence[np.ndarray],
    right: Sequence[np.ndarray],
    *,
    same: Sequence[tuple[int, int]] = (),
) -> np.ndarray:
    """Euclidean distances of every pair (left i, right j), except the pairs in `same`."""
    if not len(left) or not len(right):
        return np.zeros(0, dtype=np.float64)
    from scipy.spatial.distance import cdist

    square = cdist(_as_matrix(left), _as_matrix(right))
    keep = np.ones(square.shape, dtype=bool)
    for i, j in same:
        keep[i, j] = False
    return square[keep]


def _as_matrix(vectors: Sequence[np.ndarray]) -> np.ndarray:
    return np.vstack([np.atleast_1d(np.asarray(v, dtype=np.float64)) for v in vectors])


def _density(samples: np.ndarray, grid: np.ndarray, scale: float) -> np.ndarray:
    """scipy's `gaussian_kde` of `samples` on an evenly spaced `grid` (binned when large)."""
    from scipy.stats import gaussian_kde

    if len(samples) >= 2 and np.ptp(samples) > 0:
        kde = gaussian_kde(samples)
        bandwidth = float(np.sqrt(kde.covariance[0, 0]))
        cell = float(grid[1] - grid[0])
        if len(samples) <= EXACT_KDE_MAX_SAMPLES or bandwidth < MIN_BINNED_BANDWIDTH_CELLS * cell:
            return np.asarray(kde(grid), dtype=np.float64)
        return _binned_density(samples, grid, bandwidth)
    width = max(DEGENERATE_WIDTH_FRACTION * scale, MIN_WIDTH)
    center = float(samples.mean())
    return np.exp(-0.5 * ((grid - center) / width) ** 2)


def _binned_density(samples: np.ndarray, grid: np.ndarray, bandwidth: float) -> np.ndarray:
    """The Gaussian kernel density of `samples` (all inside `grid`): each sample's weight split
    between its two nearest grid points, then one convolution with the kernel."""
    from scipy.signal import fftconvolve

    cell = float(grid[1] - grid[0])
    position = (samples - grid[0]) / cell
    below = np.clip(np.floor(position).astype(np.int64), 0, len(grid) - 2)
    above_share = position - below
    weights = np.bincount(below, weights=1.0 - above_share, minlength=len(grid))
    weights += np.bincount(below + 1, weights=above_share, minlength=len(grid))
    reach = min(int(np.ceil(KERNEL_REACH_BANDWIDTHS * bandwidth / cell)), len(grid) - 1)
    offsets = np.arange(-reach, reach + 1) * cell
    kernel = np.exp(-0.5 * (offsets / bandwidth) ** 2) / (bandwidth * np.sqrt(2.0 * np.pi))
    density = fftconvolve(weights[: len(grid)], kernel, mode="same") / len(samples)
    return np.maximum(density, 0.0)  # the FFT's rounding leaves tiny negatives far out


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
