"""Small statistics shared by the heads, evaluation and queries."""

from __future__ import annotations

import numpy as np


def wilson_interval(k: float, n: float, z: float = 1.96) -> tuple[float, float]:
    """Wilson score interval of a proportion k / n (95% by default); (0, 1) when n is 0."""
    if n <= 0:
        return 0.0, 1.0
    p = k / n
    d = 1 + z * z / n
    c = (p + z * z / (2 * n)) / d
    h = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / d
    return float(max(0.0, c - h)), float(min(1.0, c + h))


def auroc(y, s) -> float:
    """Area under the ROC curve of scores ``s`` for binary ``y`` (ties count half): the Mann-Whitney U over
    the positives' mid-ranks. NaN when ``y`` holds one class."""
    from scipy.stats import rankdata

    y = np.asarray(y, dtype=float)
    pos, n = float(y.sum()), len(y)
    if pos == 0 or pos == n:
        return float("nan")
    ranks = rankdata(np.asarray(s, dtype=float))
    return float((ranks[y > 0].sum() - pos * (pos + 1) / 2) / (pos * (n - pos)))
