"""The range beside P holds what it claims, on synthetic videos whose true chance of breaking out is known.

The range claims: out of 50 videos like this one, the share that breaks out falls inside 95% of the time.
With the true chance p of each held-out video known, that is exactly computable (a binomial sum), so the
claim is checked with no binning. The same rows are also checked as ``miles eval`` checks real data (bins
of held-out videos scored alike). Each half of the range is shown to matter: without chance, or without
the resampled heads' spread, the coverage falls short.
"""

import numpy as np
import pytest
from scipy.stats import binom

import miles.heads.intervals as intervals
from miles.heads.calibration import Calibration, fit_calibration
from miles.heads.fit import fit_head
from miles.heads.intervals import GROUP, rate_in_range


def synthetic(n: int = 7000, creators: int = 350, seed: int = 0):
    """Rows in time order: 4 features (feature 0 a creator's track record, shared by their videos), a true
    logit that the features fully determine, so that p is the chance of every video with these features,
    the label drawn from it, and a velocity."""
    rng = np.random.default_rng(seed)
    cid = rng.integers(0, creators, n)
    skill = rng.normal(0, 0.8, creators)[cid]
    X = np.column_stack([skill, rng.normal(size=n), rng.normal(size=n), rng.uniform(size=n)])
    logit = -1.6 + skill + 0.6 * X[:, 1] - 0.4 * X[:, 2] * (X[:, 3] > 0.5)
    p_true = 1 / (1 + np.exp(-logit))
    y = (rng.uniform(size=n) < p_true).astype(int)
    v = 0.5 * logit + rng.normal(0, 0.3, n)
    return X.astype(np.float32), y, v, p_true, cid.astype(str)


def share_coverage(p_true, lo, hi, group: int = GROUP) -> float:
    """Mean over rows of P(Binomial(group, p_true) / group lies in [lo, hi]): the claim, computed exactly."""
    k = np.arange(group + 1)
    inside = (k[None, :] / group >= lo[:, None] - 1e-12) & (k[None, :] / group <= hi[:, None] + 1e-12)
    return float((binom.pmf(k[None, :], group, p_true[:, None]) * inside).sum(1).mean())


@pytest.fixture(scope="module")
def fitted():
    X, y, v, p_true, cid = synthetic()
    tr, te = np.arange(5000), np.arange(5000, 7000)
    head = fit_head("lightgbm", X[tr], y[tr], v[tr], {"block_sizes": {"metadata": 4}, "random_state": 0},
                    groups=cid[tr], resamples=20)
    _, p, vel = head.predict(X[te])
    draws = head.resampled(X[te])
    return head, X[te], y[te], v[te], p_true[te], p, vel, draws


def test_the_range_holds_the_share_of_videos_like_this_one(fitted):
    head, X, y, v, p_true, p, vel, draws = fitted
    lo, hi = head.viral_interval(X, p, draws)
    assert ((lo <= p) & (p <= hi)).all()  # P always lies inside
    assert 0.92 <= share_coverage(p_true, lo, hi) <= 0.98
    # as eval checks real data: bins of held-out videos scored alike (errs high, never far low)
    assert rate_in_range(y, p, lo, hi).mean() >= 0.92


@pytest.mark.parametrize("mistake", ["no chance", "no model spread"])
def test_each_half_of_the_range_matters(fitted, monkeypatch, mistake):
    head, X, y, v, p_true, p, vel, draws = fitted
    if mistake == "no chance":
        monkeypatch.setattr(intervals, "Z", 0.0)
    else:
        draws = np.repeat(p[None, :], len(draws), axis=0)
    lo, hi = head.viral_interval(X, p, draws)
    assert share_coverage(p_true, lo, hi) < 0.90, mistake


def test_the_velocity_range_holds_95_percent(fitted):
    head, X, y, v, p_true, p, vel, draws = fitted
    low, high = head.calibration.velocity_interval(vel)
    assert 0.92 <= ((v >= low) & (v <= high)).mean() <= 0.98


def test_a_slope_that_runs_against_the_outcomes_falls_back_to_the_base_rate():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 300)
    raw = np.where(y == 1, 0.2, 0.6) + rng.uniform(0, 0.1, 300)  # ranks upside down
    cal = fit_calibration(raw, y, base_rate=0.2)
    assert cal.a == 0 and np.allclose(cal.probability(raw), 0.2)
    assert "ran against the outcomes" in cal.note and "20%" in cal.note
    one = fit_calibration(raw, np.zeros(300), base_rate=0.2)
    assert np.allclose(one.probability(raw), 0.2) and "one class only" in one.note
    assert Calibration.from_dict(one.to_dict()) == one


def test_calibration_is_kept_only_when_it_helps_on_rows_it_was_not_fitted_on():
    half_p = np.r_[np.full(100, 0.1), np.full(100, 0.5)]
    half_y = np.r_[np.ones(10), np.zeros(90), np.ones(50), np.zeros(50)]
    p, y = np.r_[half_p, half_p], np.r_[half_y, half_y]  # exactly calibrated in each half
    assert fit_calibration(p, y).a == 1.0  # left as it is: a map fitted on one half does worse on the other
    rng = np.random.default_rng(1)
    p = rng.uniform(0.05, 0.6, 2000)
    y = (rng.uniform(size=2000) < p).astype(int)
    squeezed = 1 / (1 + np.exp(-(np.log(p / (1 - p)) / 3)))  # over-confident the other way: needs the map
    assert fit_calibration(squeezed, y).a > 2.0
