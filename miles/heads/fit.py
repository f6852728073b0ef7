"""One way to fit a head, for ``miles eval`` and ``miles train`` alike: fit on the earlier rows, check and
calibrate on the later ones, and refit on resamples for the interval.

    fitted = fit_head("lightgbm", X, y_viral, velocity, params={"block_sizes": ...}, groups=creators)
    p_raw, p, velocity = fitted.predict(X_new)
    low, high = fitted.viral_interval(X_new, p)         # 95% of the resampled heads' probabilities
    fitted.calibration.velocity_interval(velocity[0])   # the 95% conformal range of the velocity
    fitted.notes                                        # what the self-check changed, in words

The last ``calibration_fraction`` of the (time-ordered) training rows is held out: the head never sees
them. On them the head checks itself before it is calibrated there (``miles.heads.calibration``):
- a head with title or thumbnail vectors whose ranking (AUROC) there is clearly worse than the same head
  on the metadata alone (in 90% of bootstrap resamples of those rows) drops the vectors (on a few hundred
  videos they can hurt: 0.93 → 0.71 was seen);
- a velocity worse there (mean absolute error) than the training rows' median is replaced by the median.
The interval beside a probability is the spread of that probability over heads refitted on resamples of
whole creators from the fitting rows, each calibrated on a resample of the validation rows (how much the
answer depends on which videos the head happened to learn from), combined with chance into the range of
the breakout share among 50 videos like this one (``miles.heads.intervals``). Test rows are never involved, so
``eval`` measures exactly what ``train`` deploys.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np

from miles.heads.calibration import LEVEL, Calibration, fit_calibration
from miles.heads.intervals import GROUP, group_range, spread
from miles.heads.registry import create_head, head_kind
from miles.heads.stats import auroc

log = logging.getLogger(__name__)

CALIBRATION_FRACTION = 0.2
MIN_ROWS_TO_CALIBRATE = 100
RESAMPLES = 20  # refits behind each interval
INTERVAL_TEXT = (f"out of {GROUP} videos like this one, the share that breaks out falls in this range "
                 f"{LEVEL:.0%} of the time: chance, plus the model's own uncertainty (it was retrained on "
                 f"{RESAMPLES} resamples of the training channels)")
VELOCITY_TEXT = (f"the velocity range held {LEVEL:.0%} of the latest training videos' outcomes around their "
                 "predictions")


@dataclass
class FittedHead:
    name: str
    viral: object  # predict_proba
    velocity: object | None  # predict; None when the viral model also predicts velocity (the fusion MLP)
    calibration: Calibration
    n_fit: int = 0
    blocks: dict | None = None  # {block: columns} of the X this head is given (None: X is used whole)
    used: list[str] | None = None  # the blocks it reads, after its self-check
    velocity_constant: float | None = None  # the training median, when the head's velocity did worse
    resamples: list[tuple[object, Calibration]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def inputs(self, X):
        """The columns of ``X`` (every block the head was given) that this head reads."""
        if self.blocks is None or self.used is None or list(self.used) == list(self.blocks):
            return X
        return X[:, _columns(self.blocks, self.used)]

    def predict_raw(self, X) -> tuple[np.ndarray, np.ndarray]:
        """(n,) uncalibrated P(viral) and (n,) velocity."""
        X = self.inputs(X)
        p = np.asarray(self.viral.predict_proba(X)[:, 1], dtype=float)
        if self.velocity_constant is not None:
            vel = np.full(len(p), self.velocity_constant)
        else:
            vel = self.velocity.predict(X) if self.velocity is not None else self.viral.predict_velocity(X)
        return p, np.asarray(vel, dtype=float)

    def predict(self, X) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(raw P(viral), calibrated P(viral), velocity), each (n,)."""
        raw, vel = self.predict_raw(X)
        return raw, self.calibration.probability(raw), vel

    def resampled(self, X) -> np.ndarray | None:
        """(B, n) calibrated probabilities of the resampled heads; None without resamples."""
        if not self.resamples:
            return None
        X = self.inputs(X)
        return np.vstack([cal.probability(m.predict_proba(X)[:, 1]) for m, cal in self.resamples])

    def viral_interval(self, X, p: np.ndarray | None = None, draws: np.ndarray | None = None):
        """(low, high), each (n,): the range of the breakout share among ``GROUP`` videos like one scored
        ``p`` (the deployed head's own P): the resampled heads' spread and chance, in quadrature
        (``miles.heads.intervals``); None without resamples."""
        draws = self.resampled(X) if draws is None else draws
        if draws is None:
            return None
        if p is None:
            p = self.predict(X)[1]
        return group_range(p, *spread(draws, p))


