"""Metrics with 95% intervals by bootstrap over creators, computed for all resamples at once.

Rows of one creator are not independent (the creator prior), so a resample draws whole creators with
replacement. A resample is a row of weights — how many copies of each row it holds — and every metric
here takes a (B, n) weight matrix and returns B values, equal to the metric on the resample written out
row by row (``tests/eval/test_metrics.py`` checks each against scikit-learn / SciPy on explicit copies).
One thousand resamples cost about what ten did one at a time.

    W = bootstrap_weights(groups, n_boot=1000)
    value, lo, hi = with_interval("auroc", y, p, W)
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from miles.heads.stats import wilson_interval  # noqa: F401  (re-exported: evaluation's home of intervals)

CLASSIFICATION = ("auroc", "auprc", "brier", "ece")
REGRESSION = ("velocity_mae", "spearman")
HIGHER_IS_BETTER = {"auroc": True, "auprc": True, "brier": False, "ece": False, "velocity_mae": False,
                    "spearman": True}


def _ties(s: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(order ascending, start of each tie group in that order, group of each sorted row)."""
    order = np.argsort(s, kind="stable")
    _, starts, inverse = np.unique(s[order], return_index=True, return_inverse=True)
    return order, starts, inverse


def _divide(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(b > 0, a / np.where(b > 0, b, 1), np.nan)


def auroc(y, s, W) -> np.ndarray:
    order, starts, _ = _ties(s)
    yo = y[order].astype(float)
    gp = np.add.reduceat(W[:, order] * yo, starts, axis=1)  # (B, groups) positive weight per tie group
    gn = np.add.reduceat(W[:, order] * (1 - yo), starts, axis=1)
    below = np.cumsum(gn, axis=1) - gn
    return _divide((gp * (below + 0.5 * gn)).sum(1), gp.sum(1) * gn.sum(1))


def auprc(y, s, W) -> np.ndarray:
    """Average precision as scikit-learn defines it: Σ over thresholds of Δrecall × precision."""
    order, starts, _ = _ties(-s)  # descending scores
    yo = y[order].astype(float)
    gp = np.add.reduceat(W[:, order] * yo, starts, axis=1)
    gn = np.add.reduceat(W[:, order] * (1 - yo), starts, axis=1)
    tp, fp = np.cumsum(gp, axis=1), np.cumsum(gn, axis=1)
    precision = np.nan_to_num(_divide(tp, tp + fp))
    return _divide((gp * precision).sum(1), gp.sum(1))


def brier(y, p, W) -> np.ndarray:
    return _divide(W @ (np.clip(p, 0, 1) - y) ** 2, W.sum(1))


def ece(y, p, W=None, bins: int = 10) -> np.ndarray | float:
    """Expected calibration error: bin-weighted |mean predicted − observed rate| over equal-width bins."""
    single = W is None
    W = np.ones((1, len(y))) if single else W
    p = np.clip(p, 0, 1)
    idx = np.clip(np.digitize(p, np.linspace(0, 1, bins + 1)[1:-1]), 0, bins - 1)
    onehot = np.zeros((len(p), bins))
    onehot[np.arange(len(p)), idx] = 1.0
    gaps = np.abs((W * (p - y)) @ onehot).sum(1)  # Σ_bins |Σ_i∈bin w_i (p_i − y_i)|
    out = _divide(gaps, W.sum(1))
    return float(out[0]) if single else out


def velocity_mae(y, s, W) -> np.ndarray:
    return _divide(W @ np.abs(y - s), W.sum(1))


def _midranks(x: np.ndarray, W: np.ndarray) -> np.ndarray:
    """(B, n) ranks of x within each resample, ties (copies included) at their mean rank."""
    order, starts, inverse = _ties(x)
    gw = np.add.reduceat(W[:, order], starts, axis=1)
    mid = np.cumsum(gw, axis=1) - gw + (gw + 1) / 2
    ranks = np.empty_like(W, dtype=float)
    ranks[:, order] = mid[:, inverse]
    return ranks


def spearman(y, s, W) -> np.ndarray:
    ry, rs = _midranks(y, W), _midranks(s, W)
    tot = W.sum(1, keepdims=True)
    my, ms = (W * ry).sum(1, keepdims=True) / tot, (W * rs).sum(1, keepdims=True) / tot
    cov = (W * (ry - my) * (rs - ms)).sum(1)
    var = (W * (ry - my) ** 2).sum(1) * (W * (rs - ms) ** 2).sum(1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(var > 1e-12, cov / np.sqrt(np.where(var > 1e-12, var, 1)), np.nan)


def mean(y, s, W) -> np.ndarray:
    """The weighted mean of ``s`` (a rate: the test set's prevalence, an interval's coverage)."""
    return _divide(W @ s, W.sum(1))


METRICS: dict[str, Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray]] = {
    "auroc": auroc, "auprc": auprc, "brier": brier, "ece": ece, "velocity_mae": velocity_mae, "spearman": spearman,
    "mean": mean,
}


def metric(name: str, y, s) -> float:
    """The metric on the rows as they are (every weight 1)."""
    y, s = np.asarray(y, dtype=float), np.asarray(s, dtype=float)
    return float(METRICS[name](y, s, np.ones((1, len(y))))[0])


def group_rows(groups: np.ndarray) -> list[np.ndarray]:
    _, inverse = np.unique(groups, return_inverse=True)
    order = np.argsort(inverse, kind="stable")
    bounds = np.flatnonzero(np.diff(inverse[order])) + 1
    return np.split(order, bounds)


def bootstrap_weights(groups: np.ndarray, n_boot: int = 1000, seed: int = 0) -> np.ndarray:
    """(n_boot, n) weights: each resample draws whole groups (creators) with replacement; a row's weight is
    how many times its group was drawn."""
    _, inverse = np.unique(groups, return_inverse=True)
    g = int(inverse.max()) + 1 if len(inverse) else 0
    draws = np.random.default_rng(seed).integers(0, max(g, 1), size=(n_boot, g))
    counts = np.zeros((n_boot, max(g, 1)))
    np.add.at(counts, (np.arange(n_boot)[:, None], draws), 1.0)
    return counts[:, inverse]


def with_interval(name: str, y, s, W: np.ndarray) -> tuple[float, float, float]:
    y, s = np.asarray(y, dtype=float), np.asarray(s, dtype=float)
    vals = METRICS[name](y, s, W)
    vals = vals[np.isfinite(vals)]
    lo, hi = (np.percentile(vals, [2.5, 97.5]) if len(vals) else (np.nan, np.nan))
    return metric(name, y, s), float(lo), float(hi)


def paired_gain(name: str, y, a, b, W: np.ndarray) -> tuple[float, float, float]:
    """How much better scores ``a`` are than ``b`` on the same rows (positive = better: a higher AUROC,
    a lower MAE), with its interval from the same creator resamples."""
    y, a, b = (np.asarray(x, dtype=float) for x in (y, a, b))
    sign = 1.0 if HIGHER_IS_BETTER[name] else -1.0
    diffs = sign * (METRICS[name](y, a, W) - METRICS[name](y, b, W))
    diffs = diffs[np.isfinite(diffs)]
    lo, hi = (np.percentile(diffs, [2.5, 97.5]) if len(diffs) else (np.nan, np.nan))
    return sign * (metric(name, y, a) - metric(name, y, b)), float(lo), float(hi)
