"""The range beside a probability, and the check that it holds what it claims.

    low, high = spread(draws, p)                 # central 95% of the resampled heads' probabilities
    low, high = group_range(p, low, high)        # + chance: the share among GROUP videos like this one
    rate_in_range(y, p, low, high)               # per held-out row: does it hold the rate of its bin?
    low, high = paired(draws_a, draws_b, pa - pb)  # how sure one draft beats another (same refits)

A video's own chance of breaking out is never observed, only whether it did. So the range Miles shows
answers a question that outcomes can check: "out of ``GROUP`` videos like this one, what share breaks
out?" It holds two kinds of uncertainty, combined in quadrature: the model's own (how much P moves when
the head is retrained on resampled channels: ``spread``) and chance (the binomial spread of a share among
``GROUP`` videos). It always holds P.

On held-out rows (``miles eval``'s coverage) the range is checked against what can be observed: rows
sorted by P into bins of ``GROUP``, a row is covered when its range holds its bin's observed breakout
rate. A bin holds videos *scored* alike, not videos alike, and the model's errors on different videos
partly cancel in its rate, so this coverage errs high: a range too narrow shows as coverage below 95%,
one too wide only as coverage near 100%. ``tests/heads/test_intervals.py`` checks the range itself on
synthetic videos whose true chance is known.
"""

from __future__ import annotations

import numpy as np

from miles.heads.calibration import LEVEL

GROUP = 50  # videos whose breakout rate the range is about
Z = 1.959964  # the normal quantile of LEVEL


def spread(draws: np.ndarray, p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(low, high), each (n,): the central ``LEVEL`` of ``draws`` (B, n), widened to hold ``p``."""
    tail = (1 - LEVEL) / 2 * 100
    lo, hi = np.percentile(draws, [tail, 100 - tail], axis=0)
    return np.minimum(lo, p), np.maximum(hi, p)


def group_range(p, lo, hi, group: int = GROUP) -> tuple[np.ndarray, np.ndarray]:
    """The range of the breakout share among ``group`` videos like one scored ``p``: the model's spread
    (``lo``, ``hi``) and the binomial spread of a share of ``group``, in quadrature."""
    p, lo, hi = (np.asarray(a, dtype=float) for a in (p, lo, hi))
    chance = Z * np.sqrt(p * (1 - p) / group)
    below = np.sqrt((p - lo) ** 2 + chance**2)
    above = np.sqrt((hi - p) ** 2 + chance**2)
    return np.clip(p - below, 0.0, p), np.clip(p + above, p, 1.0)


def binned_rate(y, p, group: int = GROUP) -> np.ndarray:
    """(n,) the observed rate of ``y`` in the bin of about ``group`` rows (sorted by ``p``) each row is in."""
    y, p = np.asarray(y, dtype=float), np.asarray(p, dtype=float)
    rate = np.empty(len(y))
    for idx in np.array_split(np.argsort(p, kind="stable"), max(1, round(len(y) / group))):
        if len(idx):
            rate[idx] = y[idx].mean()
    return rate


def rate_in_range(y, p, lo, hi, group: int = GROUP) -> np.ndarray:
    """(n,) bool: the row's range holds the observed breakout rate of its bin of ``group`` rows."""
    rate = binned_rate(y, p, group)
    return (np.asarray(lo) <= rate + 1e-12) & (rate <= np.asarray(hi) + 1e-12)


def paired(draws_a: np.ndarray, draws_b: np.ndarray, delta: float) -> tuple[float, float]:
    """The central ``LEVEL`` of a − b over the same resampled heads (B,), widened to hold ``delta`` (the
    deployed head's own difference): how sure the model is that one draft beats another. The same refits
    score both, so what moves both alike (the channel's record) cancels and what differs remains."""
    tail = (1 - LEVEL) / 2 * 100
    lo, hi = np.percentile(np.asarray(draws_a) - np.asarray(draws_b), [tail, 100 - tail])
    return float(min(lo, delta)), float(max(hi, delta))
