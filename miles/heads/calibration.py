"""Calibration that belongs to the head: fitted on a time-ordered validation slice of its training rows.

    cal = fit_calibration(p_raw_val, y_val, velocity_pred_val, velocity_val)
    cal.probability(p_raw)          # Platt-scaled, held inside [floor, ceiling]
    cal.interval(p)                 # 95% Wilson interval of the validation rows scored like p
    cal.velocity_band               # (2.5%, 97.5%) of the validation residuals

Platt scaling (a logistic fit on the logit of the raw score, with Platt's smoothed targets) is smooth and
needs few rows; isotonic regression on a few hundred rows gives steps at exactly 0 and 1. The calibrated
probability is then held within [½ / (n + 1), 1 − ½ / (n + 1)] for n validation rows: a rate finer than
that cannot be checked on them, so none is claimed, and no probability is ever 0 or 1. Each probability
is reported with the Wilson interval of the validation rows in its bin, which says how sure that is.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from miles.heads.stats import wilson_interval

EPS = 1e-6


def _logit(p) -> np.ndarray:
    p = np.clip(np.asarray(p, dtype=float), EPS, 1 - EPS)
    return np.log(p / (1 - p))


def _sigmoid(x) -> np.ndarray:
    from scipy.special import expit

    return expit(x)


def platt(z: np.ndarray, y: np.ndarray, iters: int = 50) -> tuple[float, float]:
    """(a, b) of P(y=1) = σ(a·z + b), by Newton's method on Platt's smoothed targets."""
    n_pos, n_neg = float(y.sum()), float(len(y) - y.sum())
    t = np.where(y > 0, (n_pos + 1) / (n_pos + 2), 1 / (n_neg + 2))
    a, b = 1.0, 0.0
    A = np.column_stack([z, np.ones_like(z)])
    for _ in range(iters):
        p = _sigmoid(a * z + b)
        grad = A.T @ (p - t)
        hess = (A * (p * (1 - p))[:, None]).T @ A + 1e-9 * np.eye(2)
        step = np.linalg.solve(hess, grad)
        a, b = a - step[0], b - step[1]
        if np.abs(step).max() < 1e-10:
            break
    return float(a), float(b)


@dataclass
class Calibration:
    a: float = 1.0
    b: float = 0.0
    floor: float = EPS
    ceiling: float = 1 - EPS
    edges: list[float] | None = None  # bin edges over calibrated probability (validation rows)
    counts: list[list[int]] | None = None  # per bin: [viral, rows]
    velocity_band: list[float] | None = None  # residual quantiles (2.5%, 97.5%)
    n: int = 0  # validation rows behind it

    def probability(self, p_raw) -> np.ndarray:
        return np.clip(_sigmoid(self.a * _logit(p_raw) + self.b), self.floor, self.ceiling)

    def interval(self, p: float) -> tuple[float, float] | None:
        """95% Wilson interval of the viral rate among validation rows whose calibrated probability fell
        in the same bin as ``p``; None without validation rows."""
        if not self.edges or not self.counts:
            return None
        b = int(np.clip(np.searchsorted(self.edges, p, side="right") - 1, 0, len(self.counts) - 1))
        k, n = self.counts[b]
        return wilson_interval(k, n)

    def velocity_interval(self, velocity: float) -> tuple[float, float] | None:
        if self.velocity_band is None:
            return None
        return velocity + self.velocity_band[0], velocity + self.velocity_band[1]

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> Calibration:
        return cls(**d)


def fit_calibration(p_raw: np.ndarray, y: np.ndarray, velocity_pred: np.ndarray | None = None,
                    velocity: np.ndarray | None = None, max_bins: int = 10, rows_per_bin: int = 40) -> Calibration:
    """Fit on validation rows (never test rows). With no rows or one class, the probability is the
    smoothed rate of what there is, and no interval is claimed."""
    y = np.asarray(y, dtype=float)
    p_raw = np.asarray(p_raw, dtype=float)
    n = len(y)
    band = None
    if velocity is not None and velocity_pred is not None and n >= 20:
        band = [float(x) for x in np.percentile(np.asarray(velocity) - np.asarray(velocity_pred), [2.5, 97.5])]
    if n == 0:
        return Calibration(a=0.0, b=0.0, floor=0.5, ceiling=0.5)
    if y.min() == y.max():
        rate = (y.sum() + 0.5) / (n + 1)
        return Calibration(a=0.0, b=float(_logit(rate)), floor=rate, ceiling=rate, velocity_band=band, n=n)
    a, b = platt(_logit(p_raw), y)
    floor = 0.5 / (n + 1)
    p = np.clip(_sigmoid(a * _logit(p_raw) + b), floor, 1 - floor)
    bins = int(np.clip(n // rows_per_bin, 2, max_bins))
    order = np.argsort(p, kind="stable")
    groups = np.array_split(order, bins)
    counts = [[int(y[g].sum()), len(g)] for g in groups]
    edges = [0.0] + [float(p[g[0]]) for g in groups[1:]] + [1.0]
    return Calibration(a=a, b=b, floor=floor, ceiling=1 - floor, edges=edges, counts=counts, velocity_band=band,
                       n=n)
