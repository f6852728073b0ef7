"""A saved LightGBM head as it predicts: the booster and the block projections, without scikit-learn.

    head, meta = load_head("store/heads/lightgbm/pre_upload/viral")   # a BoosterHead (miles.heads.persist)
    head.predict_proba(X)[:, 1]

``LightGBMHead`` is a scikit-learn estimator, and defining it imports scikit-learn (about 3 s on a 2-core
machine, most of a cold ``miles predict``). What a prediction needs is LightGBM's ``Booster`` and the
projections that ``BlockReducer`` computes in numpy, so a saved head loads into this class instead: the
same numbers as the head that was saved (tested in ``tests/heads/test_models.py``).
"""

from __future__ import annotations

import numpy as np

from miles.errors import MilesError
from miles.heads.base import BlockReducer, Scores
from miles.heads.lgb_check import checked_model_text


def lightgbm(sklearn: bool = True):
    """The ``lightgbm`` module. LightGBM imports scikit-learn (and with it ``scipy.stats``: about 2.5 s on a
    2-core machine) for its estimator wrappers whenever scikit-learn is installed. A prediction needs only
    the ``Booster``, so with ``sklearn=False`` and scikit-learn not loaded yet, LightGBM is imported as if it
    were absent. Asked later with ``sklearn=True`` (to fit a head), that import is replaced by a full one;
    boosters made before keep working."""
    import importlib
    import sys

    mod = sys.modules.get("lightgbm")
    if mod is not None and (not sklearn or mod.compat.SKLEARN_INSTALLED):
        return mod
    if mod is not None:  # imported without its wrappers: import it again, whole
        for name in [n for n in sys.modules if n == "lightgbm" or n.startswith("lightgbm.")]:
            del sys.modules[name]
        return importlib.import_module("lightgbm")
    if sklearn or "sklearn" in sys.modules:
        return importlib.import_module("lightgbm")
    sys.modules["sklearn"] = None  # makes `import sklearn` raise ImportError, for this import only
    try:
        return importlib.import_module("lightgbm")
    finally:
        if sys.modules.get("sklearn", 0) is None:
            del sys.modules["sklearn"]


class BoosterHead(Scores):
    """The prediction side of ``LightGBMHead``: ``predict_proba`` / ``predict`` / ``score_values`` and the
    attributes that the explanations read (``model_.booster_``, ``reducer_``, ``feature_names_``)."""

    def __init__(self, params: dict, booster, reducer: BlockReducer, feature_names: list[str], n_features_in: int):
        self.params, self.task = params, params.get("task", "viral")
        self.model_ = BoosterModel(booster, self.task)
        self.reducer_, self.feature_names_, self.n_features_in_ = reducer, feature_names, n_features_in
        if self.task == "viral":
            self.classes_ = np.array([0, 1])

    @classmethod
    def restore(cls, params: dict, config: dict, tensors: dict[str, np.ndarray]) -> BoosterHead:
        lgb = lightgbm(sklearn=False)
        booster = lgb.Booster(model_str=checked_model_text(config["files"]["model.txt"]))
        reducer = BlockReducer.restore(config["reducer"], tensors, config["n_features_in"])
        return cls(params, booster, reducer, config["feature_names"], config["n_features_in"])

    def get_params(self, deep: bool = True) -> dict:
        return dict(self.params)

    def transform_features(self, X) -> np.ndarray:
        X = np.asarray(X, dtype=np.float32)
        if X.ndim != 2 or X.shape[1] != self.n_features_in_:
            raise MilesError(f"X has shape {X.shape}; this head takes (n, {self.n_features_in_})")
        if np.isinf(X).any():
            raise MilesError("X holds an infinite value; NaN (unknown) is allowed")
        return self.reducer_.transform(X)

    def predict_proba(self, X) -> np.ndarray:
        if self.task != "viral":
            raise AttributeError("a velocity head has no predict_proba")  # internal: a bug, not input
        return self.model_.predict_proba(self.transform_features(X))

    def predict(self, X) -> np.ndarray:
        return self.model_.predict(self.transform_features(X))



class BoosterModel:
    """The parts of LGBMClassifier / LGBMRegressor that a loaded head uses, over a plain Booster."""

    def __init__(self, booster, task: str):
        self.booster_, self.task = booster, task
        self.classes_ = np.array([0, 1])

    def predict_proba(self, Z):
        p = self.booster_.predict(Z)
        return np.column_stack([1 - p, p])

    def predict(self, Z):
        p = self.booster_.predict(Z)
        return (p >= 0.5).astype(int) if self.task == "viral" else p
