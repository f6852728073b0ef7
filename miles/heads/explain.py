"""SHAP for the heads: values grouped the way a creator thinks, and a head's global patterns.

- ``tree_shap``: TreeSHAP values of a LightGBM head's (PCA-reduced) inputs, one name per column.
- ``grouped``: a group's value is the sum of its columns' values (title embedding, thumbnail embedding,
  creator, timing, format, early engagement); SHAP values add up, so it is the group's share.
- ``shap_patterns``: mean SHAP per quantile bin of a few scalar features, saved with the head by
  ``miles train`` and turned into suggestions by ``recommend``.
"""

from __future__ import annotations

import numpy as np

from miles.heads.features import REGISTRY

GROUP_OF_BLOCK = {"text": "title embedding", "image": "thumbnail embedding"}


def group_of(feature: str) -> str:
    """The creator-facing group of a feature name (scalar names, ``text_pc3``, ``image_7``...)."""
    block = feature.split("_", 1)[0]
    if block in GROUP_OF_BLOCK and (feature.startswith(("text_", "image_"))):
        return GROUP_OF_BLOCK[block]
    name = feature[len("metadata_"):] if feature.startswith("metadata_") else feature
    f = REGISTRY.get(name)
    return f.group if f else "other"


def tree_shap(head, X: np.ndarray, scalar_names: list[str]) -> tuple[np.ndarray, list[str]]:
    """SHAP values (n, k) of a LightGBM head's viral log-odds, with one name per column (scalars named).
    LightGBM computes them itself (``pred_contrib``: the same TreeSHAP as SHAP's ``TreeExplainer``, equal
    to it in the tests), so a prediction does not import the ``shap`` package."""
    Z = head.transform_features(X)
    values = np.asarray(head.model_.booster_.predict(Z, pred_contrib=True))[:, :-1]  # the last is the bias
    names = []
    for name in head.reducer_.names():
        if name.startswith("metadata_"):
            names.append(scalar_names[int(name.rsplit("_", 1)[1])])
        else:
            names.append(name)
    return values, names


def grouped(values: np.ndarray, names: list[str]) -> tuple[np.ndarray, list[str]]:
    """Sum SHAP columns by group: (n, k) → (n, g)."""
    groups = sorted({group_of(n) for n in names})
    out = np.zeros((values.shape[0], len(groups)))
    for j, n in enumerate(names):
        out[:, groups.index(group_of(n))] += values[:, j]
    return out, groups


PATTERN_FEATURES = ("title_chars", "title_words", "hashtag_count", "duration_s", "publish_hour")


def shap_patterns(head, X: np.ndarray, scalar_names: list[str], features=PATTERN_FEATURES, bins: int = 5,
                  max_rows: int = 2000, seed: int = 0) -> dict[str, list[dict]]:
    """The model's global pattern for each of ``features``: its rows split into quantile bins of the
    feature, with the mean SHAP value (viral log-odds) in each bin.

    ``{feature: [{"lo", "hi", "n", "effect"}, ...]}`` over up to ``max_rows`` rows of ``X`` (drawn with
    ``seed``); the feature's raw values are read from the scalar columns, which come first in ``X``.
    Features absent from the head, or with fewer than two distinct values, are left out."""
    rng = np.random.default_rng(seed)
    rows = np.sort(rng.choice(len(X), size=min(max_rows, len(X)), replace=False))
    Xs = X[rows]
    values, names = tree_shap(head, Xs, scalar_names)
    out = {}
    for f in features:
        if f not in scalar_names or f not in names:
            continue
        x = Xs[:, scalar_names.index(f)].astype(float)
        phi = values[:, names.index(f)]
        known = ~np.isnan(x)
        edges = np.unique(np.quantile(x[known], np.linspace(0, 1, bins + 1))) if known.any() else []
        if len(edges) < 3:
            continue
        idx = np.clip(np.searchsorted(edges, x[known], side="right") - 1, 0, len(edges) - 2)
        out[f] = [{"lo": float(edges[b]), "hi": float(edges[b + 1]), "n": int((idx == b).sum()),
                   "effect": round(float(phi[known][idx == b].mean()), 4)}
                  for b in range(len(edges) - 1) if (idx == b).any()]
    return out
