"""Calibration that belongs to the head: fitted on a time-ordered validation slice of its training rows.

    cal = fit_calibration(p_raw_val, y_val, velocity_pred_val, velocity_val, base_rate=y_train.mean())
    cal.probability(p_raw)          # Platt-scaled, held inside [floor, ceiling]
    cal.velocity_interval(v)        # the 95% split-conformal range of the velocity (validation residuals)
    cal.note                        # set when the slice could not be used, saying why

Platt scaling (a logistic fit on the logit of the raw score, with Platt's smoothed targets) is smooth and
needs few rows; isotonic regression on a few hundred rows gives steps at exactly 0 and 1. The calibrated
probability is held within [½ / (n + 1), 1 − ½ / (n + 1)] for n validation rows: a rate finer than that
cannot be checked on them, so none is claimed, and no probability is ever 0 or 1.

The map is kept only when it helps: fitted on one half of the slice, it must beat the head's own
probabilities on the other half (both ways round) by more than the noise of those rows (one standard
error of the paired log-loss differences), else the head's probabilities are left as they are.
Two slices cannot be used, and then every probability is the training rows' base rate, with a note that
says so: a slice holding one class only (nothing to fit), and a fit whose slope is not positive (the
head's ranking would be turned upside down, or flattened). Because ``viral`` is defined within each
week's cohort (``miles.heads.labels``), the base rate of a later week is the base rate of the slice, and
the map fitted on the latest training weeks holds for the weeks it is used on.

How sure a probability is comes from the head's resampled refits (``miles.heads.fit``), not from here.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields

import numpy as np

EPS = 1e-6
LEVEL = 0.95  # every interval Miles shows


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


def conformal_band(residuals: np.ndarray, level: float = LEVEL) -> list[float] | None:
    """(low, high) offsets such that a new residual falls inside with probability ``level`` when it is
    exchangeable with these: the split-conformal quantiles ⌈(n+1)·q⌉ / n of each tail."""
    r = np.sort(np.asarray(residuals, dtype=float))
    n = len(r)
    tail = (1 - level) / 2
    k = int(np.ceil((n + 1) * (1 - tail)))
    if n < 20 or k > n:
        return None
    return [float(r[n - k]), float(r[k - 1])]


@dataclass
class Calibration:
    a: float = 1.0
    b: float = 0.0
    floor: float = EPS
    ceiling: float = 1 - EPS
    velocity_band: list[float] | None = None  # split-conformal offsets (low, high) at LEVEL
    n: int = 0  # validation rows behind it
    note: str | None = None  # why the slice was not used, when it was not

    def probability(self, p_raw) -> np.ndarray:
        return np.clip(_sigmoid(self.a * _logit(p_raw) + self.b), self.floor, self.ceiling)

    def velocity_interval(self, velocity: float) -> tuple[float, float] | None:
        if self.velocity_band is None:
            return None
        return velocity + self.velocity_band[0], velocity + self.velocity_band[1]

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> Calibration:
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in names})

    @classmethod
    def constant(cls, rate: float, n: int, note: str | None, band: list[float] | None = None) -> Calibration:
        """Every probability ``rate``: what is known when the slice says nothing usable."""
        return cls(a=0.0, b=float(_logit(rate)), floor=rate, ceiling=rate, velocity_band=band, n=n, note=note)


def fit_calibration(p_raw: np.ndarray, y: np.ndarray, velocity_pred: np.ndarray | None = None,
                    velocity: np.ndarray | None = None, base_rate: float | None = None) -> Calibration:
    """Fit on validation rows (never test rows). ``base_rate``: the viral rate of all the training rows,
    the fallback when the slice cannot be used."""
    y = np.asarray(y, dtype=float)
    p_raw = np.asarray(p_raw, dtype=float)
    n = len(y)
    band = None
    if velocity is not None and velocity_pred is not None:
        band = conformal_band(np.asarray(velocity) - np.asarray(velocity_pred))
    rate = float(np.clip(base_rate if base_rate is not None else (y.sum() + 0.5) / (n + 1), EPS, 1 - EPS))
    if n == 0:
        return Calibration.constant(rate, 0, "no validation rows: every probability is the base rate", band)
    if y.min() == y.max():
        return Calibration.constant(rate, n, f"the {n} latest training videos hold one class only, so nothing "
                                    f"calibrates the head: every probability is the base rate {rate:.0%}", band)
    z = _logit(p_raw)
    a, b = platt(z, y)
    if not a > 0:
        return Calibration.constant(rate, n, f"on the {n} latest training videos the head's scores ran against "
                                    f"the outcomes (calibration slope {a:.2f}): every probability is the base "
                                    f"rate {rate:.0%}", band)
    floor = 0.5 / (n + 1)
    if not _platt_helps(z, y):
        a, b = 1.0, 0.0  # the head's own probabilities did as well on rows the map was not fitted on
    return Calibration(a=a, b=b, floor=floor, ceiling=1 - floor, velocity_band=band, n=n)


def _log_loss(p: np.ndarray, y: np.ndarray) -> np.ndarray:
    p = np.clip(p, EPS, 1 - EPS)
    return -(y * np.log(p) + (1 - y) * np.log(1 - p))


def _platt_helps(z: np.ndarray, y: np.ndarray) -> bool:
    """Does a Platt map fitted on one half of the slice (in time order) beat the raw probabilities on the
    other half, both ways round, by more than one standard error of the rows' paired log-loss differences?
    A map fitted and judged on the same rows always would; one that only matches them adds noise."""
    half = len(y) // 2
    parts = (slice(0, half), slice(half, None))
    gains = []
    for fit, held in (parts, parts[::-1]):
        if len(np.unique(y[fit])) < 2:
            return True
        a, b = platt(z[fit], y[fit])
        gains.append(_log_loss(_sigmoid(z[held]), y[held]) - _log_loss(_sigmoid(a * z[held] + b), y[held]))
    d = np.concatenate(gains)
    return bool(d.mean() > d.std(ddof=1) / np.sqrt(len(d)))
