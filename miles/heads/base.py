"""What every head shares: the task contract, feature blocks, and per-block PCA.

    >>> blocks_of({"metadata": 10, "text": 384}, 394)      # [("metadata", slice(0, 10)), ("text", slice(10, 394))]
    >>> BlockReducer({"metadata": 10, "text": 384}, n_components=32).fit(X_train).transform(X)

A head follows scikit-learn's estimator contract (``__init__`` stores hyperparameters, ``fit`` returns
``self``, learned state ends in ``_``) and saves itself without pickling code: ``state()`` returns
``(json_config, tensors)`` and ``restore(params, config, tensors)`` rebuilds it (``miles.heads.persist``).
"""

from __future__ import annotations

from typing import Literal

import numpy as np

from miles.errors import MilesError

Task = Literal["viral", "velocity"]


def check_task(task: str) -> None:
    if task not in ("viral", "velocity"):
        raise MilesError(f"task must be 'viral' or 'velocity', got {task!r}")


def is_viral(est) -> bool:
    return est.task == "viral"


class Scores:
    """What every head, fitted or loaded for prediction, answers from its ``predict`` / ``predict_proba``."""

    task: str

    def score_values(self, X) -> np.ndarray:
        """The head's one number per row: P(viral) for ``viral``, predicted velocity for ``velocity``."""
        return self.predict_proba(X)[:, 1] if self.task == "viral" else self.predict(X)

    def predict_velocity(self, X) -> np.ndarray:
        """Velocity from a velocity head (a fusion head overrides this with its second output)."""
        if self.task != "velocity":
            raise TypeError(f"a {type(self).__name__} for {self.task} predicts no velocity")  # internal: a bug, not input
        return self.predict(X)


class HeadMixin(Scores):
    """Shared contract: the task picks classifier or regressor behaviour; inputs are validated the
    scikit-learn way (2-d, numeric, finite or NaN, same width as in ``fit``)."""

    task: str

    def __sklearn_tags__(self):
        from sklearn.utils import ClassifierTags, RegressorTags

        tags = super().__sklearn_tags__()
        viral = getattr(self, "task", "viral") == "viral"
        tags.estimator_type = "classifier" if viral else "regressor"
        tags.classifier_tags = ClassifierTags(multi_class=False) if viral else None
        tags.regressor_tags = None if viral else RegressorTags()
        tags.input_tags.allow_nan = True  # NaN means "unknown" (a creator with no history)
        return tags

    def _check_X(self, X, reset: bool) -> np.ndarray:
        from sklearn.utils.validation import check_is_fitted, validate_data

        if not reset:
            check_is_fitted(self)
        return validate_data(self, X, reset=reset, dtype=np.float32, ensure_all_finite="allow-nan")

    def _check_Xy(self, X, y):
        from sklearn.utils.multiclass import check_classification_targets
        from sklearn.utils.validation import validate_data

        check_task(self.task)
        X, y = validate_data(self, X, y, dtype=np.float32, ensure_all_finite="allow-nan", y_numeric=not is_viral(self))
        if is_viral(self):
            check_classification_targets(y)
            self.classes_ = np.unique(y)
            if len(self.classes_) > 2:
                raise MilesError(f"Only binary classification is supported: a viral head takes 0/1 labels, "
                                 f"got classes {self.classes_.tolist()}")
            if len(self.classes_) < 2:
                raise MilesError(f"a viral head needs both classes in its training rows, got only one class, "
                                 f"{self.classes_.tolist()}: use more rows or a larger viral_fraction")
        return X, y

    def score(self, X, y) -> float:
        """Accuracy for ``viral``, R² for ``velocity`` (scikit-learn's defaults)."""
        from sklearn.metrics import accuracy_score, r2_score

        return float(accuracy_score(y, self.predict(X)) if is_viral(self) else r2_score(y, self.predict(X)))

    # ---- persistence: subclasses implement these two -------------------------------------------
    def state(self) -> tuple[dict, dict[str, np.ndarray]]:
        raise NotImplementedError

    @classmethod
    def restore(cls, params: dict, config: dict, tensors: dict[str, np.ndarray]):
        raise NotImplementedError


def blocks_of(block_sizes: dict[str, int] | None, n_features: int) -> list[tuple[str, slice]]:
    if not block_sizes:
        return [("metadata", slice(0, n_features))]
    out, start = [], 0
    for name, size in block_sizes.items():
        out.append((name, slice(start, start + size)))
        start += size
    if start != n_features:
        raise MilesError(f"block_sizes add up to {start} columns, X has {n_features}")
    return out


class BlockReducer:
    """Per embedding block, a PCA fit on the rows given to ``fit`` (training rows only); the metadata
    block passes through."""

    def __init__(self, block_sizes, n_components: int, random_state: int = 0):
        self.block_sizes, self.n_components, self.random_state = block_sizes, n_components, random_state

    def fit(self, X: np.ndarray) -> BlockReducer:
        from sklearn.decomposition import PCA

        self.blocks_ = blocks_of(self.block_sizes, X.shape[1])
        self.pcas_ = {}
        self.__dict__.pop("projections_", None)
        for name, sl in self.blocks_:
            if name != "metadata" and self.n_components:
                k = min(self.n_components, sl.stop - sl.start, max(1, X.shape[0] - 1))
                self.pcas_[name] = PCA(n_components=k, random_state=self.random_state).fit(X[:, sl])
        return self

    def _projections(self) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        if not hasattr(self, "projections_"):  # fitted here: PCA's components and mean, as saved
            self.projections_ = {n: (p.components_.astype(np.float64), p.mean_.astype(np.float64))
                                 for n, p in self.pcas_.items()}
        return self.projections_

    def transform(self, X: np.ndarray) -> np.ndarray:
        """PCA's projection (``(x - mean) @ components.T``, no whitening) of each reduced block, in numpy: a
        fitted reducer and a restored one compute it alike, and a prediction needs no scikit-learn."""
        proj = self._projections()
        parts = [(X[:, sl] - proj[n][1]) @ proj[n][0].T if n in proj else X[:, sl] for n, sl in self.blocks_]
        return np.hstack(parts).astype(np.float32)

    def names(self) -> list[str]:
        out, proj = [], self._projections()
        for n, sl in self.blocks_:
            k = len(proj[n][0]) if n in proj else sl.stop - sl.start
            out += [f"{n}_pc{i}" if n in proj else f"{n}_{i}" for i in range(k)]
        return out

    def state(self) -> tuple[dict, dict[str, np.ndarray]]:
        proj = self._projections()
        cfg = {"block_sizes": self.block_sizes, "n_components": self.n_components,
               "random_state": self.random_state, "pca_blocks": list(proj)}
        tensors = {}
        for name, (components, mean) in proj.items():
            tensors[f"pca.{name}.components"] = components
            tensors[f"pca.{name}.mean"] = mean
        return cfg, tensors

    @classmethod
    def restore(cls, cfg: dict, tensors: dict, n_features: int) -> BlockReducer:
        r = cls(cfg["block_sizes"], cfg["n_components"], cfg["random_state"])
        r.blocks_ = blocks_of(cfg["block_sizes"], n_features)
        r.projections_ = {name: (np.asarray(tensors[f"pca.{name}.components"], np.float64),
                                 np.asarray(tensors[f"pca.{name}.mean"], np.float64)) for name in cfg["pca_blocks"]}
        return r
