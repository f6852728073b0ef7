"""Each vectorised bootstrap metric equals scikit-learn / SciPy on the resample written out row by row."""

import numpy as np
import pytest
from scipy.stats import spearmanr
from sklearn.metrics import average_precision_score, brier_score_loss, roc_auc_score

from miles.eval.metrics import METRICS, bootstrap_weights, ece, metric

REFERENCE = {"auroc": roc_auc_score, "auprc": average_precision_score, "brier": brier_score_loss,
             "velocity_mae": lambda y, s: float(np.mean(np.abs(y - s))),
             "spearman": lambda y, s: spearmanr(y, s).statistic, "ece": ece}


@pytest.mark.parametrize("name", sorted(REFERENCE))
def test_weighted_metric_equals_the_metric_on_explicit_copies(name):
    rng = np.random.default_rng(3)
    n = 300
    y = (rng.random(n) < 0.25).astype(float)
    s = np.round(1 / (1 + np.exp(-(1.5 * y + rng.normal(size=n)))), 2)  # rounded: ties on purpose
    if name in ("velocity_mae", "spearman"):
        y = np.round(s + rng.normal(0, 0.3, n), 1)
    W = bootstrap_weights(rng.integers(0, 40, n), n_boot=25, seed=1)
    got = METRICS[name](y, s, W)
    for b in range(len(W)):
        rows = np.repeat(np.arange(n), W[b].astype(int))
        assert got[b] == pytest.approx(float(REFERENCE[name](y[rows], s[rows])), abs=1e-9), b
    assert metric(name, y, s) == pytest.approx(float(REFERENCE[name](y, s)), abs=1e-9)


def test_undefined_metrics_are_nan_not_errors():
    y = np.zeros(10)
    s = np.linspace(0, 1, 10)
    assert np.isnan(metric("auroc", y, s)) and np.isnan(metric("spearman", np.ones(10), s))