def _columns(blocks: dict, used) -> np.ndarray:
    start, cols = 0, []
    for name, size in blocks.items():
        if name in used:
            cols.append(np.arange(start, start + size))
        start += size
    return np.concatenate(cols)


def fit_models(name: str, X, y: np.ndarray, v: np.ndarray, params: dict | None = None,
               task: str | None = None) -> tuple[object, object]:
    """The viral and velocity models of one head on these rows (the MLP fits both outputs at once);
    ``task="viral"``: the viral model only."""
    params = params or {}
    if head_kind(name).joint:
        return create_head(name, task="viral", **params).fit(X, y, y_aux=v), None
    viral = create_head(name, task="viral", **params).fit(X, y)
    return viral, (None if task == "viral" else create_head(name, task="velocity", **params).fit(X, v))


def clearly_worse(y: np.ndarray, a: np.ndarray, b: np.ndarray, resamples: int = 200, seed: int = 0) -> bool:
    """Do scores ``a`` rank ``y`` worse than ``b`` in at least 90% of bootstrap resamples of these rows? A
    few hundred validation rows cannot tell 0.982 from 0.983, so only a loss the rows show is acted on."""
    rng = np.random.default_rng(seed)
    n, worse, counted = len(y), 0, 0
    for _ in range(resamples):
        i = rng.integers(0, n, n)
        d = auroc(y[i], a[i]) - auroc(y[i], b[i])
        if np.isfinite(d):
            counted += 1
            worse += d < 0
    return counted > 0 and worse >= 0.9 * counted


def fit_head(name: str, X, y: np.ndarray, v: np.ndarray, params: dict | None = None,
             calibration_fraction: float = CALIBRATION_FRACTION, groups: np.ndarray | None = None,
             resamples: int = 0, seed: int = 0, check: bool = True) -> FittedHead:
    """Fit ``name`` on rows in time order: models on the earlier rows; the self-check, calibration and the
    resamples' calibration on the later ones. ``groups``: the creator of each row (resampled whole)."""
    params = dict(params or {})
    n = len(y)
    n_cal = int(n * calibration_fraction) if n >= MIN_ROWS_TO_CALIBRATE else 0
    if n_cal and len(np.unique(y[: n - n_cal])) < 2:
        n_cal = 0  # the earlier rows hold one class only: fit on everything, calibrate on nothing
    fit, cal = np.arange(n - n_cal), np.arange(n - n_cal, n)
    sizes = params.get("block_sizes")
    fitted = FittedHead(name, *fit_models(name, X[fit], y[fit], v[fit], params), Calibration(), len(fit),
                        blocks=dict(sizes) if sizes else None, used=list(sizes) if sizes else None)
    if n_cal and check:
        _self_check(fitted, X, y, v, fit, cal, params)
    if n_cal:
        raw, vel = fitted.predict_raw(X[cal])
        fitted.calibration = fit_calibration(raw, y[cal], vel, v[cal], base_rate=float(y.mean()))
        if fitted.calibration.note:
            fitted.notes.append(fitted.calibration.note)
    else:
        log.warning("%s: %d training rows are too few to hold out a calibration slice; its probabilities are "
                    "the head's own, held within the smoothed rate bounds", name, n)
        fitted.calibration = Calibration(floor=0.5 / (n + 1), ceiling=1 - 0.5 / (n + 1))
    if resamples:
        _resample(fitted, X, y, v, fit, cal, params, groups, resamples, seed)
    return fitted


