"""``miles eval``: fit each head on the training part of each split and score the test part, honestly.

    result = evaluate(store, EvalConfig(moments=("pre_upload",), splits=("time", "creator")))
    result.records     # [{"head", "moment", "split", "features", "metric", "value", "ci_low", "ci_high", "n"}]

No ``miles train`` is needed first. Labels are fit on the training rows of each split only; the
embedding reductions (PCA) inside the heads are fit on training rows only; intervals resample creators.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from miles.eval.metrics import CLASSIFICATION, REGRESSION, bootstrap_samples, paired_gain, with_interval
from miles.eval.splits import split_indices
from miles.heads.dataset import FeatureSet, build_features
from miles.heads.labels import LabelSpec
from miles.heads.models import create_head
from miles.store import Store

log = logging.getLogger(__name__)

ABLATIONS = (("metadata",), ("metadata", "text"), ("metadata", "image"), ("metadata", "text", "image"))


@dataclass
class EvalConfig:
    heads: tuple[str, ...] = ("baseline", "creator_prior", "lightgbm", "mlp")
    moments: tuple[str, ...] = ("pre_upload", "early_1h", "early_6h", "early_24h")
    splits: tuple[str, ...] = ("time", "creator", "random")
    spec: LabelSpec = field(default_factory=lambda: LabelSpec(age_hours=168.0))
    test_fraction: float = 0.3
    n_boot: int = 200
    seed: int = 0
    ablations: bool = True
    purge: bool = True  # time split: drop training rows whose outcome was not yet known at the cut
    progress: bool = True


@dataclass
class Fitted:
    """One head fitted on one split: its test scores, kept for curves, gains and the report."""

    head: str
    moment: str
    split: str
    features: str
    test_idx: np.ndarray
    p_viral: np.ndarray
    velocity: np.ndarray
    model: object = None  # the viral model (for SHAP)
    X_test: np.ndarray | None = None
    feature_names: list[str] | None = None


@dataclass
class EvalResult:
    records: list[dict]
    gains: list[dict]
    fitted: list[Fitted]
    labels: dict  # (moment, split) -> (y_viral, y_velocity, groups) over all rows
    features: dict  # moment -> FeatureSet
    seconds: float = 0.0

    def table(self, metrics=("auroc", "velocity_mae")) -> pd.DataFrame:
        df = pd.DataFrame(self.records)
        df = df[df["metric"].isin(metrics)]
        df["cell"] = df.apply(lambda r: f"{r.value:.3f} [{r.ci_low:.3f}, {r.ci_high:.3f}]", axis=1)
        return df.pivot_table(index=["moment", "split", "head", "features"], columns="metric", values="cell",
                              aggfunc="first").reset_index()


def _block_sizes(fs: FeatureSet, blocks) -> dict[str, int]:
    sizes = {"metadata": len(fs.scalar_names)}
    if fs.text is not None:
        sizes["text"] = fs.text.shape[1]
    if fs.image is not None:
        sizes["image"] = fs.image.shape[1]
    return {b: sizes[b] for b in blocks}


def _variants(fs: FeatureSet, head: str, ablations: bool):
    """(features label, X builder, block sizes) for each input variant of a head."""
    if head == "baseline":
        yield "title", (lambda idx: fs.texts[idx]), None
        return
    if head == "creator_prior":
        yield "creator_prior", (lambda idx: fs.X(["metadata"])[idx]), None
        return
    avail = [b for b in ("metadata", "text", "image") if b == "metadata" or getattr(fs, b) is not None]
    combos = [c for c in ABLATIONS if all(b in avail for b in c)] if ablations else [tuple(avail)]
    for combo in combos:
        X = fs.X(combo)
        yield "+".join(combo), (lambda idx, X=X: X[idx]), _block_sizes(fs, combo)


def _fit_one(name: str, blocks, Xtr, y_tr, v_tr, Xte, fs: FeatureSet, seed: int):
    """Fit the viral and velocity models of one head variant; return test P(viral), velocity, viral model."""
    params = {}
    if name in ("lightgbm", "mlp"):
        params = {"block_sizes": blocks, "random_state": seed}
    if name == "creator_prior":
        params = {"prior_column": fs.scalar_names.index("creator_prior")}
    if name == "mlp":
        m = create_head("mlp", task="viral", **params).fit(Xtr, y_tr, y_aux=v_tr)
        return m.predict_proba(Xte)[:, 1], m.predict_velocity(Xte), m
    clf = create_head(name, task="viral", **params).fit(Xtr, y_tr)
    reg = create_head(name, task="velocity", **params).fit(Xtr, v_tr)
    return clf.predict_proba(Xte)[:, 1], reg.predict(Xte), clf


def evaluate(store: Store, config: EvalConfig | None = None) -> EvalResult:
    from tqdm.auto import tqdm

    cfg = config or EvalConfig()
    t0 = time.perf_counter()
    records, gains, fitted, labels, feats = [], [], [], {}, {}
    jobs = [(m, s) for m in cfg.moments for s in cfg.splits]
    bar = tqdm(total=len(jobs) * len(cfg.heads), desc="eval", unit="fit", disable=None if cfg.progress else True,
               leave=False)
    for moment in cfg.moments:
        fs = build_features(store, moment, cfg.spec)
        feats[moment] = fs
        for split in cfg.splits:
            tr, te = split_indices(fs.frame, split, cfg.test_fraction, cfg.seed, cfg.purge)
            fitted_labels = cfg.spec.fit(fs.frame.iloc[tr])  # thresholds from training rows only
            lab = fitted_labels.transform(fs.frame)
            y = lab["viral"].to_numpy()
            v = fs.frame["velocity"].to_numpy()
            groups = fs.frame["creator_id"].fillna(fs.frame["video_id"]).to_numpy()
            labels[(moment, split)] = (y, v, groups)
            samples = bootstrap_samples(groups[te], cfg.n_boot, cfg.seed)
            scores: dict[tuple[str, str], Fitted] = {}
            for head in cfg.heads:
                for features, build_x, blocks in _variants(fs, head, cfg.ablations):
                    Xtr, Xte = build_x(tr), build_x(te)
                    p, vel, model = _fit_one(head, blocks, Xtr, y[tr], v[tr], Xte, fs, cfg.seed)
                    f = Fitted(head, moment, split, features, te, p, vel, model, Xte if head == "lightgbm" else None)
                    fitted.append(f)
                    scores[(head, features)] = f
                    for metric in CLASSIFICATION + REGRESSION:
                        s = p if metric in CLASSIFICATION else vel
                        target = y[te] if metric in CLASSIFICATION else v[te]
                        val, lo, hi = with_interval(metric, target, s, samples)
                        records.append({"head": head, "moment": moment, "split": split, "features": features,
                                        "metric": metric, "value": val, "ci_low": lo, "ci_high": hi, "n": int(len(te))})
                bar.update()
            for head in ("lightgbm", "mlp"):
                base = scores.get((head, "metadata"))
                for (h, features), f in scores.items():
                    if h != head or base is None or features == "metadata":
                        continue
                    for metric, a, b, target in (("auroc", f.p_viral, base.p_viral, y[te]),
                                                 ("velocity_mae", f.velocity, base.velocity, v[te])):
                        val, lo, hi = paired_gain(metric, target, a, b, samples)
                        gains.append({"head": head, "moment": moment, "split": split, "features": features,
                                      "versus": "metadata", "metric": metric, "gain": val, "ci_low": lo,
                                      "ci_high": hi, "n": int(len(te))})
    bar.close()
    return EvalResult(records, gains, fitted, labels, feats, time.perf_counter() - t0)
