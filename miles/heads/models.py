"""The heads that are not neural: built by name in ``miles.heads.registry`` (scikit-learn's estimator contract).

    >>> head = create_head("lightgbm", task="viral", block_sizes={"metadata": 10, "text": 384})
    >>> head.fit(X_train, y_train).predict_proba(X_test)[:, 1]

- ``BaselineHead``: TF-IDF + logistic (ridge for velocity) regression on the title text (X: 1-d strings).
- ``CreatorPriorHead``: the creator's trailing median velocity, the number to beat (X: metadata block).
- ``LightGBMHead``: gradient-boosted trees; embedding blocks reduced by PCA fit on the training rows.

``task`` is ``viral`` (a classifier: ``predict_proba``) or ``velocity`` (a regressor: ``predict``). No head
weights its classes: every probability is an unweighted estimate, so Brier and ECE mean the same for all
(``miles.heads.calibration`` then fits the map from these to calibrated probabilities). Rows are expected
in time order: the last ``validation_fraction`` of the training rows is the early-stopping slice.
"""

from __future__ import annotations

import warnings

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils.metaestimators import available_if

from miles.heads.base import BlockReducer, HeadMixin, Task, check_task, is_viral


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

        check_task(self.task)
        texts = _texts(X)
        y = np.asarray(y)
        self.vectoriser_ = self._vectoriser()
        try:
            Z = self.vectoriser_.fit_transform(texts)
        except ValueError:  # every text empty or unique: fall back to single characters
            self.vectoriser_ = self._vectoriser().set_params(words__min_df=1, chars__min_df=1)
            Z = self.vectoriser_.fit_transform(texts)
        if self.task == "viral":
            self.model_ = LogisticRegression(C=self.C, max_iter=2000).fit(Z, y)
            self.classes_ = self.model_.classes_
        else:
            self.model_ = Ridge(alpha=self.alpha).fit(Z, y.astype(float))
        return self

    @available_if(is_viral)
    def predict_proba(self, X):
        return self.model_.predict_proba(self.vectoriser_.transform(_texts(X)))

    def predict(self, X):
        Z = self.vectoriser_.transform(_texts(X))
        return self.model_.predict(Z)

    def state(self):
        words, chars = (t for _, t in self.vectoriser_.transformer_list)
        cfg = {"words_vocab": {k: int(v) for k, v in words.vocabulary_.items()},
               "chars_vocab": {k: int(v) for k, v in chars.vocabulary_.items()}}
        tensors = {"words_idf": words.idf_, "chars_idf": chars.idf_, "coef": np.atleast_2d(self.model_.coef_),
                   "intercept": np.atleast_1d(self.model_.intercept_)}
        if self.task == "viral":
            tensors["classes"] = self.model_.classes_
        return cfg, tensors

    @classmethod
    def restore(cls, params, config, tensors):
        from sklearn.linear_model import LogisticRegression, Ridge

        head = cls(**params)
        vec = head._vectoriser()
        words, chars = (t for _, t in vec.transformer_list)
        for t, voc, idf in ((words, config["words_vocab"], tensors["words_idf"]),
                            (chars, config["chars_vocab"], tensors["chars_idf"])):
            t.vocabulary_ = voc
            t.idf_ = idf
        head.vectoriser_ = vec
        if head.task == "viral":
            head.model_ = LogisticRegression()
            head.model_.classes_ = head.classes_ = tensors["classes"]
            head.model_.coef_, head.model_.intercept_ = tensors["coef"], tensors["intercept"]
        else:
            head.model_ = Ridge()
            head.model_.coef_, head.model_.intercept_ = tensors["coef"][0], float(tensors["intercept"][0])
        return head



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

    @available_if(is_viral)
    def predict_proba(self, X):
        prior = self._prior(self._check_X(X, reset=False))
        return self.model_.predict_proba(prior[:, None])

    def predict(self, X):
        X = self._check_X(X, reset=False)
        if self.task == "viral":
            return self.model_.predict(self._prior(X)[:, None])
        return self._prior(X)

    def state(self):
        cfg = {"fill": self.fill_, "n_features_in": self.n_features_in_}
        tensors = {}
        if self.task == "viral":
            tensors = {"coef": self.model_.coef_, "intercept": self.model_.intercept_, "classes": self.model_.classes_}
        return cfg, tensors

    @classmethod
    def restore(cls, params, config, tensors):
        from sklearn.linear_model import LogisticRegression

        head = cls(**params)
        head.fill_, head.n_features_in_ = config["fill"], config["n_features_in"]
        if head.task == "viral":
            head.model_ = LogisticRegression()
            head.model_.coef_, head.model_.intercept_, head.model_.classes_ = (
                tensors["coef"], tensors["intercept"], tensors["classes"])
            head.classes_ = head.model_.classes_
        return head



class LightGBMHead(HeadMixin, BaseEstimator):
    def __init__(self, task: Task = "viral", block_sizes: dict[str, int] | None = None, n_components: int = 32,
                 n_estimators: int = 600, learning_rate: float = 0.03, num_leaves: int = 15,
                 min_child_samples: int = 20, subsample: float = 0.8, colsample_bytree: float = 0.8,
                 validation_fraction: float = 0.15, early_stopping_rounds: int = 50, max_bin: int = 63,
                 random_state: int = 0):
        self.task, self.block_sizes, self.n_components = task, block_sizes, n_components
        self.n_estimators, self.learning_rate, self.num_leaves = n_estimators, learning_rate, num_leaves
        self.min_child_samples, self.subsample, self.colsample_bytree = min_child_samples, subsample, colsample_bytree
        self.validation_fraction, self.early_stopping_rounds = validation_fraction, early_stopping_rounds
        self.max_bin, self.random_state = max_bin, random_state  # 63 bins: heads train on thousands of rows

    def _params(self) -> dict:
        return dict(n_estimators=self.n_estimators, learning_rate=self.learning_rate, num_leaves=self.num_leaves,
                    min_child_samples=self.min_child_samples, subsample=self.subsample, subsample_freq=1,
                    colsample_bytree=self.colsample_bytree, random_state=self.random_state, n_jobs=2, verbose=-1,
                    deterministic=True, force_col_wise=True, max_bin=self.max_bin)

    def fit(self, X, y):
        from miles.heads.booster import lightgbm

        lgb = lightgbm(sklearn=True)
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

    @available_if(is_viral)
    def predict_proba(self, X):
        Z = self.transform_features(X)
        return self.model_.predict_proba(Z)

    def predict(self, X):
        Z = self.transform_features(X)
        return self.model_.predict(Z)

    def state(self):
        rcfg, tensors = self.reducer_.state()
        cfg = {"reducer": rcfg, "n_features_in": self.n_features_in_, "feature_names": self.feature_names_,
               "files": {"model.txt": self.model_.booster_.model_to_string()}}
        return cfg, tensors