def _self_check(f: FittedHead, X, y, v, fit, cal, params: dict) -> None:
    """Drop the vectors, or the velocity model, when the validation slice says they do worse than the
    simpler choice; each change is a note."""
    sizes = params.get("block_sizes")
    if sizes and len(sizes) > 1 and len(np.unique(y[cal])) > 1:
        meta = {"metadata": sizes["metadata"]}
        Xm = X[:, _columns(sizes, meta)]
        simple = fit_models(f.name, Xm[fit], y[fit], v[fit], {**params, "block_sizes": meta})
        full, meta_only = f.predict_raw(X[cal])[0], simple[0].predict_proba(Xm[cal])[:, 1]
        full_auc, meta_auc = auroc(y[cal], full), auroc(y[cal], meta_only)
        if clearly_worse(y[cal], full, meta_only):
            gone = [b for b in sizes if b != "metadata"]
            f.viral, f.velocity, f.used = simple[0], simple[1], ["metadata"]
            f.notes.append(f"{f.name}: the {' and '.join(_BLOCK_WORDS.get(b, b) for b in gone)} were dropped: on "
                           f"the {len(cal)} latest training videos they ranked worse (AUROC {full_auc:.3f}) than "
                           f"the metadata alone ({meta_auc:.3f})")
    _, vel = f.predict_raw(X[cal])
    median = float(np.median(v[fit]))
    head_mae, median_mae = float(np.mean(np.abs(v[cal] - vel))), float(np.mean(np.abs(v[cal] - median)))
    if head_mae > median_mae:
        f.velocity_constant = median
        f.notes.append(f"{f.name}: its velocity was replaced by the training median: on the {len(cal)} latest "
                       f"training videos it was further off (mean error {head_mae:.2f}) than the median "
                       f"({median_mae:.2f})")


_BLOCK_WORDS = {"text": "title vectors", "image": "thumbnail vectors"}


def _draw(groups: np.ndarray | None, rows: np.ndarray, rng) -> np.ndarray:
    """A resample of ``rows`` drawing whole groups with replacement, in time (row) order."""
    if groups is None:
        return np.sort(rng.choice(rows, size=len(rows), replace=True))
    codes, uniq = _codes(groups[rows])
    picked = rng.integers(0, len(uniq), len(uniq))
    order = np.argsort(codes, kind="stable")
    bounds = np.searchsorted(codes[order], np.arange(len(uniq) + 1))
    return np.sort(np.concatenate([rows[order[bounds[g]:bounds[g + 1]]] for g in picked]))


def _codes(values: np.ndarray):
    import pandas as pd

    codes, uniq = pd.factorize(pd.Series(values, dtype=object))
    return codes, uniq


def _resample(f: FittedHead, X, y, v, fit, cal, params: dict, groups, count: int, seed: int) -> None:
    sizes = params.get("block_sizes")
    if sizes and f.used is not None and list(f.used) != list(sizes):
        params = {**params, "block_sizes": {b: sizes[b] for b in f.used}}
    Xu = f.inputs(X)
    rng = np.random.default_rng([seed, 7])
    rate = float(y.mean())
    for b in range(count):
        rows = _draw(groups, fit, rng)
        if len(np.unique(y[rows])) < 2:
            continue
        model, _ = fit_models(f.name, Xu[rows], y[rows], v[rows], {**params, "random_state": seed + b + 1}
                              if "random_state" in params else params, task="viral")
        if len(cal):
            at = _draw(groups, cal, rng)
            calib = fit_calibration(model.predict_proba(Xu[at])[:, 1], y[at], base_rate=rate)
        else:
            calib = f.calibration
        f.resamples.append((model, calib))
