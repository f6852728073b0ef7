"""Save and load heads without pickling code: LightGBM model text, tensors as safetensors, config as JSON.

    save_head(head, "store/heads/lightgbm/pre_upload/viral", meta={...})
    head, meta = load_head("store/heads/lightgbm/pre_upload/viral")

``meta`` is what the artifact must say about itself: label spec, moment, feature list, encoder
fingerprints, the store versions it read.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from miles.heads.models import BaselineHead, BlockReducer, CreatorPriorHead, LightGBMHead

FORMAT = 1


def _tensors_save(path: Path, tensors: dict[str, np.ndarray]) -> None:
    from safetensors.numpy import save_file

    save_file({k: np.ascontiguousarray(v) for k, v in tensors.items()}, str(path))


def _tensors_load(path: Path) -> dict[str, np.ndarray]:
    from safetensors.numpy import load_file

    return load_file(str(path))


def _reducer_state(r: BlockReducer) -> tuple[dict, dict]:
    cfg = {"block_sizes": r.block_sizes, "n_components": r.n_components, "random_state": r.random_state,
           "pca_blocks": list(r.pcas_)}
    tensors = {}
    for name, pca in r.pcas_.items():
        tensors[f"pca.{name}.components"] = pca.components_.astype(np.float64)
        tensors[f"pca.{name}.mean"] = pca.mean_.astype(np.float64)
    return cfg, tensors


def _reducer_load(cfg: dict, tensors: dict, n_features: int) -> BlockReducer:
    from sklearn.decomposition import PCA

    from miles.heads.models import blocks_of

    r = BlockReducer(cfg["block_sizes"], cfg["n_components"], cfg["random_state"])
    r.blocks_ = blocks_of(cfg["block_sizes"], n_features)
    r.pcas_ = {}
    for name in cfg["pca_blocks"]:
        pca = PCA(n_components=tensors[f"pca.{name}.components"].shape[0])
        pca.components_ = tensors[f"pca.{name}.components"]
        pca.mean_ = tensors[f"pca.{name}.mean"]
        pca.n_components_ = pca.components_.shape[0]
        pca.whiten = False
        r.pcas_[name] = pca
    return r


def save_head(head, folder: str | Path, meta: dict | None = None) -> Path:
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    kind = type(head).__name__
    cfg = {"format": FORMAT, "class": kind, "params": head.get_params(), "meta": meta or {}}
    tensors: dict[str, np.ndarray] = {}
    if isinstance(head, LightGBMHead):
        (folder / "model.txt").write_text(head.model_.booster_.model_to_string())
        rcfg, tensors = _reducer_state(head.reducer_)
        cfg["state"] = {"reducer": rcfg, "n_features_in": head.n_features_in_, "feature_names": head.feature_names_}
    elif isinstance(head, CreatorPriorHead):
        cfg["state"] = {"fill": head.fill_, "n_features_in": head.n_features_in_}
        if head.task == "viral":
            tensors = {"coef": head.model_.coef_, "intercept": head.model_.intercept_, "classes": head.model_.classes_}
    elif isinstance(head, BaselineHead):
        words, chars = (t for _, t in head.vectoriser_.transformer_list)
        cfg["state"] = {"words_vocab": {k: int(v) for k, v in words.vocabulary_.items()},
                        "chars_vocab": {k: int(v) for k, v in chars.vocabulary_.items()}}
        tensors = {"words_idf": words.idf_, "chars_idf": chars.idf_, "coef": np.atleast_2d(head.model_.coef_),
                   "intercept": np.atleast_1d(head.model_.intercept_)}
        if head.task == "viral":
            tensors["classes"] = head.model_.classes_
    else:
        from miles.heads.mlp import MLPHead

        if not isinstance(head, MLPHead):
            raise TypeError(f"cannot save a {kind}")
        tensors = {f"model.{k}": v.detach().cpu().numpy() for k, v in head.model_.state_dict().items()}
        if hasattr(head, "mean_"):
            tensors.update(mean=head.mean_, std=head.std_)
        cfg["state"] = {"block_dims": head.block_dims_, "vel_mean": head.vel_mean_, "vel_std": head.vel_std_,
                        "n_features_in": head.n_features_in_}
    if tensors:
        _tensors_save(folder / "tensors.safetensors", tensors)
    (folder / "config.json").write_text(json.dumps(cfg, indent=2, default=str))
    return folder


def load_head(folder: str | Path):
    """The head and its ``meta``; predictions equal those of the head that was saved."""
    folder = Path(folder)
    if not (folder / "config.json").exists():
        raise FileNotFoundError(f"no saved head in {folder}: run `miles train` first")
    cfg = json.loads((folder / "config.json").read_text())
    tensors = _tensors_load(folder / "tensors.safetensors") if (folder / "tensors.safetensors").exists() else {}
    kind, params, state = cfg["class"], cfg["params"], cfg.get("state", {})
    if kind == "LightGBMHead":
        import lightgbm as lgb

        head = LightGBMHead(**params)
        booster = lgb.Booster(model_str=(folder / "model.txt").read_text())
        head.model_ = _BoosterModel(booster, head.task)
        head.reducer_ = _reducer_load(state["reducer"], tensors, state["n_features_in"])
        head.feature_names_ = state["feature_names"]
        head.n_features_in_ = state["n_features_in"]
        if head.task == "viral":
            head.classes_ = np.array([0, 1])
    elif kind == "CreatorPriorHead":
        from sklearn.linear_model import LogisticRegression

        head = CreatorPriorHead(**params)
        head.fill_ = state["fill"]
        head.n_features_in_ = state["n_features_in"]
        if head.task == "viral":
            head.model_ = LogisticRegression()
            head.model_.coef_, head.model_.intercept_, head.model_.classes_ = (
                tensors["coef"], tensors["intercept"], tensors["classes"])
            head.classes_ = head.model_.classes_
    elif kind == "BaselineHead":
        from sklearn.linear_model import LogisticRegression, Ridge

        head = BaselineHead(**params)
        vec = head._vectoriser()
        words, chars = (t for _, t in vec.transformer_list)
        for t, voc, idf in ((words, state["words_vocab"], tensors["words_idf"]),
                            (chars, state["chars_vocab"], tensors["chars_idf"])):
            t.vocabulary_ = voc
            t.idf_ = idf
        head.vectoriser_ = vec
        if head.task == "viral":
            head.model_ = LogisticRegression()
            head.model_.classes_ = tensors["classes"]
            head.classes_ = head.model_.classes_
        else:
            head.model_ = Ridge()
        head.model_.coef_ = tensors["coef"] if head.task == "viral" else tensors["coef"][0]
        head.model_.intercept_ = tensors["intercept"] if head.task == "viral" else float(tensors["intercept"][0])
    elif kind == "MLPHead":
        import torch

        from miles.heads.mlp import MLPHead, _build
        from miles.heads.models import blocks_of

        head = MLPHead(**params)
        head.block_dims_ = state["block_dims"]
        head.blocks_ = blocks_of(params["block_sizes"], state["n_features_in"])
        head.vel_mean_, head.vel_std_ = state["vel_mean"], state["vel_std"]
        head.n_features_in_ = state["n_features_in"]
        if "mean" in tensors:
            head.mean_, head.std_ = tensors["mean"], tensors["std"]
        head.model_ = _build(head.block_dims_, head.proj, head.hidden, head.dropout)
        head.model_.load_state_dict({k[len("model."):]: torch.from_numpy(v.copy()) for k, v in tensors.items()
                                     if k.startswith("model.")})
        head.model_.eval()
        if head.task == "viral":
            head.classes_ = np.array([0, 1])
    else:
        raise ValueError(f"{folder}: unknown head class {kind!r}")
    return head, cfg.get("meta", {})


class _BoosterModel:
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
