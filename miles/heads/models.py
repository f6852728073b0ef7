"""Heads: small models on the cached vectors, built by name (scikit-learn's estimator contract).

    >>> head = create_head("lightgbm", task="viral", block_sizes={"metadata": 10, "text": 384})
    >>> head.fit(X_train, y_train).predict_proba(X_test)[:, 1]

- ``baseline``: TF-IDF + logistic (ridge for velocity) regression on the title text (X: 1-d strings).
- ``creator_prior``: the creator's trailing median velocity, the number to beat (X: metadata block).
- ``lightgbm``: gradient-boosted trees; embedding blocks reduced by PCA fit on the training rows.
- ``mlp``: the PyTorch fusion MLP in ``miles.heads.mlp``.

``task`` is ``viral`` (a classifier: ``predict_proba``) or ``velocity`` (a regressor: ``predict``). Rows
are expected in time order: the last ``validation_fraction`` of the training rows is the early-stopping
slice.
"""

from __future__ import annotations

import warnings
from typing import Literal

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils.metaestimators import available_if

Task = Literal["viral", "velocity"]


def _check_task(task: str) -> None:
    if task not in ("viral", "velocity"):
        raise ValueError(f"task must be 'viral' or 'velocity', got {task!r}")


def _is_viral(est) -> bool:
    return est.task == "viral"


class HeadMixin:
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

        _check_task(self.task)
        X, y = validate_data(self, X, y, dtype=np.float32, ensure_all_finite="allow-nan", y_numeric=not _is_viral(self))
        if _is_viral(self):
            check_classification_targets(y)
            self.classes_ = np.unique(y)
            if len(self.classes_) > 2:
                raise ValueError(f"Only binary classification is supported: a viral head takes 0/1 labels, "
                                 f"got classes {self.classes_.tolist()}")
            if len(self.classes_) < 2:
                raise ValueError(f"a viral head needs both classes in its training rows, got only one class, "
                                 f"{self.classes_.tolist()}: use more rows or a larger viral_fraction")
        return X, y

    def score(self, X, y) -> float:
        """Accuracy for ``viral``, R² for ``velocity`` (scikit-learn's defaults)."""
        from sklearn.metrics import accuracy_score, r2_score

        return float(accuracy_score(y, self.predict(X)) if _is_viral(self) else r2_score(y, self.predict(X)))

    def score_values(self, X) -> np.ndarray:
        """The head's one number per row: P(viral) for ``viral``, predicted velocity for ``velocity``."""
        return self.predict_proba(X)[:, 1] if self.task == "viral" else self.predict(X)


def blocks_of(block_sizes: dict[str, int] | None, n_features: int) -> list[tuple[str, slice]]:
    if not block_sizes:
        return [("metadata", slice(0, n_features))]
    out, start = [], 0
    for name, size in block_sizes.items():
        out.append((name, slice(start, start + size)))
        start += size
    if start != n_features:
        raise ValueError(f"block_sizes add up to {start} columns, X has {n_features}")
    return out


class BlockReducer:
    """Per embedding block, a PCA fit on the training rows; the metadata block passes through."""

    def __init__(self, block_sizes, n_components: int, random_state: int = 0):
        self.block_sizes, self.n_components, self.random_state = block_sizes, n_components, random_state

    def fit(self, X: np.ndarray) -> BlockReducer:
        from sklearn.decomposition import PCA

        self.blocks_ = blocks_of(self.block_sizes, X.shape[1])
        self.pcas_ = {}
        for name, sl in self.blocks_:
            if name != "metadata" and self.n_components:
                k = min(self.n_components, sl.stop - sl.start, max(1, X.shape[0] - 1))
                self.pcas_[name] = PCA(n_components=k, random_state=self.random_state).fit(X[:, sl])
        return self

    def transform(self, X: np.ndarray) -> np.ndarray:
        parts = [self.pcas_[n].transform(X[:, sl]) if n in self.pcas_ else X[:, sl] for n, sl in self.blocks_]
        return np.hstack(parts).astype(np.float32)

    def names(self) -> list[str]:
        out = []
        for n, sl in self.blocks_:
            k = self.pcas_[n].n_components_ if n in self.pcas_ else sl.stop - sl.start
            out += [f"{n}_pc{i}" if n in self.pcas_ else f"{n}_{i}" for i in range(k)]
        return out


