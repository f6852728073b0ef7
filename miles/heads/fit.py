"""One way to fit a head, for ``miles eval`` and ``miles train`` alike: fit on the earlier rows, calibrate
on the later ones.

    fitted = fit_head("lightgbm", X, y_viral, velocity, params={"block_sizes": ...})   # rows in time order
    p_raw, p, velocity = fitted.predict(X_new)
    fitted.calibration.interval(p[0]), fitted.calibration.velocity_interval(velocity[0])

The last ``calibration_fraction`` of the (time-ordered) training rows is held out: the head never sees
them, and the calibration (``miles.heads.calibration``) is fitted on its scores there. Test rows are never
involved, so ``eval`` measures exactly what ``train`` deploys.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

from miles.heads.calibration import Calibration, fit_calibration
from miles.heads.registry import create_head

log = logging.getLogger(__name__)

CALIBRATION_FRACTION = 0.2
MIN_ROWS_TO_CALIBRATE = 100


@dataclass
class FittedHead:
    name: str
    viral: object  # predict_proba
    velocity: object | None  # predict; None when the viral model also predicts velocity (the fusion MLP)
    calibration: Calibration
    n_fit: int = 0

    def predict_raw(self, X) -> tuple[np.ndarray, np.ndarray]:
        """(n,) uncalibrated P(viral) and (n,) velocity."""
        p = self.viral.predict_proba(X)[:, 1]
        vel = self.velocity.predict(X) if self.velocity is not None else self.viral.predict_velocity(X)
        return np.asarray(p, dtype=float), np.asarray(vel, dtype=float)

    def predict(self, X) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(raw P(viral), calibrated P(viral), velocity), each (n,)."""
        raw, vel = self.predict_raw(X)
        return raw, self.calibration.probability(raw), vel


def fit_models(name: str, X, y: np.ndarray, v: np.ndarray, params: dict | None = None) -> tuple[object, object]:
    """The viral and velocity models of one head on these rows (the MLP fits both outputs at once)."""
    params = params or {}
    if name == "mlp":
        return create_head("mlp", task="viral", **params).fit(X, y, y_aux=v), None
    return (create_head(name, task="viral", **params).fit(X, y),
            create_head(name, task="velocity", **params).fit(X, v))


def fit_head(name: str, X, y: np.ndarray, v: np.ndarray, params: dict | None = None,
             calibration_fraction: float = CALIBRATION_FRACTION) -> FittedHead:
    """Fit ``name`` on rows in time order: models on the earlier rows, calibration on the later ones."""
    n = len(y)
    n_cal = int(n * calibration_fraction) if n >= MIN_ROWS_TO_CALIBRATE else 0
    if n_cal and len(np.unique(y[: n - n_cal])) < 2:
        n_cal = 0  # the earlier rows hold one class only: fit on everything, calibrate on nothing
    fit_rows = slice(0, n - n_cal)
    clf, reg = fit_models(name, X[fit_rows], y[fit_rows], v[fit_rows], params)
    fitted = FittedHead(name, clf, reg, Calibration(), n - n_cal)
    if n_cal:
        raw, vel = fitted.predict_raw(X[n - n_cal:])
        fitted.calibration = fit_calibration(raw, y[n - n_cal:], vel, v[n - n_cal:])
    else:
        log.warning("%s: %d training rows are too few to hold out a calibration slice; its probabilities are "
                    "the head's own, held within the smoothed rate bounds", name, n)
        fitted.calibration = Calibration(floor=0.5 / (n + 1), ceiling=1 - 0.5 / (n + 1))
    return fitted
