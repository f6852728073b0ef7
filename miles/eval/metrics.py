"""Metrics with 95% intervals by bootstrap over creators.

Rows of one creator are not independent (the creator prior), so intervals resample whole creators.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable

import numpy as np
from scipy.stats import spearmanr
from sklearn.metrics import average_precision_score, brier_score_loss, roc_auc_score

CLASSIFICATION = ("auroc", "auprc", "brier", "ece")
REGRESSION = ("velocity_mae", "spearman")
HIGHER_IS_BETTER = {"auroc": True, "auprc": True, "brier": False, "ece": False, "velocity_mae": False,
                    "spearman": True}


def wilson_interval(k: float, n: float, z: float = 1.96) -> tuple[float, float]:
    """Wilson score interval of a proportion k / n (95% by default); (0, 1) when n is 0."""
    if n <= 0:
        return 0.0, 1.0
    p = k / n
    d = 1 + z * z / n
    c = (p + z * z / (2 * n)) / d
    h = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / d
    return float(max(0.0, c - h)), float(min(1.0, c + h))


def ece(y: np.ndarray, p: np.ndarray, bins: int = 10) -> float:
    """Expected calibration error: bin-weighted |mean predicted − observed rate| over equal-width bins."""
    edges = np.linspace(0, 1, bins + 1)
    idx = np.clip(np.digitize(p, edges[1:-1]), 0, bins - 1)
    total = 0.0
    for b in range(bins):
        m = idx == b
        if m.any():
            total += m.mean() * abs(p[m].mean() - y[m].mean())
    return float(total)


def _safe(fn):
    def wrapped(y, s):
        if fn in (roc_auc_score, average_precision_score) and len(np.unique(y)) < 2:
            return np.nan
        return float(fn(y, s))

    return wrapped


METRICS: dict[str, Callable[[np.ndarray, np.ndarray], float]] = {
    "auroc": _safe(roc_auc_score),
    "auprc": _safe(average_precision_score),
    "brier": lambda y, p: float(brier_score_loss(y, np.clip(p, 0, 1))),
    "ece": lambda y, p: ece(y, np.clip(p, 0, 1)),
    "velocity_mae": lambda y, s: float(np.mean(np.abs(y - s))),
    "spearman": lambda y, s: _spearman(y, s),
}


def _spearman(y: np.ndarray, s: np.ndarray) -> float:
    if np.std(s) == 0 or np.std(y) == 0:
        return np.nan  # undefined for a constant (a head that predicts one value)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return float(spearmanr(y, s).statistic)


def group_rows(groups: np.ndarray) -> list[np.ndarray]:
    _, inverse = np.unique(groups, return_inverse=True)
    order = np.argsort(inverse, kind="stable")
    bounds = np.flatnonzero(np.diff(inverse[order])) + 1
    return np.split(order, bounds)


def bootstrap_samples(groups: np.ndarray, n_boot: int = 200, seed: int = 0) -> list[np.ndarray]:
    """Row indices of ``n_boot`` resamples, each drawing whole groups (creators) with replacement."""
    rows = group_rows(groups)
    rng = np.random.default_rng(seed)
    return [np.concatenate([rows[g] for g in rng.integers(0, len(rows), len(rows))]) for _ in range(n_boot)]


def with_interval(metric: str, y: np.ndarray, s: np.ndarray, samples: list[np.ndarray]) -> tuple[float, float, float]:
    fn = METRICS[metric]
    vals = np.array([fn(y[i], s[i]) for i in samples])
    vals = vals[np.isfinite(vals)]
    lo, hi = (np.percentile(vals, [2.5, 97.5]) if len(vals) else (np.nan, np.nan))
    return fn(y, s), float(lo), float(hi)


def paired_gain(metric: str, y: np.ndarray, a: np.ndarray, b: np.ndarray, samples: list[np.ndarray]
                ) -> tuple[float, float, float]:
    """How much better scores ``a`` are than ``b`` on the same rows (positive = better: a higher AUROC,
    a lower MAE), with its interval from the same creator resamples."""
    fn = METRICS[metric]
    sign = 1.0 if HIGHER_IS_BETTER[metric] else -1.0
    diffs = sign * np.array([fn(y[i], a[i]) - fn(y[i], b[i]) for i in samples])
    diffs = diffs[np.isfinite(diffs)]
    lo, hi = (np.percentile(diffs, [2.5, 97.5]) if len(diffs) else (np.nan, np.nan))
    return sign * (fn(y, a) - fn(y, b)), float(lo), float(hi)