class BaselineHead(HeadMixin, BaseEstimator):
    """TF-IDF (word 1-2 grams and character 2-4 grams, so emoji and non-Latin titles count) + a linear model."""

    def __init__(self, task: Task = "viral", C: float = 1.0, alpha: float = 1.0, max_features: int = 20000):
        self.task, self.C, self.alpha, self.max_features = task, C, alpha, max_features

    def _vectoriser(self):
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.pipeline import FeatureUnion

        return FeatureUnion([
            ("words", TfidfVectorizer(ngram_range=(1, 2), min_df=2, max_features=self.max_features, sublinear_tf=True)),
            ("chars", TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 4), min_df=2, max_features=self.max_features,
                                      sublinear_tf=True)),
        ])

    def fit(self, X, y):
        from sklearn.linear_model import LogisticRegression, Ridge

        _check_task(self.task)
        texts = _texts(X)
        y = np.asarray(y)
        self.vectoriser_ = self._vectoriser()
        try:
            Z = self.vectoriser_.fit_transform(texts)
        except ValueError:  # every text empty or unique: fall back to single characters
            self.vectoriser_ = self._vectoriser().set_params(words__min_df=1, chars__min_df=1)
            Z = self.vectoriser_.fit_transform(texts)
        if self.task == "viral":
            self.model_ = LogisticRegression(C=self.C, max_iter=2000, class_weight="balanced").fit(Z, y)
            self.classes_ = self.model_.classes_
        else:
            self.model_ = Ridge(alpha=self.alpha).fit(Z, y.astype(float))
        return self

    @available_if(_is_viral)
    def predict_proba(self, X):
        return self.model_.predict_proba(self.vectoriser_.transform(_texts(X)))

    def predict(self, X):
        Z = self.vectoriser_.transform(_texts(X))
        return self.model_.predict(Z)


def _texts(X) -> list[str]:
    arr = np.asarray(X, dtype=object)
    if arr.ndim == 2:
        arr = arr[:, 0]
    return ["" if t is None else str(t) for t in arr]


class CreatorPriorHead(HeadMixin, BaseEstimator):
    """Predicts from the creator's trailing median alone: velocity = prior (the training median where a
    creator has no history); P(viral) = a logistic fit of the label on the prior."""

    def __init__(self, task: Task = "viral", prior_column: int = 0):
        self.task, self.prior_column = task, prior_column

    def _prior(self, X) -> np.ndarray:
        p = np.asarray(X, dtype=float)[:, self.prior_column]
        return np.where(np.isnan(p), self.fill_, p)

    def fit(self, X, y):
        from sklearn.linear_model import LogisticRegression

        X, y = self._check_Xy(X, y)
        p = X[:, self.prior_column].astype(float)
        # A creator with no history: the typical prior; with no history anywhere, the typical target.
        if np.isfinite(p).any():
            self.fill_ = float(np.nanmedian(p))
        else:
            self.fill_ = 0.0 if self.task == "viral" else float(np.median(y))
        if self.task == "viral":
            self.model_ = LogisticRegression().fit(self._prior(X)[:, None], y)
        return self

    @available_if(_is_viral)
    def predict_proba(self, X):
        prior = self._prior(self._check_X(X, reset=False))
        return self.model_.predict_proba(prior[:, None])

    def predict(self, X):
        X = self._check_X(X, reset=False)
        if self.task == "viral":
            return self.model_.predict(self._prior(X)[:, None])
        return self._prior(X)


