"""Explanations grouped the way a creator thinks: title, thumbnail, creator, timing, format, early engagement.

- LightGBM: TreeSHAP values as LightGBM computes them itself (``pred_contrib``, equal to SHAP's
  ``TreeExplainer`` in the tests) on the head's (PCA-reduced) inputs, grouped (``miles.heads.explain``,
  re-exported here).
- Any head (the MLP included): exact Shapley values over the same groups, a group "absent" meaning its
  columns set to their training means (2^g coalitions; g ≤ 6 here).
"""

from __future__ import annotations

from itertools import combinations
from math import factorial

import numpy as np

from miles.heads.explain import GROUP_OF_BLOCK, group_of, grouped, shap_patterns, tree_shap  # noqa: F401


def group_shapley(predict, X: np.ndarray, background_mean: np.ndarray, column_groups: list[str]
                  ) -> tuple[np.ndarray, list[str]]:
    """Exact Shapley values per row over column groups for any ``predict(X) -> (n,)``.

    (n, d) rows → (n, g) contributions that sum to predict(X) − predict(background)."""
    groups = sorted(set(column_groups))
    masks = [np.array([c == g for c in column_groups]) for g in groups]
    g = len(groups)
    cache: dict[frozenset, np.ndarray] = {}

    def value(coalition: frozenset) -> np.ndarray:
        if coalition not in cache:
            Z = np.broadcast_to(background_mean, X.shape).copy()
            for k in coalition:
                Z[:, masks[k]] = X[:, masks[k]]
            cache[coalition] = np.asarray(predict(Z), dtype=float)
        return cache[coalition]

    phi = np.zeros((X.shape[0], g))
    for i in range(g):
        others = [k for k in range(g) if k != i]
        for r in range(g):
            w = factorial(r) * factorial(g - r - 1) / factorial(g)
            for subset in combinations(others, r):
                s = frozenset(subset)
                phi[:, i] += w * (value(s | {i}) - value(s))
    return phi, groups


def summary(values: np.ndarray, names: list[str]) -> list[dict]:
    """Global importance: mean |value| per name, with the mean signed value, largest first."""
    rows = [{"name": n, "mean_abs": float(np.mean(np.abs(values[:, j]))), "mean": float(np.mean(values[:, j]))}
            for j, n in enumerate(names)]
    return sorted(rows, key=lambda r: -r["mean_abs"])


def explain_rows(values: np.ndarray, names: list[str], top: int = 3) -> list[list[tuple[str, float]]]:
    """Per row: the ``top`` names by |value|, signed."""
    out = []
    for row in values:
        idx = np.argsort(-np.abs(row))[:top]
        out.append([(names[j], float(row[j])) for j in idx])
    return out