class LightGBMHead(HeadMixin, BaseEstimator):
    def __init__(self, task: Task = "viral", block_sizes: dict[str, int] | None = None, n_components: int = 32,
                 n_estimators: int = 600, learning_rate: float = 0.03, num_leaves: int = 15,
                 min_child_samples: int = 20, subsample: float = 0.8, colsample_bytree: float = 0.8,
                 validation_fraction: float = 0.15, early_stopping_rounds: int = 50, random_state: int = 0):
        self.task, self.block_sizes, self.n_components = task, block_sizes, n_components
        self.n_estimators, self.learning_rate, self.num_leaves = n_estimators, learning_rate, num_leaves
        self.min_child_samples, self.subsample, self.colsample_bytree = min_child_samples, subsample, colsample_bytree
        self.validation_fraction, self.early_stopping_rounds = validation_fraction, early_stopping_rounds
        self.random_state = random_state

    def _params(self) -> dict:
        return dict(n_estimators=self.n_estimators, learning_rate=self.learning_rate, num_leaves=self.num_leaves,
                    min_child_samples=self.min_child_samples, subsample=self.subsample, subsample_freq=1,
                    colsample_bytree=self.colsample_bytree, random_state=self.random_state, n_jobs=2, verbose=-1,
                    deterministic=True, force_row_wise=True)

    def fit(self, X, y):
        import lightgbm as lgb

        X, y = self._check_Xy(X, y)
        n_val = int(len(X) * self.validation_fraction) if len(X) >= 50 else 0
        fit_rows = slice(0, len(X) - n_val)
        self.reducer_ = BlockReducer(self.block_sizes, self.n_components, self.random_state).fit(X[fit_rows])
        Z = self.reducer_.transform(X)
        self.feature_names_ = self.reducer_.names()
        cls = lgb.LGBMClassifier if self.task == "viral" else lgb.LGBMRegressor
        self.model_ = cls(**self._params())
        kw = {}
        if n_val and (self.task != "viral" or len(np.unique(y[-n_val:])) > 1):
            kw = dict(eval_set=[(Z[-n_val:], y[-n_val:])],
                      callbacks=[lgb.early_stopping(self.early_stopping_rounds, verbose=False)])
            Z_fit, y_fit = Z[:-n_val], y[:-n_val]
        else:
            Z_fit, y_fit = Z, y
        with warnings.catch_warnings():  # lightgbm 4.6+ renames eval_set; older releases lack the new name
            warnings.simplefilter("ignore", category=FutureWarning)
            warnings.filterwarnings("ignore", message=".*eval_set.*")
            self.model_.fit(Z_fit, y_fit, **kw)
        return self

    def transform_features(self, X) -> np.ndarray:
        X = self._check_X(X, reset=False)
        return self.reducer_.transform(X)

    @available_if(_is_viral)
    def predict_proba(self, X):
        Z = self.transform_features(X)
        return self.model_.predict_proba(Z)

    def predict(self, X):
        Z = self.transform_features(X)
        return self.model_.predict(Z)


HEADS = {
    "baseline": (BaselineHead, "TF-IDF + logistic regression on titles (the original project's baseline)"),
    "creator_prior": (CreatorPriorHead, "the creator's trailing median velocity (the one to beat)"),
    "lightgbm": (LightGBMHead, "LightGBM on metadata and PCA-reduced embeddings, early stopping"),
    "mlp": (None, "PyTorch fusion MLP: per-modality projections, two outputs (viral logit, velocity)"),
}


def list_heads() -> list[str]:
    return list(HEADS)


def create_head(name: str, **params):
    if name not in HEADS:
        raise ValueError(f"unknown head {name!r}; valid: {', '.join(HEADS)}")
    if name == "mlp":
        from miles.heads.mlp import MLPHead

        return MLPHead(**params)
    return HEADS[name][0](**params)
